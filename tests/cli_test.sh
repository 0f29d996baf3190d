#!/usr/bin/env bash
# cli_test.sh - the abifuzz command line: exit codes, one-line errors, gen/interp/emit/abi.
# Usage: cli_test.sh PATH/TO/abifuzz CLANG_OR_EMPTY
set -u
af=$1
cc=${2:-}
tmp=$(mktemp -d)
export XDG_CACHE_HOME="$tmp/cache" # the oracle stub cache stays out of $HOME
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }

# expect CODE CMD... : exit code CODE; on a non-zero code, exactly one line on stderr
expect() {
  local want=$1; shift
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ "$got" != "$want" ]; then bad "exit $got, want $want: $*"; cat "$tmp/err" >&2; return; fi
  if [ "$want" != 0 ]; then
    local n; n=$(wc -l <"$tmp/err")
    if [ "$n" != 1 ]; then bad "want one error line, got $n: $*"; cat "$tmp/err" >&2; return; fi
    if ! grep -q '^abifuzz: ' "$tmp/err"; then bad "error not prefixed: $*"; return; fi
  fi
  ok
}

expect 0 "$af" --help
expect 0 "$af" --version
grep -q '^abifuzz [0-9]' "$tmp/out" && ok || bad "--version output"
expect 2 "$af" --no-such-flag
expect 2 "$af" frobnicate
expect 2 "$af" --abi mips
expect 2 "$af" --arch arm64
expect 2 "$af" --cases banana
expect 2 "$af" --count banana
expect 2 "$af" gen --seed
expect 2 "$af" gen --seed -3
expect 2 "$af" gen --seed 12x
expect 2 "$af" gen --abi vax
expect 2 "$af" gen --emit pdf
expect 2 "$af" gen --bogus
expect 2 "$af" gen --weights "$tmp/nonexistent"
expect 2 "$af" interp
expect 2 "$af" interp "$tmp/nonexistent.case"
expect 2 "$af" interp a.case b.case
printf 'this is not a case\n' >"$tmp/bad.case"
expect 2 "$af" interp "$tmp/bad.case"
grep -q "bad.case:1:" "$tmp/err" && ok || bad "parse error lacks file:line: $(cat "$tmp/err")"
head -c 300 /dev/urandom >"$tmp/noise.case"
expect 2 "$af" interp "$tmp/noise.case"
printf 'axis.nonsense = 3\n' >"$tmp/bad.weights"
expect 2 "$af" gen --weights "$tmp/bad.weights"
expect 2 "$af" weights --weights "$tmp/bad.weights"

# gen is deterministic and its output parses back and runs
for abi in sysv win64; do
  expect 0 "$af" gen --seed 7 --index 3 --abi $abi -o "$tmp/a.case"
  expect 0 "$af" gen --seed 7 --index 3 --abi $abi -o "$tmp/b.case"
  cmp -s "$tmp/a.case" "$tmp/b.case" && ok || bad "gen not deterministic ($abi)"
  grep -q "abi $abi" "$tmp/a.case" && ok || bad "case header lacks 'abi $abi'"
  expect 0 "$af" interp "$tmp/a.case"
  tail -n 1 "$tmp/out" | grep -Eq '^checksum 0x[0-9a-f]{16}$' && ok || bad "interp last line"
  cp "$tmp/out" "$tmp/interp.out"
  expect 0 "$af" abi "$tmp/a.case"
  expect 0 "$af" emit "$tmp/a.case"
  cp "$tmp/out" "$tmp/a.c"
  if [ -n "$cc" ]; then
    if "$cc" -std=gnu11 -O1 -Wall -Werror -Wno-psabi -ffp-contract=off "$tmp/a.c" -o "$tmp/a.out" -lm 2>"$tmp/ccerr"; then
      "$tmp/a.out" >"$tmp/c.out"
      [ "$(tail -n 1 "$tmp/c.out")" = "$(tail -n 1 "$tmp/interp.out")" ] && ok ||
        bad "emitted C checksum differs from interp ($abi)"
    else
      bad "emitted C does not compile with $cc ($abi): $(head -n 3 "$tmp/ccerr")"
    fi
  fi
done
expect 0 "$af" gen --seed 7 --index 3 --count 3 --emit case
[ "$(grep -c '^# seed' "$tmp/out")" = 3 ] && ok || bad "--count 3 printed $(grep -c '^# seed' "$tmp/out") headers"

# the JIT's mutants: at least 30, one a line, "name description"
expect 0 "$af" --list-mutants
[ "$(grep -cE '^[a-z0-9-]+ .+' "$tmp/out")" -ge 30 ] && ok || bad "--list-mutants: $(wc -l <"$tmp/out") lines"
[ "$(wc -l <"$tmp/out")" = "$(grep -cE '^[a-z0-9-]+ .+' "$tmp/out")" ] && ok || bad "--list-mutants line format"

# a short default campaign runs and prints a summary (the campaign itself: campaign_test.sh)
expect 0 "$af" --arch x64 --abi win64 --cases 50 --quiet
grep -q '^50 cases, 0 findings' "$tmp/out" && ok || bad "campaign summary: $(tail -n 1 "$tmp/out")"
expect 0 "$af" --arch x64 --abi sysv --count 20 --quiet # the old spelling of --cases
grep -q '^20 cases' "$tmp/out" && ok || bad "--count: $(tail -n 1 "$tmp/out")"
if [ -n "$cc" ]; then # --oracle-cc turns the c-oracle leg on
  expect 0 "$af" --arch x64 --abi both --cases 30 --oracle-cc "$cc" --quiet
  grep -qE '^  c-oracle +ran 30, pass 30' "$tmp/out" && ok || bad "--oracle-cc: $(grep c-oracle "$tmp/out")"
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
