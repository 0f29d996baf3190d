#!/usr/bin/env bash
# test_bench.sh - abifuzz bench end to end with short stages: exit 0, every stage row, the ratio
# line, JSON with the documented fields and positive rates; bad flags exit 2 with one line.
# Never asserts a speed. Usage: test_bench.sh PATH/TO/abifuzz [CLANG]
set -u
af=$1
cc=${2:-}
tmp=$(mktemp -d)
export XDG_CACHE_HOME="$tmp/cache" # the e2e campaign's stub cache stays out of $HOME
export TMPDIR="$tmp"
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }

# expect CODE CMD... : exit code CODE; on exit 2, exactly one "abifuzz: " line on stderr
expect() {
  local want=$1; shift
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ "$got" != "$want" ]; then bad "exit $got, want $want: $*"; head -n 20 "$tmp/err" "$tmp/out" >&2; return 1; fi
  if [ "$want" = 2 ]; then
    local n; n=$(wc -l <"$tmp/err")
    if [ "$n" != 1 ]; then bad "want one error line, got $n: $*"; cat "$tmp/err" >&2; return 1; fi
    grep -q '^abifuzz: ' "$tmp/err" || { bad "error not prefixed: $*"; return 1; }
  fi
  ok
}

# ---- usage errors -------------------------------------------------------------------------
expect 2 "$af" bench --no-such-flag
expect 2 "$af" bench --time 0
expect 2 "$af" bench --time banana
expect 2 "$af" bench --time
expect 2 "$af" bench --abi mips
expect 2 "$af" bench --seed -1
expect 2 "$af" bench --legs native,no-such-leg
expect 2 "$af" bench --oracle-cc /nonexistent/cc
expect 2 "$af" bench --pool 0
expect 2 "$af" bench stray-argument
expect 0 "$af" bench --help
grep -q '^usage: abifuzz bench' "$tmp/out" && ok || bad "bench --help: no usage line"
"$af" --help | grep -q '^  bench ' && ok || bad "abifuzz --help does not list bench"

# ---- a short run --------------------------------------------------------------------------
# Every leg stage but the compiler ones always; with a compiler: cc-caller (warm and cold) and
# the baseline (not c-oracle: its first batch of 100 cases takes clang 10-40 s). A small pool
# keeps the set-up short.
legs=native,garbage,runner,ffi-caller,ffi-callee,emu
rows="gen interp jit native garbage runner ffi-caller ffi-callee emu pipeline pipeline+emu e2e-j1 e2e-j2 baseline"
if [ -n "$cc" ]; then
  legs=$legs,cc-caller
  rows="$rows cc-caller-warm cc-caller-cold"
  ccopt=(--oracle-cc "$cc")
else
  ccopt=()
fi
expect 0 "$af" bench --time 0.2 --pool 256 --legs "$legs" "${ccopt[@]}" --json "$tmp/b.json"
cp "$tmp/out" "$tmp/table"
for r in $rows; do
  grep -qE "^$(printf '%s' "$r" | sed 's/+/\\+/g') " "$tmp/table" && ok || bad "no row for stage $r"
done
grep -q '^stage .*cases/s' "$tmp/table" && ok || bad "no table header"
n=$(grep -c '^ratio vs compile-per-case baseline: ' "$tmp/table")
[ "$n" = 2 ] && ok || bad "want 2 ratio lines (pipeline, end-to-end), got $n"
if [ -n "$cc" ]; then
  grep -qE '^ratio vs compile-per-case baseline: [0-9]+\.[0-9]x \(pipeline [0-9.]+ cases/s / baseline [0-9.]+ cases/s\)$' "$tmp/table" \
    && ok || bad "ratio line format: $(grep '^ratio' "$tmp/table" | head -n 1)"
fi
python3 -m json.tool "$tmp/b.json" >/dev/null && ok || bad "JSON does not parse"

# json EXPR : the expression over the parsed file `d` is true
json() {
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$tmp/b.json" "$1" \
    && ok || bad "b.json: not true: $1"
}
json 'd["version"] == 1 and d["abifuzz"]["version"] and "git" in d["abifuzz"]'
json 'd["host"]["cores"] >= 1 and isinstance(d["host"]["cpu"], str) and "load1" in d["host"]'
json 'd["options"]["abi"] == "both" and abs(d["options"]["time_s"] - 0.2) < 1e-9 and d["options"]["seed"] == 1'
json 'all(k in s for s in d["stages"] + d["e2e"] for k in ("name","status","cases","seconds","cases_per_s","us_per_case","cpu_s","cpu_us_per_case","fails","skips","pending","note"))'
json 'set(s["status"] for s in d["stages"]) <= {"ok","off","crashed","error"}'
for r in gen interp jit native garbage runner ffi-caller ffi-callee pipeline; do
  json "[s for s in d['stages'] if s['name'] == '$r' and s['status'] == 'ok' and s['cases'] > 0 and s['cases_per_s'] > 0 and s['us_per_case'] > 0 and s['cpu_s'] > 0]"
