#!/bin/sh
# run.sh - gcc's callee (returns struct { long double } in ST0), tcc's caller. Exit 1: the
# mismatch shows; 0: it does not; 77: no tcc/gcc.
cd "$(dirname "$0")" || exit 2
command -v tcc >/dev/null && command -v gcc >/dev/null || { echo "needs tcc and gcc"; exit 77; }
d=$(mktemp -d) && trap 'rm -rf "$d"' EXIT
gcc -O1 -c callee.c -o "$d/callee.o" && tcc caller.c "$d/callee.o" -o "$d/a.out" || exit 2
"$d/a.out"
