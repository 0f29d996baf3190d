#!/bin/sh
# findings_test.sh ABIFUZZ DIR - every reproducer of corpus/findings still shows its mismatch,
# and its case still does what MANIFEST says through abifuzz's backend.
A=$1 D=$2
fail=0 n=0
backends=$("$A" --list-backends)
while read -r dir backend want; do
  case "$dir" in '#'* | '') continue ;; esac
  n=$((n + 1))
  out=$(timeout 300 sh "$D/$dir/run.sh" 2>&1)
  rc=$?
  if [ $rc -eq 77 ]; then
    echo "skip: $dir: $out"
  elif [ $rc -ne 1 ]; then
    echo "FAIL: $dir/run.sh exit $rc, want 1 (the mismatch): $out" | tail -3
    fail=$((fail + 1))
  else
    echo "ok: $dir/run.sh shows it: $(echo "$out" | tail -1)"
  fi
  if echo "$backends" | grep -E "^$backend " | grep -q "not built"; then
    echo "skip: $dir: backend $backend not built"
    continue
  fi
  timeout 300 "$A" --backend "$backend" --legs native,runner --known none --quiet "$D/$dir/case.case" \
    >/dev/null 2>&1
  rc=$?
  if [ $rc -ne "$want" ]; then
    echo "FAIL: abifuzz --backend $backend $dir/case.case: exit $rc, want $want"
    fail=$((fail + 1))
  else
    echo "ok: abifuzz --backend $backend $dir/case.case: exit $rc"
  fi
done <"$D/MANIFEST"
[ $n -gt 0 ] || { echo "FAIL: no reproducers in $D/MANIFEST"; exit 1; }
echo "findings_test: $n reproducers, $fail failed"
[ $fail -eq 0 ]
