#!/usr/bin/env bash
# ci/fuzz.sh - build the libFuzzer targets (clang-19, AF_FUZZ=ON) and run both for a while.
# Environment:
#   FUZZ_TIME        seconds of fuzz_case (default 60)
#   FUZZ_PARSE_TIME  seconds of fuzz_parse (default 300: issue 7 wants 5 minutes)
#   FUZZ_JOBS        libFuzzer -jobs and -workers for fuzz_case (default 1: one process)
#   FUZZ_SEED        libFuzzer -seed (default 0: libFuzzer picks one)
#   ABIFUZZ_ABI, ABIFUZZ_INJECT   passed to fuzz_case (fuzz/README.md)
#   AF_FUZZ_BUILD_DIR  build directory (default build-fuzz); CC: the clang (default clang-19)
#   FUZZ_GEN_SEEDS   generated cases added to both seed corpora (default 32; abifuzz gen)
#   FUZZ_OUT         where crashes and abifuzz-finding-*.case files go (default $build/fuzz-out)
# The corpora persist in $build/corpus-case and $build/corpus-parse (seeded from corpus/seeds).
# Exit: 0 when neither target crashed, 1 when one did (its input and case are in FUZZ_OUT).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${AF_FUZZ_BUILD_DIR:-build-fuzz}
cc=${CC:-clang-19}
case "$cc" in *clang*) ;; *) cc=clang-19 ;; esac
fuzz_time=${FUZZ_TIME:-60}
parse_time=${FUZZ_PARSE_TIME:-300}
jobs=${FUZZ_JOBS:-1}
seed=${FUZZ_SEED:-0}
out=${FUZZ_OUT:-$build/fuzz-out}

cmake -S . -B "$build" -G Ninja -DCMAKE_C_COMPILER="$cc" -DAF_FUZZ=ON \
  -DCMAKE_PROJECT_INCLUDE="$root/fuzz/fuzz.cmake" >/dev/null
cmake --build "$build" --target fuzz_case fuzz_parse
gen_seeds=${FUZZ_GEN_SEEDS:-32}
cmake --build "$build" --target abifuzz >/dev/null 2>&1 || gen_seeds=0 # only for the seeds

mkdir -p "$build/corpus-case" "$build/corpus-parse" "$out"
build=$(cd "$build" && pwd)
out=$(cd "$out" && pwd)
for f in corpus/seeds/*.case; do
  [ -f "$f" ] || continue
  { printf '#abifuzz-case\n'; cat "$f"; } >"$build/corpus-case/seed-$(basename "$f")"
  cp "$f" "$build/corpus-parse/seed-$(basename "$f")"
done
# plus FUZZ_GEN_SEEDS (default 32) generated cases, half of each convention, with _Float16 and
# the divergent constructs, so both targets start from every construct of the generator
for ((i = 0; i < gen_seeds; i++)); do
  abi=sysv
  [ $((i % 2)) -eq 1 ] && abi=win64
  g=$build/corpus-parse/gen-$i.case
  [ -f "$g" ] || "$build/abifuzz" gen --seed 7 --index "$i" --abi "$abi" --f16 --divergent -o "$g" ||
    { rm -f "$g"; continue; }
  [ -f "$build/corpus-case/gen-$i" ] || { printf '#abifuzz-case\n'; cat "$g"; } >"$build/corpus-case/gen-$i"
done

status=0
par=()
[ "$jobs" -gt 1 ] && par=(-jobs="$jobs" -workers="$jobs")
echo "== fuzz_case: ${fuzz_time} s, jobs $jobs, abi ${ABIFUZZ_ABI:-from the bytes}, mutant ${ABIFUZZ_INJECT:-none}"
(cd "$out" && ABIFUZZ_FINDINGS_DIR="$out" "$build/fuzz_case" -seed="$seed" -max_len=65536 \
  -timeout=20 -max_total_time="$fuzz_time" -print_final_stats=1 -artifact_prefix="$out/" \
  "${par[@]}" "$build/corpus-case") || status=1

echo "== fuzz_parse (ASan+UBSan): ${parse_time} s"
(cd "$out" && "$build/fuzz_parse" -seed="$seed" -max_len=65536 -max_total_time="$parse_time" \
  -print_final_stats=1 -artifact_prefix="$out/parse-" "$build/corpus-parse") || status=1

ls "$out" | grep -E '^(crash|parse-crash|abifuzz-finding)' || true
exit $status
