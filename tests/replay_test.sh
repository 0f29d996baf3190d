#!/usr/bin/env bash
# replay_test.sh - abifuzz replay on JIT mutants' findings: the output names the report's leg,
# check and register / argument, shows the probed values and registers and the disassembly,
# exits 1; without the mutant the same case exits 0; a crash prints the signal and "in JIT
# code"; a hang is stopped by --timeout; bad input exits 2 with one line; --pause-on-crash
# prints the gdb command; --gdb (when gdb is installed) names the JIT function in bt.
# Usage: replay_test.sh PATH/TO/abifuzz
set -u
af=$1
tmp=$(mktemp -d)
export XDG_CACHE_HOME="$tmp/cache"
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
field() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1])).get(sys.argv[2]); print(v if v is not None else "")' "$1" "$2"; }

mutants="rbx-clobbered stack-args-reversed sysv-vararg-no-al df-left-set jit-segv jit-hang"
for m in $mutants; do
  "$af" --arch x64 --inject "$m" --cases 50 --max-findings 1 --legs native --timeout 400 --out "$tmp/c-$m" \
    --quiet >"$tmp/c-$m.log" 2>&1
  d=$(ls -d "$tmp/c-$m/findings"/*/ 2>/dev/null | head -n 1)
  d=${d%/}
  if [ -z "$d" ]; then bad "$m: the campaign found nothing to replay"; continue; fi
  leg=$(field "$d/report.json" leg)
  check=$(field "$d/report.json" check)
  what=$(field "$d/report.json" what)
  out="$tmp/r-$m.txt"
  "$af" replay "$d" --timeout 500 >"$out" 2>&1
  rc=$?
  [ $rc = 1 ] && ok || bad "$m: replay exit $rc, want 1 ($(tail -n 2 "$out"))"
  grep -q "^== leg $leg, mutant $m ==" "$out" && ok || bad "$m: no section for leg $leg"
  grep -qE "^the report's finding \($leg $check( .*)?\): reproduced" "$out" && ok ||
    bad "$m: the report's finding is not said to be reproduced"
  grep -q '^== disassembly' "$out" && grep -q '^ *[0-9a-f]*:  [0-9a-f][0-9a-f] ' "$out" && ok ||
    bad "$m: no disassembly"
  grep -q '^== signature' "$out" && grep -q "__attribute__((\(sysv\|ms\)_abi))" "$out" && ok ||
    bad "$m: no signature in C"
  case $check in
  crash)
    grep -q "^finding: $leg crash $what" "$out" && ok || bad "$m: the crash finding is not printed"
    grep -q "SIGSEGV\|SIGBUS\|SIGILL" "$out" && ok || bad "$m: no signal name"
    grep -q 'RIP 0x[0-9a-f]* in JIT code: f[0-9]*+0x' "$out" && ok ||
      bad "$m: the fault is not named in JIT code (function + offset)"
    grep -q '^=> ' "$out" && ok || bad "$m: the faulting instruction is not marked"
    grep -q 'registers at the fault' "$out" && ok || bad "$m: no registers at the fault"
    ;;
  timeout)
    grep -q "^finding: $leg timeout" "$out" && ok || bad "$m: the timeout finding is not printed"
    grep -q 'RIP 0x[0-9a-f]* in JIT code: f[0-9]*+0x' "$out" && ok || bad "$m: the loop is not in JIT code"
    ;;
  *)
    # the leg's own finding, as the report has it (leg check what)
    grep -qF "  finding: $leg $check $what:" "$out" && ok ||
      bad "$m: '$leg $check $what' not among the replay's findings"
    grep -q 'registers at the call\|registers at the entry' "$out" && ok || bad "$m: no registers"
    grep -q 'registers after the' "$out" && ok || bad "$m: no registers after a return"
    grep -q '^      expected ' "$out" && grep -q '^      actual ' "$out" && ok ||
      bad "$m: no expected / actual bytes"
    reg=$(echo "$what" | grep -o '^\(r[a-z0-9]*\|xmm[0-9]*\)')
    [ -z "$reg" ] || grep -q "  $reg " "$out" && ok || bad "$m: register $reg not shown"
    ;;
  esac
  [ "$check" = arg ] && { grep -q 'MISMATCH' "$out" && ok || bad "$m: the wrong argument is not marked"; }
  if [ "$check" = callee-saved ]; then
    reg=$(echo "$what" | grep -o '^[a-z0-9]*')
    grep -q "^      $reg *canary 0x[0-9a-f]*  after 0x[0-9a-f]*  CHANGED" "$out" && ok ||
      bad "$m: the canary of $reg is not shown CHANGED"
  fi
  # the same case without the mutant: no finding
  "$af" replay "$d" --inject none --timeout 2000 >"$tmp/n-$m.txt" 2>&1
  rc=$?
  [ $rc = 0 ] && ok || bad "$m: without the mutant exit $rc, want 0 ($(grep -m1 'finding:' "$tmp/n-$m.txt"))"
  # a .case file with --inject and --legs works the same
  "$af" replay "$d/case.case" --legs "$leg" --inject "$m" --timeout 500 >"$tmp/f-$m.txt" 2>&1
  rc=$?
  [ $rc = 1 ] && ok || bad "$m: FILE.case --inject exit $rc, want 1"
  printf '%-22s %-8s %-13s %-28s %5s lines\n' "$m" "$leg" "$check" "$what" "$(wc -l <"$out")"
done

# --pause-on-crash: the pid and the gdb command, then it waits until killed
d=$(ls -d "$tmp/c-jit-segv/findings"/*/ 2>/dev/null | head -n 1)
if [ -n "$d" ]; then
  "$af" replay "$d" --pause-on-crash >"$tmp/p.txt" 2>&1 &
  rp=$!
  for _ in $(seq 1 100); do grep -q 'gdb -p [0-9]' "$tmp/p.txt" && break; sleep 0.1; done
  pid=$(grep -o 'gdb -p [0-9]*' "$tmp/p.txt" | head -n 1 | awk '{print $3}')
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    ok
    kill -9 "$pid"
    wait $rp
    rc=$?
    [ $rc = 1 ] && ok || bad "--pause-on-crash: exit $rc after the child was killed, want 1"
  else
    bad "--pause-on-crash: no paused process ($(tail -n 3 "$tmp/p.txt"))"
    kill $rp 2>/dev/null
  fi
  # --gdb: the JIT function by name in bt
  if command -v gdb >/dev/null; then
    ABIFUZZ_GDB_ARGS="-nx -batch -ex run -ex bt" timeout 120 "$af" replay "$d" --gdb >"$tmp/g.txt" 2>&1
    head -n 1 "$tmp/g.txt" | grep -q '^replay: running gdb .*--args ' && ok || bad "--gdb: the command is not printed"
    grep -q '^#0 .* in abifuzz_f[0-9]* ' "$tmp/g.txt" && ok ||
      bad "--gdb: bt shows no abifuzz_f<k> frame ($(grep -m3 '^#' "$tmp/g.txt"))"
  else
    echo "gdb not installed: --gdb not tested"
  fi
fi

# bad input: exit 2, one line on stderr
check_bad() {
  "$af" replay "$@" >"$tmp/bad.out" 2>"$tmp/bad.err"
  rc=$?
  [ $rc = 2 ] && [ "$(wc -l <"$tmp/bad.err")" = 1 ] && ok ||
    bad "replay $*: exit $rc, $(wc -l <"$tmp/bad.err") lines on stderr (want 2, 1)"
}
echo 'not a case' >"$tmp/bad.case"
mkdir -p "$tmp/empty"
check_bad "$tmp/nonexistent"
check_bad "$tmp/bad.case"
check_bad "$tmp/empty"
check_bad
check_bad "$tmp/bad.case" --legs no-such-leg
check_bad "$tmp/bad.case" --inject no-such-mutant
check_bad "$tmp/bad.case" --frobnicate

echo "replay_test: $pass passed, $fail failed"
[ $fail = 0 ]
