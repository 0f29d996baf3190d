#!/usr/bin/env bash
# campaign_test.sh - the campaign end to end: exit codes, --list-legs, summary.json, -j,
# crash isolation (a crashing mutant), findings directories that replay, internal errors,
# --shard and --resume (after a SIGKILL).
# Usage: campaign_test.sh PATH/TO/abifuzz
set -u
af=$1
tmp=$(mktemp -d)
export XDG_CACHE_HOME="$tmp/cache" # the oracle stub cache stays out of $HOME
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }

# expect CODE CMD... : exit code CODE; on exit 2, exactly one "abifuzz: " line on stderr
expect() {
  local want=$1; shift
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ "$got" != "$want" ]; then
    bad "exit $got, want $want: $*"
    head -n 5 "$tmp/err" >&2
    tail -n 6 "$tmp/out" >&2 # a campaign's summary: which legs failed, crashes, timeouts
    return 1
  fi
  if [ "$want" = 2 ]; then
    local n; n=$(wc -l <"$tmp/err")
    if [ "$n" != 1 ]; then bad "want one error line, got $n: $*"; cat "$tmp/err" >&2; return 1; fi
    if ! grep -q '^abifuzz: ' "$tmp/err"; then bad "error not prefixed: $*"; return 1; fi
  fi
  ok
}

# json FILE PYTHON-EXPR : the expression over the parsed file `d` is true
json() {
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2" \
    && ok || bad "$1: not true: $2"
}

# ---- the legs --------------------------------------------------------------------------
expect 0 "$af" --list-legs
cp "$tmp/out" "$tmp/legs"
grep -qx runner "$tmp/legs" && ok || bad "--list-legs lacks runner: $(tr '\n' ' ' <"$tmp/legs")"
[ "$(grep -cvE '^[a-z0-9-]+$' "$tmp/legs")" = 0 ] && ok || bad "--list-legs: not one name a line"
expect 0 "$af" --list-legs --verbose
[ "$(wc -l <"$tmp/out")" = "$(wc -l <"$tmp/legs")" ] && ok || bad "--list-legs --verbose line count"
grep -qE '^runner +[^ ].+' "$tmp/out" && ok || bad "--list-legs --verbose lacks descriptions"
legs=runner
grep -qx native "$tmp/legs" && legs=runner,native

# ---- usage errors: exit 2, one line ------------------------------------------------------
expect 2 "$af" --no-such-flag
expect 2 "$af" --arch arm64
[ "$(cat "$tmp/err")" = "abifuzz: --arch arm64: not supported (only x64)" ] && ok ||
  bad "--arch arm64 message: $(cat "$tmp/err")"
expect 2 "$af" --abi mips
expect 2 "$af" --cases banana
expect 2 "$af" --cases 0
expect 2 "$af" --time -3
expect 2 "$af" -j 0
expect 2 "$af" --timeout soon
expect 2 "$af" --legs runner,no-such-leg
expect 2 "$af" --inject no-such-mutant
expect 2 "$af" --oracle-cc /nonexistent/cc
expect 2 "$af" --cases

# ---- a clean campaign: exit 0, summary.json with its keys ---------------------------------
expect 0 "$af" --arch x64 --abi both --cases 200 -j 2 --legs "$legs" --out "$tmp/clean" --quiet
s=$tmp/clean/summary.json
json "$s" 'all(k in d for k in ["cases","findings","buckets","elapsed_s","cases_per_s","per_leg","crashes","timeouts","seed","abi","inject","legs","version","internal_errors"])'
json "$s" 'd["cases"] == 200 and d["findings"] == 0 and d["buckets"] == [] and d["done"]'
json "$s" 'd["cases_by_abi"] == {"sysv": 100, "win64": 100} and d["abi"] == "both"'
json "$s" 'd["per_leg"]["runner"]["ran"] + d["per_leg"]["runner"]["skip"] == 200'
json "$s" 'all(k in d["per_leg"]["runner"] for k in ["ran","pass","fail","skip","skip_reasons"])'
json "$s" 'd["inject"] is None and sorted(d["legs"]) == sorted("'"$legs"'".split(",")) and d["jobs"] == 2'
[ ! -d "$tmp/clean/findings" ] && ok || bad "a clean campaign wrote findings"
grep -q '200 cases, 0 findings' "$tmp/out" && ok || bad "summary line: $(tail -n 1 "$tmp/out")"

# one worker and two give the same verdicts (the work is split, not changed)
expect 0 "$af" --abi win64 --cases 100 -j 1 --legs "$legs" --out "$tmp/j1" --quiet
json "$tmp/j1/summary.json" 'd["cases"] == 100 and d["cases_by_abi"]["win64"] == 100'

