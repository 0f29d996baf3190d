#!/bin/sh
# run.sh - libgccjit compiles (long double)x for an __int128 x. Exit 1: it crashes (the
# mismatch: gcc's C front end compiles the same cast); 0: it compiles; 77: no libgccjit.
cd "$(dirname "$0")" || exit 2
d=$(mktemp -d) && trap 'rm -rf "$d"' EXIT
gcc repro.c -o "$d/a.out" -lgccjit 2>"$d/err" || { echo "needs libgccjit-12-dev"; exit 77; }
"$d/a.out" double || exit 2 # the same cast to double compiles
"$d/a.out"
rc=$?
if [ $rc -ne 0 ]; then echo "MISMATCH: libgccjit crashed (exit $rc) compiling an __int128 -> long double cast"; exit 1; fi
exit 0
