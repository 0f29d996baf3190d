#!/bin/sh
# run.sh - libgccjit compiles get_b, gcc's code calls it. Exit 1: the mismatch shows; 0: it
# does not; 77: no libgccjit.
cd "$(dirname "$0")" || exit 2
d=$(mktemp -d) && trap 'rm -rf "$d"' EXIT
gcc repro.c -o "$d/a.out" -lgccjit 2>"$d/err" || { echo "needs libgccjit-12-dev"; exit 77; }
"$d/a.out"