# --time alone: runs about that long, as many cases as fit
start=$(date +%s)
expect 0 "$af" --abi sysv --time 2 -j 2 --legs "$legs" --out "$tmp/timed" --quiet
took=$(($(date +%s) - start))
[ "$took" -ge 1 ] && [ "$took" -le 10 ] && ok || bad "--time 2 took $took s"
json "$tmp/timed/summary.json" 'd["cases"] > 0 and d["elapsed_s"] >= 1.5'

# ---- a mutant that crashes or hangs: findings, and the campaign goes on ----------------------
expect 1 "$af" --abi both --cases 12 -j 2 --legs "$legs" --inject rbp-not-restored --timeout 400 \
  --out "$tmp/crash" --quiet
s=$tmp/crash/summary.json
json "$s" 'd["cases"] == 12 and d["findings"] >= 1 and d["inject"] == "rbp-not-restored"'
json "$s" 'd["crashes"] + d["timeouts"] >= 1 and d["internal_errors"] == 0'
json "$s" 'sum(b["count"] for b in d["buckets"]) == d["findings"]'
json "$s" 'all(b["first_finding"] and b["first_s"] >= 0 for b in d["buckets"])'
# buckets keyed on (leg, check, abi, shape), each with its smallest case kept on disk
json "$s" 'all(b["key"] == "%s/%s/%s: %s" % (b["leg"], b["check"], b["abi"], b["shape"]) for b in d["buckets"])'
json "$s" 'len(set(b["key"] for b in d["buckets"])) == len(d["buckets"]) and d["known"] == 0'
json "$s" 'all(b["smallest"]["size"] > 0 and b["smallest"]["finding"] and b["known"] == 0 for b in d["buckets"])'
for b in $(python3 -c 'import json,sys; print(" ".join(b["smallest"]["finding"] for b in json.load(open(sys.argv[1]))["buckets"]))' "$s"); do
  [ "$(wc -c <"$tmp/crash/findings/$b/case.case")" = "$(python3 -c 'import json,sys; print([b["smallest"]["size"] for b in json.load(open(sys.argv[1]))["buckets"] if b["smallest"]["finding"] == sys.argv[2]][0])' "$s" "$b")" ] && ok || bad "smallest $b: size differs"
done
n=0
for dir in "$tmp"/crash/findings/*/; do
  [ -f "$dir/case.case" ] && [ -f "$dir/report.json" ] || { bad "$dir: missing files"; continue; }
  json "$dir/report.json" 'd["check"] in ("crash","timeout","result","objects","checksum","callee-saved","rsp") and d["leg"] and "index" in d and d["inject"] == "rbp-not-restored"'
  json "$dir/report.json" 'd["check"] != "crash" or (d["crash"]["signal"].startswith("SIG") and "rip" in d["crash"])'
  # triage: the bucket and shape, not known, and once the case's legs are done, the consensus
  json "$dir/report.json" 'd["bucket"].startswith(d["leg"] + "/" + d["check"] + "/" + d["abi"] + ": ") and d["bucket"].endswith(d["shape"]) and d["known"] is None'
  json "$dir/report.json" 'd["leg"] in [f["leg"] for f in d["consensus"]["fail"]] and all(k in d["consensus"] for k in ["pass","fail","skip","missing","agree","outlier"])'
  
  "$af" interp "$dir/case.case" >"$tmp/replay" 2>&1 && ok || bad "replay $dir: $(tail -n 1 "$tmp/replay")"
  n=$((n + 1))
done
[ "$n" -ge 1 ] && ok || bad "no finding directory"
ls -a "$tmp/crash/findings" | grep -q '^\.tmp' && bad "temporary finding directory left" || ok

# the JIT's own crash and hang mutants: every case a crash / a timeout, each located in JIT code
expect 1 "$af" --abi both --cases 6 -j 2 --legs runner --inject jit-segv --out "$tmp/segv" --quiet
json "$tmp/segv/summary.json" 'd["cases"] == 6 and d["crashes"] == 6 and d["timeouts"] == 0'
json "$tmp/segv/summary.json" 'd["per_leg"]["runner"]["crash"] == 6 and d["worker_restarts"] >= 6'
for r in "$tmp"/segv/findings/*/report.json; do
  json "$r" 'd["check"] == "crash" and d["crash"]["signal"] == "SIGSEGV" and d["crash"]["rip_in_jit"] == 1'
  json "$r" 'd["consensus"]["outlier"] == "jit"'
