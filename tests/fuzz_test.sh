#!/usr/bin/env bash
# fuzz_test.sh - fuzz_case under libFuzzer: finds w64-xmm-unsaved (a case abifuzz replays), runs
# clean without a mutant. Usage: fuzz_test.sh SOURCE_DIR BINARY_DIR ABIFUZZ [CLANG]
# Environment: FUZZ_TEST_MUTANT_TIME (s, default 60: the limit, the mutant is found in about a
# second), FUZZ_TEST_CLEAN_TIME (s, default 60), FUZZ_TEST_SEED (libFuzzer -seed, default 1).
set -u
src=$1 bin=$2 abifuzz=$3 clang=${4:-}
mutant_time=${FUZZ_TEST_MUTANT_TIME:-60}
clean_time=${FUZZ_TEST_CLEAN_TIME:-60}
seed=${FUZZ_TEST_SEED:-1}
fail() { echo "FAIL: $*"; exit 1; }

# clang with libFuzzer (the runtime is libclang-rt-19-dev), else skip
[ -n "$clang" ] || clang=$(command -v clang-19 || true)
[ -n "$clang" ] && [ -x "$clang" ] || { echo "SKIP: no clang"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'int LLVMFuzzerTestOneInput(const char*d,unsigned long n){(void)d;(void)n;return 0;}' |
  "$clang" -fsanitize=fuzzer -x c - -o "$work/probe" 2>/dev/null ||
  { echo "SKIP: $clang cannot link -fsanitize=fuzzer (libFuzzer missing)"; exit 77; }
command -v ninja >/dev/null || { echo "SKIP: no ninja"; exit 77; }

# the fuzz configuration, reused when present
fb=$bin/fuzz-build
if [ ! -f "$fb/build.ninja" ]; then
  cmake -S "$src" -B "$fb" -G Ninja -DCMAKE_C_COMPILER="$clang" -DAF_FUZZ=ON \
    -DCMAKE_PROJECT_INCLUDE="$src/fuzz/fuzz.cmake" >"$work/configure.log" 2>&1 ||
    { cat "$work/configure.log"; fail "configure $fb"; }
fi
ninja -C "$fb" fuzz_case >"$work/build.log" 2>&1 || { tail -30 "$work/build.log"; fail "build fuzz_case"; }
fz=$fb/fuzz_case

# seed corpus: corpus/seeds as tagged .case inputs (fuzz/README.md)
mkdir -p "$work/seeds"
for f in "$src"/corpus/seeds/*.case; do
  [ -f "$f" ] && { printf '#abifuzz-case\n'; cat "$f"; } >"$work/seeds/$(basename "$f")"
done

# 1. the XMM6-15 mutant on Win64: a crash, its input, a case file abifuzz replays
mkdir -p "$work/m" "$work/m/corpus"
cp "$work/seeds"/* "$work/m/corpus/" 2>/dev/null
t0=$(date +%s)
(cd "$work/m" && ABIFUZZ_ABI=win64 ABIFUZZ_INJECT=w64-xmm-unsaved ABIFUZZ_FINDINGS_DIR="$work/m" \
  "$fz" -seed="$seed" -max_len=65536 -max_total_time="$mutant_time" -timeout=20 corpus \
  >"$work/m/log" 2>&1)
rc=$?
echo "mutant run: exit $rc after $(($(date +%s) - t0)) s"
[ $rc -ne 0 ] || { tail -20 "$work/m/log"; fail "no crash with w64-xmm-unsaved in ${mutant_time} s"; }
grep -q '==abifuzz== .*callee-saved xmm' "$work/m/log" || { tail -30 "$work/m/log"; fail "no callee-saved xmm finding printed"; }
grep -q 'deadly signal' "$work/m/log" || fail "libFuzzer did not report a crash"
ls "$work/m"/crash-* >/dev/null 2>&1 || fail "libFuzzer saved no crash input"
case_file=$(ls "$work/m"/abifuzz-finding-*.case 2>/dev/null | head -1)
[ -n "$case_file" ] || fail "no abifuzz-finding-*.case written"
echo "finding: $(basename "$case_file")"
"$abifuzz" --quiet --inject w64-xmm-unsaved "$case_file" >"$work/replay.log" 2>&1
rc=$?
[ $rc -eq 1 ] || { cat "$work/replay.log"; fail "abifuzz --inject w64-xmm-unsaved FILE exit $rc, want 1"; }
"$abifuzz" --quiet "$case_file" >"$work/replay0.log" 2>&1
rc=$?
[ $rc -eq 0 ] || { cat "$work/replay0.log"; fail "abifuzz FILE without the mutant exit $rc, want 0"; }
# the saved input reproduces under the target itself
crash=$(ls "$work/m"/crash-* | head -1)
(cd "$work/m" && ABIFUZZ_ABI=win64 ABIFUZZ_INJECT=w64-xmm-unsaved ABIFUZZ_FINDINGS_DIR="$work/m" \
  "$fz" "$crash" >"$work/m/rerun.log" 2>&1) && fail "the saved crash input does not crash again"

# 2. no mutant, every convention: no crash for clean_time seconds
mkdir -p "$work/c" "$work/c/corpus"
cp "$work/seeds"/* "$work/c/corpus/" 2>/dev/null
(cd "$work/c" && ABIFUZZ_FINDINGS_DIR="$work/c" "$fz" -seed="$seed" -max_len=65536 \
  -max_total_time="$clean_time" -timeout=20 -print_final_stats=1 corpus >"$work/c/log" 2>&1)
rc=$?
grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "$work/c/log" | tail -2
if [ $rc -ne 0 ]; then
  grep '==abifuzz==' "$work/c/log" | head -20
  tail -30 "$work/c/log"
  for f in "$work/c"/abifuzz-finding-*.case; do [ -f "$f" ] && { echo "--- $f"; cat "$f"; }; done
  fail "fuzz_case without a mutant crashed (exit $rc)"
fi
echo "PASS"
