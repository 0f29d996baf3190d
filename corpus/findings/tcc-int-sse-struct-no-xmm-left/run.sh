#!/bin/sh
# run.sh - tcc's callee, gcc's caller. Exit 1: the mismatch shows; 0: it does not; 77: no tcc/gcc.
cd "$(dirname "$0")" || exit 2
command -v tcc >/dev/null && command -v gcc >/dev/null || { echo "needs tcc and gcc"; exit 77; }
d=$(mktemp -d) && trap 'rm -rf "$d"' EXIT
tcc -c callee.c -o "$d/callee.o" && gcc -O1 -Wl,-z,noexecstack caller.c "$d/callee.o" -o "$d/a.out" || exit 2
"$d/a.out"
