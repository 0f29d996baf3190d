#!/bin/sh
# run.sh - libgccjit's caller, clang's callee. Exit 1: the mismatch shows; 0: it does not;
# 77: no libgccjit or clang.
cd "$(dirname "$0")" || exit 2
cc=$(command -v clang-19 || command -v clang-14 || command -v clang) || { echo "needs clang"; exit 77; }
d=$(mktemp -d) && trap 'rm -rf "$d"' EXIT
"$cc" -O1 -c callee.c -o "$d/callee.o" || exit 2
gcc repro.c "$d/callee.o" -o "$d/a.out" -lgccjit 2>"$d/err" || { echo "needs libgccjit-12-dev"; exit 77; }
"$d/a.out"
