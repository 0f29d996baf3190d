#!/usr/bin/env bash
# regress_test.sh - every case of corpus/regress is still caught with its mutant (the leg and
# check of corpus/regress/MANIFEST) and passes without it.
# Usage: regress_test.sh ABIFUZZ CORPUS_DIR
set -u
af=$1
dir=$2
tmp=$(mktemp -d)
export XDG_CACHE_HOME="$tmp/cache"
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
n=0
while read -r file mutant leg check; do
  case "$file" in '#'* | '') continue ;; esac
  n=$((n + 1))
  out="$tmp/$n"
  "$af" --legs "$leg" --inject "$mutant" --timeout 1000 --out "$out" --quiet "$dir/$file" >"$tmp/log" 2>&1
  rc=$?
  if [ $rc -ne 1 ]; then
    bad "$file: with $mutant, exit $rc (want 1: a finding)"
    continue
  fi
  if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if any(b["leg"]==sys.argv[2] and b["check"]==sys.argv[3] for b in d["buckets"]) else 1)' \
    "$out/summary.json" "$leg" "$check"; then
    pass=$((pass + 1))
  else
    bad "$file: with $mutant, leg $leg did not report $check"
  fi
  if "$af" --legs "$leg" --timeout 1000 --quiet "$dir/$file" >"$tmp/log" 2>&1; then
    pass=$((pass + 1))
  else
    bad "$file: fails without the mutant: $(tail -3 "$tmp/log" | tr '\n' ' ')"
  fi
done <"$dir/MANIFEST"
[ "$n" -gt 0 ] || bad "no case in $dir/MANIFEST"
echo "$n regression cases: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