done
# one bug, one bucket per convention: every crash has the same shape
json "$tmp/segv/summary.json" 'sorted(b["key"] for b in d["buckets"]) == ["runner/crash/sysv: SIGSEGV, rip in JIT code", "runner/crash/win64: SIGSEGV, rip in JIT code"]'
json "$tmp/segv/summary.json" 'sum(b["count"] for b in d["buckets"]) == 6 and all(b["written"] == 3 for b in d["buckets"])'

# a leg that crashes does not take the case from the legs after it: the restarted worker runs
# the same case from the next leg on (and counts it once)
if grep -qx native "$tmp/legs"; then
  expect 1 "$af" --abi both --cases 4 -j 2 --legs native,runner --inject jit-segv --out "$tmp/resume" --quiet
  json "$tmp/resume/summary.json" 'd["cases"] == 4 and d["per_leg"]["native"]["crash"] == 4 and d["per_leg"]["runner"]["crash"] == 4'
fi
expect 1 "$af" --abi both --cases 4 -j 2 --legs runner --inject jit-hang --timeout 300 --out "$tmp/hang" --quiet
json "$tmp/hang/summary.json" 'd["cases"] == 4 and d["timeouts"] == 4 and d["crashes"] == 0'
json "$tmp/hang/summary.json" 'all(b["shape"] == "hang, rip in JIT code" for b in d["buckets"]) and len(d["buckets"]) == 2'
for r in "$tmp"/hang/findings/*/report.json; do
  json "$r" 'd["check"] == "timeout" and d["crash"]["rip_in_jit"] == 1'
done

# without --out: one line per finding on stdout
expect 1 "$af" --abi sysv --cases 4 --legs runner --inject rbp-not-restored --timeout 300 --quiet
[ "$(grep -c '^finding: seed 1 index [0-3] (sysv) runner ' "$tmp/out")" -ge 1 ] && ok ||
  bad "no finding line on stdout"

# ---- an internal error (the worker dies outside any leg): reported, survived, exit 3 ---------
ABIFUZZ_TEST_WORKER_ABORT=5 "$af" --abi both --cases 40 -j 2 --legs "$legs" --out "$tmp/internal" \
  --quiet >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" = 3 ] && ok || bad "internal error: exit $rc, want 3"
grep -q 'internal error.*case 5' "$tmp/err" && ok || bad "internal error not on stderr: $(cat "$tmp/err")"
json "$tmp/internal/summary.json" 'd["internal_errors"] == 1 and d["cases"] == 40 and d["findings"] == 0'

# ---- --shard K/N: disjoint blocks whose union is the whole campaign ------------------------------
expect 2 "$af" --shard 0/2 --cases 4
expect 2 "$af" --shard 3/2 --cases 4
expect 2 "$af" --shard 1 --cases 4
for k in 1 2 3; do
  "$af" --abi both --cases 300 -j 2 --legs runner --inject rbx-clobbered --shard $k/3 \
    --out "$tmp/shard$k" --quiet >/dev/null 2>&1
  json "$tmp/shard$k/summary.json" "d['shard'] == {'k': $k, 'n': 3, 'block': 64} and d['findings'] > 0"
  ls "$tmp/shard$k/findings" | sed -E 's/^1-([0-9]+)-.*/\1/' | sort -un >"$tmp/idx$k"
