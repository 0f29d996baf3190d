#!/usr/bin/env bash
# cli_jit_test.sh - `abifuzz jit`: errors, --disasm, and --run's checksum line against interp.
# Usage: cli_jit_test.sh PATH/TO/abifuzz HAVE_CAPSTONE(0|1) SOURCE_DIR
set -u
af=$1
capstone=${2:-0}
src=${3:-$(dirname "$0")/..}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }

# expect CODE CMD... : exit code CODE; on a non-zero code, exactly one "abifuzz: " line on stderr
expect() {
  local want=$1; shift
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ "$got" != "$want" ]; then bad "exit $got, want $want: $*"; cat "$tmp/err" >&2; return; fi
  if [ "$want" != 0 ]; then
    if [ "$(wc -l <"$tmp/err")" != 1 ] || ! grep -q '^abifuzz: ' "$tmp/err"; then
      bad "want one 'abifuzz: ' error line: $*"; cat "$tmp/err" >&2; return
    fi
  fi
  ok
}

expect 0 "$af" jit --help
expect 2 "$af" jit
expect 2 "$af" jit --bogus x.case
expect 2 "$af" jit "$tmp/missing.case"
printf 'this is not a case\n' >"$tmp/bad.case"
expect 2 "$af" jit "$tmp/bad.case"
expect 2 "$af" jit "$src/corpus/seeds/minimal.case" extra

seed=$src/corpus/seeds/win64-locals.case
expect 0 "$af" jit "$seed"
grep -q '^  abifuzz_f0 \[' "$tmp/out" && ok || bad "jit: no abifuzz_f0 line"
if [ "$capstone" = 1 ]; then
  expect 0 "$af" jit --disasm "$seed"
  grep -q 'push *rbp' "$tmp/out" && ok || bad "--disasm: no push rbp"
  grep -q 'frame: ' "$tmp/out" && ok || bad "--disasm: no frame"
  grep -q '^runner thunk' "$tmp/out" && ok || bad "--disasm: no runner"
  grep -q 'call .*\[r11\]  ; table slot -> abifuzz_f1$' "$tmp/out" && ok || bad "--disasm: call f1 not named"
else
  expect 2 "$af" jit --disasm "$seed"
fi

# --run's last line is interp's: the seeds, then generated cases of both conventions
n=0
for f in "$src"/corpus/seeds/*.case; do cp "$f" "$tmp/c$n.case"; n=$((n + 1)); done
for abi in sysv win64; do
  for i in 0 1 2 3 4 5 6 7; do
    "$af" gen --seed 11 --index $i --abi $abi >"$tmp/c$n.case" 2>/dev/null && n=$((n + 1))
  done
done
same=0
for ((k = 0; k < n; k++)); do
  "$af" interp "$tmp/c$k.case" >"$tmp/interp" 2>/dev/null || continue # interp rejects it
  want=$(tail -1 "$tmp/interp")
  # as written, then moved to each convention (--abi): the same bodies, the same checksum
  for abi in "" sysv win64; do
    "$af" jit --run ${abi:+--abi $abi} "$tmp/c$k.case" >"$tmp/jit" 2>"$tmp/err"
    rc=$?
    got=$(tail -1 "$tmp/jit")
    if [ "$rc" != 0 ]; then bad "c$k ${abi:-as written}: jit exit $rc: $(cat "$tmp/err")"; continue; fi
    if [ "$got" = "$want" ]; then same=$((same + 1)); else bad "c$k ${abi:-}: jit '$got' != interp '$want'"; fi
  done
done
[ "$same" -gt 0 ] && ok || bad "no case compared"
echo "jit --run == interp on $same cases"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
