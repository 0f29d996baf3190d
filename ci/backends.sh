#!/usr/bin/env bash
# ci/backends.sh - a campaign per backend and per convention it supports (doc/backends.md),
# then one table of what each compiled, skipped (by reason) and found.
#   OUT=backends-out DURATION=60 JOBS=1 SEED=3 ABIFUZZ=build/abifuzz bash ci/backends.sh
# Exit 0 when no campaign found anything new (known findings do not count), 1 otherwise.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
A=${ABIFUZZ:-$here/build/abifuzz}
OUT=${OUT:-backends-out} DURATION=${DURATION:-60} JOBS=${JOBS:-1} SEED=${SEED:-3}
LEGS=${LEGS:-native,garbage,runner,ffi-caller,ffi-callee}
[ -x "$A" ] || { echo "backends: no abifuzz at $A (build it, or set ABIFUZZ)" >&2; exit 2; }
plugin=$(dirname "$A")/libabifuzz_cc_plugin.so
mkdir -p "$OUT"
runs=(
  "gcc sysv|cc:gcc -O1 -c {src} -o {obj}"      "gcc win64|cc:gcc -O1 -c {src} -o {obj}"
  "clang14 sysv|cc:clang-14 -O2 -c {src} -o {obj}" "clang14 win64|cc:clang-14 -O2 -c {src} -o {obj}"
  "clang19 sysv|cc:clang-19 -O1 -c {src} -o {obj}" "clang19 win64|cc:clang-19 -O1 -c {src} -o {obj}"
  "cctcc sysv|cc:tcc -c {src} -o {obj}"
  "llvm sysv|llvm" "llvm win64|llvm" "tcc sysv|tcc" "gccjit sysv|gccjit"
  "plugin sysv|plugin:$plugin" "plugin win64|plugin:$plugin"
)
rc=0
for r in "${runs[@]}"; do
  read -r name abi <<<"${r%%|*}"
  spec=${r#*|}
  dir=$OUT/$name-$abi
  rm -rf "$dir"
  "$A" --arch x64 --abi "$abi" --backend "$spec" --time "$DURATION" -j "$JOBS" --seed "$SEED" \
    --legs "$LEGS" --out "$dir" --quiet >"$dir.txt" 2>&1
  e=$?
  case $e in
    0) ;;
    1) rc=1 ;;
    *) echo "backends: $name $abi not run: $(head -1 "$dir.txt")" ;;
  esac
done
python3 - "$OUT" <<'PY'
import glob, json, sys
print("| backend | abi | cases | compiled | skipped | findings | most frequent skip reasons |")
print("|---|---|---|---|---|---|---|")
for d in sorted(glob.glob(sys.argv[1] + "/*-*/summary.json")):
    s = json.load(open(d))
    be = s["per_leg"].get("backend", {})
    sk = sorted((be.get("skip_reasons") or {}).items(), key=lambda x: -x[1])[:3]
    print("| `%s` | %s | %d | %d | %d | %d (%d buckets, %d known) | %s |" % (
        s["backend"], s["abi"], s["cases"], be.get("pass", 0), be.get("skip", 0),
        s["findings"], len(s["buckets"]), s["known"], "; ".join("%s (%d)" % x for x in sk)))
PY
exit $rc