done
# blocks of 64: shard 1 has 0-63 and 192-255, shard 2 64-127 and 256-299, shard 3 128-191
python3 - "$tmp" <<'PY' && ok || bad "--shard: cases or finding indices not disjoint / not the whole"
import json, sys
t = sys.argv[1]
cases = [json.load(open(f"{t}/shard{k}/summary.json"))["cases"] for k in (1, 2, 3)]
assert cases == [128, 108, 64], cases
for k in (1, 2, 3):
    for line in open(f"{t}/idx{k}"):
        assert (int(line) // 64) % 3 == k - 1, (k, line)
PY
expect 0 "$af" report "$tmp/shard1" "$tmp/shard2" "$tmp/shard3" -o "$tmp/shardrep"
grep -q '300 cases' "$tmp/shardrep/report.md" && ok || bad "report of the 3 shards: not 300 cases"

# ---- resume: SIGKILL a campaign, --resume it: no finding lost, the case count adds up ----------
"$af" --abi both --cases 2500 -j 2 --legs runner --inject rbx-clobbered --out "$tmp/res" \
  --quiet >/dev/null 2>&1 &
pid=$!
sleep 3
kill -KILL $pid
wait $pid 2>/dev/null
sleep 0.3 # the workers see their pipe close and exit
[ -f "$tmp/res/campaign.state" ] && ok || bad "no campaign.state after 3 s"
ls "$tmp/res/findings" >"$tmp/res-before"
[ -s "$tmp/res-before" ] && ok || bad "no finding before the kill"
json "$tmp/res/summary.json" 'd["done"] == False and 0 < d["cases"] < 2500'
expect 2 "$af" --resume "$tmp/res" --cases 5
expect 2 "$af" --resume "$tmp/nowhere"
expect 1 "$af" --resume "$tmp/res" --quiet
json "$tmp/res/summary.json" 'd["done"] and d["resumed"] and d["cases"] == 2500 and d["inject"] == "rbx-clobbered"'
[ -z "$(ls "$tmp/res/findings" | comm -23 "$tmp/res-before" -)" ] && ok || bad "findings lost by the resume"
# the same campaign without the kill: same buckets
"$af" --abi both --cases 2500 -j 2 --legs runner --inject rbx-clobbered --out "$tmp/nores" \
  --quiet >/dev/null 2>&1
python3 - "$tmp" <<'PY' && ok || bad "resumed campaign: other buckets than the uninterrupted one"
import json, sys
t = sys.argv[1]
a = json.load(open(f"{t}/res/summary.json")); b = json.load(open(f"{t}/nores/summary.json"))
ka = {x["key"] for x in a["buckets"]}; kb = {x["key"] for x in b["buckets"]}
assert len(ka ^ kb) <= 3, (ka ^ kb)  # crashes make a few findings nondeterministic
assert abs(a["findings"] - b["findings"]) <= 0.02 * b["findings"] + 5, (a["findings"], b["findings"])
PY
expect 2 "$af" --resume "$tmp/res" # complete: nothing to resume

# ---- ci/nightly.sh in a very short configuration: a new bucket fails it, a known one does not --
nightly=$(dirname "$0")/../ci/nightly.sh
ABIFUZZ=$af ABIS=sysv DURATION=2 JOBS=2 EXTRA="--legs runner,native" INJECT=rbx-clobbered REDUCE_MAX=1 REDUCE_TIMEOUT=30 \
  OUT_DIR="$tmp/n1" bash "$nightly" >"$tmp/n1.out" 2>"$tmp/n1.err"
rc=$?
[ "$rc" = 1 ] && ok || bad "nightly with a mutant: exit $rc, want 1: $(tail -n 3 "$tmp/n1.err")"
grep -q '^NEW BUCKET: native/callee-saved/sysv: rbx clobbered' "$tmp/n1.out" && ok ||
  bad "nightly: no new rbx bucket: $(head -n 3 "$tmp/n1.out")"
for f in report/report.md report/report.html report/junit.xml report/findings.sarif summary.json; do
  [ -s "$tmp/n1/$f" ] && ok || bad "nightly: no $f"
done
ls "$tmp"/n1/reduced/sysv/*.case >/dev/null 2>&1 && ok || bad "nightly: nothing reduced"
# the same buckets the next night (PREVIOUS has all of them: a clean JIT has none) -> exit 0
ABIFUZZ=$af ABIS=sysv DURATION=2 JOBS=2 EXTRA="--legs runner,native" REDUCE_MAX=0 PREVIOUS="$tmp/n1" OUT_DIR="$tmp/n2" \
  bash "$nightly" >"$tmp/n2.out" 2>"$tmp/n2.err"
rc=$?
[ "$rc" = 0 ] && ok || bad "nightly without new buckets: exit $rc, want 0: $(cat "$tmp/n2.out")"
grep -q ', 0 new, [1-9][0-9]* gone' "$tmp/n2.out" && ok || bad "nightly: gone buckets not listed: $(cat "$tmp/n2.out")"

# a case read from a file is named by its path (report.json "case_file", the stdout line),
# while seed and index stay the run's (replay derives the garbage patterns from them)
"$af" gen --seed 5 --index 2 --abi sysv >"$tmp/file5.case" 2>/dev/null || bad "gen for the case file"
"$af" --arch x64 --legs native --inject rbx-clobbered --quiet --out "$tmp/cf" "$tmp/file5.case" \
  >/dev/null 2>&1
d=$(ls -d "$tmp"/cf/findings/*/ 2>/dev/null | head -n 1)
if [ -n "$d" ]; then json "$d/report.json" "d.get('case_file') == '$tmp/file5.case' and d['index'] == 0"
else bad "case file: no finding directory"; fi
"$af" --arch x64 --legs native --inject rbx-clobbered "$tmp/file5.case" >"$tmp/cf.out" 2>&1
grep -q "^finding: case file $tmp/file5.case (sysv) native callee-saved" "$tmp/cf.out" && ok ||
  bad "case file: the finding line does not name the file: $(grep -m1 '^finding' "$tmp/cf.out")"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
