#!/usr/bin/env bash
# known_test.sh - known divergences: clang 14 under the compiler legs on constructs gcc and
# clang lower differently (--divergent) skips what gen/abi.c's table knows; a rules file labels
# the findings it matches "known" and the campaign passes, while --known none fails on them;
# a rules file that does not parse is a usage error.
# Usage: known_test.sh PATH/TO/abifuzz
set -u
af=$1
if ! command -v clang-14 >/dev/null; then
  echo "clang-14 not found: skipped"
  exit 0
fi
tmp=$(mktemp -d)
export XDG_CACHE_HOME="$tmp/cache" # the oracle stub cache stays out of $HOME
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
json() {
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2" \
    && ok || bad "$1: not true: $2"
}

# 1. constructs in gen/abi.c's divergence table never become findings of the compiler legs:
# clang 14 under --divergent (it lowers several __int128 placements differently, doc/findings.md
# 4 and 9) skips them with the divergence id as the reason
"$af" --abi sysv --divergent --cases 300 -j 2 --legs cc-caller,cc-callee --oracle-cc clang-14 \
  --quiet --out "$tmp/t" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" = 0 ] && ok || bad "divergent clang-14 campaign: exit $rc, want 0: $(tail -n 3 "$tmp/err")"
json "$tmp/t/summary.json" 'd["findings"] == 0'
json "$tmp/t/summary.json" 'any(r.startswith("sysv-i128-") for l in d["per_leg"].values() for r in l["skip_reasons"])'

# 2. a rules file labels the findings it matches "known": the campaign then passes; the same
# findings without the rules fail it. (A real mutant's findings stand in for a compiler's.)
printf '[rbx-known]\nlegs = native\ninject = rbx-clobbered\nreason = a test rule\n' >"$tmp/rbx.rules"
run() {
  "$af" --abi both --cases 20 -j 2 --legs native --inject rbx-clobbered --quiet "$@" \
    >"$tmp/out" 2>"$tmp/err"
}
run --known "$tmp/rbx.rules" --out "$tmp/k"
rc=$?
[ "$rc" = 0 ] && ok || bad "known findings only: exit $rc, want 0: $(tail -n 3 "$tmp/err")"
s=$tmp/k/summary.json
json "$s" 'd["findings"] >= 1 and d["known"] == d["findings"]'
json "$s" 'all(b["known"] == b["count"] and b["known_rule"] == "rbx-known" for b in d["buckets"])'
grep -q 'known)' "$tmp/out" && ok || bad "summary line does not count known: $(tail -n 1 "$tmp/out")"
for r in "$tmp"/k/findings/*/report.json; do
  json "$r" 'd["known"]["rule"] == "rbx-known" and d["known"]["reason"] == "a test rule"'
done

run --known none --out "$tmp/n"
rc=$?
[ "$rc" = 1 ] && ok || bad "--known none: exit $rc, want 1"
json "$tmp/n/summary.json" 'd["findings"] >= 1 and d["known"] == 0'

printf '[x]\nfrob = 1\n' >"$tmp/bad.rules"
"$af" --cases 1 --known "$tmp/bad.rules" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" = 2 ] && [ "$(wc -l <"$tmp/err")" = 1 ] && grep -q "bad.rules:2: unknown key 'frob'" "$tmp/err" && ok ||
  bad "bad rules file: exit $rc: $(cat "$tmp/err")"
"$af" --cases 1 --known "$tmp/none.rules" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" = 2 ] && ok || bad "missing --known file: exit $rc"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
