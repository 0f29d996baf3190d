#!/bin/bash
# abcompare.sh - two builds' perf_pipeline at the same time, one on each core, cores swapped each round.
#
# This VM's clock varies by up to a fifth from minute to minute, so two builds timed one after
# the other can differ by more than the change being measured. Run at the same time on the two
# cores, both see the same minute; swapping the cores each round cancels a difference between
# them. Prints each round's µs per case (A/B) and the ratio B/A: its median is the figure
# (doc/benchmarks.md, "Session 9"; a build against itself gives 0.97-1.03).
#
#   bench/abcompare.sh ROUNDS CASES A/tests/perf_pipeline B/tests/perf_pipeline
set -eu
if [ $# -ne 4 ]; then
  echo "usage: $0 ROUNDS CASES PERF_PIPELINE_A PERF_PIPELINE_B" >&2
  exit 2
fi
rounds=$1 cases=$2 a=$3 b=$4
for x in "$a" "$b"; do
  [ -x "$x" ] || { echo "abcompare: $x: not an executable" >&2; exit 2; }
done
command -v taskset >/dev/null || { echo "abcompare: taskset not found (util-linux)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
us() { sed -n '1s/.*(\([0-9.]*\) us.*/\1/p' "$1"; }
ratios=()
for i in $(seq "$rounds"); do
  if ((i % 2)); then ca=0 cb=1; else ca=1 cb=0; fi
  taskset -c $ca "$a" "$cases" >"$tmp/a" &
  taskset -c $cb "$b" "$cases" >"$tmp/b" &
  wait
  x=$(us "$tmp/a") y=$(us "$tmp/b")
  [ -n "$x" ] && [ -n "$y" ] || { echo "abcompare: round $i: no 'us/case' line" >&2; exit 1; }
  printf '%s/%s ' "$x" "$y"
  ratios+=("$(awk -v x="$x" -v y="$y" 'BEGIN { printf "%.4f", y / x }')")
done
echo
printf '%s\n' "${ratios[@]}" | sort -n |
  awk '{ r[NR] = $1 } END { printf "B/A time a case: median %.3f (min %.3f, max %.3f, %d rounds)\n", r[int((NR + 1) / 2)], r[1], r[NR], NR }'