done
json 'all(s["cases_per_s"] > 0 for s in d["stages"] if s["status"] == "ok" and s["cases"] > 0)'
json '[e["jobs"] for e in d["e2e"]] == [1, 2] and all(e["status"] == "ok" and e["cases_per_s"] > 0 for e in d["e2e"])'
json 'all(s["fails"] == 0 for s in d["stages"] + d["e2e"])'
if [ -n "$cc" ]; then
  json 'd["baseline"]["status"] == "ok" and d["baseline"]["cases"] >= 3 and d["baseline"]["cases_per_s"] > 0 and d["baseline"]["fails"] == 0'
  json 'd["ratio"]["pipeline"] > 0 and d["ratio"]["e2e_j1"] > 0 and d["ratio"]["pipeline_cpu"] > 0'
  json 'd["baseline"]["cpu_s"] > 0 and d["options"]["baseline_cc"]'
  json '[s for s in d["stages"] if s["name"] == "cc-caller-warm" and s["status"] == "ok" and s["cases"] > 0]'
else
  # no compiler given: the build's default clang (none when configured without one)
  json 'd["baseline"]["status"] in ("ok", "off") and (d["ratio"]["pipeline"] is None) == (d["baseline"]["status"] == "off")'
fi

# --json - : JSON alone on stdout (the table on stderr); --no-baseline, --no-e2e
expect 0 "$af" bench --time 0.05 --pool 32 --legs runner --abi win64 --no-baseline --no-e2e --json -
python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d["options"]["abi"] == "win64" and d["baseline"] is None and d["e2e"] == [] and d["ratio"]["pipeline"] is None else 1)' <"$tmp/out" \
  && ok || bad "--json -: stdout is not the JSON alone"
grep -q '^ratio vs compile-per-case baseline: n/a' "$tmp/err" && ok || bad "--no-baseline: no n/a ratio line on stderr"
grep -q '^runner ' "$tmp/err" && ok || bad "--json -: the table is not on stderr"
[ -z "$(ls -A "$tmp" | grep abifuzz-bench)" ] && ok || bad "bench left its temporary directory"

# a stage that dies is a "crashed" row; the others still run; exit 1
ABIFUZZ_TEST_BENCH_CRASH=runner "$af" bench --time 0.05 --pool 32 --legs native,runner --no-baseline --no-e2e >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" = 1 ] && ok || bad "a crashed stage: exit $rc, want 1"
grep -qE '^runner +- .*crashed: SIGSEGV' "$tmp/out" && ok || bad "no crashed row for runner: $(grep '^runner' "$tmp/out")"
grep -qE '^pipeline +[0-9]+ ' "$tmp/out" && ok || bad "the stages after a crash did not run"

# ci/bench.sh: the history grows a line a run, the second run compares with the first, and a
# threshold every stage exceeds is a regression (exit 1 with FAIL_ON_REGRESSION=1)
src=$(cd "$(dirname "$0")/.." && pwd)
cb() { ABIFUZZ="$af" OUT_DIR="$tmp/cb" TIME=0.05 EXTRA="--no-baseline --no-e2e --legs native --pool 32" "$src/ci/bench.sh" "$@"; }
cb >"$tmp/out" 2>&1 && ok || bad "ci/bench.sh: exit $?"
cb >"$tmp/out" 2>&1 && ok || bad "ci/bench.sh (2nd): exit $?"
[ "$(wc -l <"$tmp/cb/history.jsonl")" = 2 ] && ok || bad "ci/bench.sh: history has not 2 lines"
grep -q 'over 1 earlier runs' "$tmp/out" && ok || bad "ci/bench.sh: the 2nd run compared with no earlier run"
THRESHOLD=-100 FAIL_ON_REGRESSION=1 cb >"$tmp/out" 2>&1
rc=$?
[ "$rc" = 1 ] && grep -q 'REGRESSION' "$tmp/out" && ok || bad "ci/bench.sh: a regression: exit $rc, want 1"
ABIFUZZ=/nonexistent "$src/ci/bench.sh" >/dev/null 2>&1
rc=$?
[ "$rc" = 2 ] && ok || bad "ci/bench.sh without abifuzz: exit $rc, want 2"

echo "test_bench: $pass passed, $fail failed"
[ "$fail" = 0 ]
