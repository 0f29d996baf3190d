#!/bin/sh
# run.sh - compiled whole by tcc (gcc and clang print ok). Exit 1: the mismatch shows; 0: it
# does not; 77: no tcc.
cd "$(dirname "$0")" || exit 2
command -v tcc >/dev/null || { echo "needs tcc"; exit 77; }
d=$(mktemp -d) && trap 'rm -rf "$d"' EXIT
tcc repro.c -o "$d/a.out" || exit 2
"$d/a.out"
