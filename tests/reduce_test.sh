#!/usr/bin/env bash
# reduce_test.sh - abifuzz reduce on JIT mutants' first findings (callee-saved, arg, result,
# df, sret, vararg, crash, timeout): each MIN.case has at most a few functions, still fires the
# same (leg, check) with the mutant and not without it; a case that does not fire exits 2; a
# reproducer directory builds and prints the mismatch.
# Usage: reduce_test.sh PATH/TO/abifuzz
set -u
af=$1
bindir=$(cd "$(dirname "$af")" && pwd)
tmp=$(mktemp -d)
export XDG_CACHE_HOME="$tmp/cache"
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }

mutants=rbx-clobbered,stack-args-reversed,sysv-float-int-as-sse,df-left-set,sret-not-returned,w64-vararg-no-dup,jit-segv,jit-hang
"$af" mutants --time-per 10 -j 2 --legs native,runner --mutants "$mutants" --out "$tmp/m" >"$tmp/mutants.log" 2>&1
printf '%-24s %-8s %-14s %8s %8s %6s %6s\n' mutant leg check bytes min funcs insts
for m in ${mutants//,/ }; do
  d=$(ls -d "$tmp/m/$m/findings"/*/ 2>/dev/null | head -n 1)
  if [ -z "$d" ]; then bad "$m: no finding to reduce"; continue; fi
  leg=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["leg"])' "$d/report.json")
  check=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["check"])' "$d/report.json")
  "$af" reduce "$d" -o "$tmp/$m.min" --timeout 400 >"$tmp/$m.log" 2>&1
  rc=$?
  if [ $rc != 0 ]; then bad "$m: reduce exit $rc: $(tail -n 2 "$tmp/$m.log")"; continue; fi
  ok
  nf=$(grep -c '^func ' "$tmp/$m.min")
  ni=$(grep -c '^  v[0-9]* = \|^  store\|^  ret\|^  call' "$tmp/$m.min")
  printf '%-24s %-8s %-14s %8s %8s %6s %6s\n' "$m" "$leg" "$check" "$(wc -c <"$d/case.case")" \
    "$(wc -c <"$tmp/$m.min")" "$nf" "$ni"
  [ "$nf" -le 3 ] && ok || bad "$m: $nf functions left (want at most 3)"
  [ "$(wc -c <"$tmp/$m.min")" -lt "$(wc -c <"$d/case.case")" ] && ok || bad "$m: not smaller"
  grep -q '^removed: ' "$tmp/$m.log" && grep -q '^text: [0-9]* -> [0-9]* bytes' "$tmp/$m.log" && ok ||
    bad "$m: no summary of what was removed"
  # the same bucket fires on MIN.case with the mutant, and not without it
  "$af" --arch x64 --legs "$leg" --inject "$m" --timeout 400 "$tmp/$m.min" >"$tmp/$m.run" 2>&1
  grep -q "^finding: .* $leg $check " "$tmp/$m.run" && ok || bad "$m: $leg $check does not fire on MIN.case"
  "$af" --arch x64 --legs "$leg" --timeout 400 "$tmp/$m.min" >"$tmp/$m.run0" 2>&1
  grep -q "^finding: .* $leg $check " "$tmp/$m.run0" && bad "$m: fires without the mutant" || ok
done

# a case that does not fire: exit 2, one line
m=rbx-clobbered
if [ -f "$tmp/$m.min" ]; then
  "$af" reduce "$tmp/$m.min" --leg native --check callee-saved >"$tmp/out" 2>"$tmp/err"
  rc=$?
  [ $rc = 2 ] && [ "$(wc -l <"$tmp/err")" = 1 ] && grep -q '^abifuzz: ' "$tmp/err" && ok ||
    bad "not firing: exit $rc, stderr: $(cat "$tmp/err")"
  # flags instead of a finding directory; default output next to the input
  cp "$tmp/$m.min" "$tmp/in.case"
  "$af" reduce "$tmp/in.case" --leg native --check callee-saved --inject $m >"$tmp/out" 2>&1 &&
    [ -s "$tmp/min.case" ] && ok || bad "reduce FILE.case --leg --check --inject: $(tail -n 1 "$tmp/out")"
fi
"$af" reduce >/dev/null 2>"$tmp/err"; [ $? = 2 ] && ok || bad "no input: want exit 2"
"$af" reduce "$tmp/in.case" --leg no-such-leg --check x >/dev/null 2>"$tmp/err"
[ $? = 2 ] && ok || bad "unknown leg: want exit 2"

# a reproducer: builds against this build's libraries, prints the mismatch with the mutant
m=sysv-float-int-as-sse
d=$(ls -d "$tmp/m/$m/findings"/*/ 2>/dev/null | head -n 1)
if [ -n "$d" ]; then
  "$af" reduce "$d" -o "$tmp/r.min" --repro "$tmp/repro" --timeout 400 >"$tmp/out" 2>&1
  for f in case.case oracle.c caller.c main.c CMakeLists.txt build.sh; do
    [ -s "$tmp/repro/$f" ] && ok || bad "reproducer lacks $f"
  done
  sh "$tmp/repro/build.sh" -DABIFUZZ_BINARY_DIR="$bindir" >"$tmp/repro.out" 2>&1
  rc=$?
  [ $rc = 1 ] && grep -q '^mismatch: ' "$tmp/repro.out" && ok ||
    bad "reproducer: exit $rc, want 1 and a mismatch: $(tail -n 3 "$tmp/repro.out")"
  "$tmp/repro/build/repro" "$tmp/repro/case.case" "" >"$tmp/repro0.out" 2>&1
  rc=$?
  [ $rc = 0 ] && grep -qx ok "$tmp/repro0.out" && ok ||
    bad "reproducer without the mutant: exit $rc: $(tail -n 3 "$tmp/repro0.out")"
  cat "$tmp/repro.out"
fi
echo "reduce_test: $pass passed, $fail failed"
[ $fail = 0 ]
