#!/bin/sh
# run.sh - repro.c is the reproducer libgccjit wrote itself (gcc_jit_context_dump_reproducer_to_file)
# for case.case, without -fno-tree-sra. Exit 1: the internal compiler error shows (the process
# exits 4); 0: it compiles; 77: no libgccjit.
cd "$(dirname "$0")" || exit 2
d=$(mktemp -d) && trap 'rm -rf "$d"' EXIT
gcc -w repro.c -o "$d/a.out" -lgccjit 2>"$d/err" || { echo "needs libgccjit-12-dev"; exit 77; }
"$d/a.out" >"$d/out" 2>&1
rc=$?
grep -m1 -i "internal compiler error" "$d/out"
if [ $rc -eq 4 ] || grep -qi "internal compiler error" "$d/out"; then
  echo "MISMATCH: libgccjit died (exit $rc) where gcc's C front end compiles the same code"
  exit 1
fi
echo "ok: compiled (exit $rc)"
exit 0
