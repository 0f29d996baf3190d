#!/usr/bin/env bash
# ci/nightly.sh - the nightly campaign: time-boxed run per convention, reduce, report, and a
# failure only when a bucket appears that the previous night did not have (doc/nightly.md).
# Environment (all optional):
#   DURATION   seconds of campaign per convention (default 1800)
#   JOBS       worker processes (default: nproc)
#   SEED       campaign seed (default: the date, YYYYMMDD, so each night runs new cases)
#   ABIS       conventions, one campaign each (default "sysv win64")
#   EMU_DURATION  seconds of the emulator cross-check campaign (--abi both --legs
#              emu,emu-unicorn: the xi and the Unicorn engines on the same cases, each
#              finding of one that the other lacks is a bucket of its own; default
#              DURATION/6; 0: none), in OUT_DIR/emu/
#   SHARD      K/N: this machine's --shard of every campaign (default: none)
#   OUT_DIR    where everything goes (default nightly-out): <abi>/ (the campaign's --out),
#              reduced/<abi>/<finding>.case (+ .log), report/ (report.md, report.html, junit.xml,
#              findings.sarif), summary.json (the merged buckets, next night's PREVIOUS),
#              new-buckets.txt
#   PREVIOUS   the previous night's OUT_DIR (or a directory with its summary.json); unset or
#              without summary.json: no baseline, every bucket is new
#   INJECT     a JIT mutant (doc/mutants.md), to see the job fail on a new bucket
#   EXTRA      more abifuzz campaign flags (e.g. "--oracle-cc clang-19,gcc")
#   ABIFUZZ    the abifuzz binary (default: build it in $AF_BUILD_DIR, default build)
#   REDUCE_TIMEOUT  seconds per reduction (default 300); REDUCE_MAX  reductions per convention,
#              the biggest buckets first (default 20)
# Exit: 0 no new bucket, 1 a new bucket (listed on stdout and in new-buckets.txt), 2 bad
# setup, 3 the campaign or the report failed to run.
set -uo pipefail
# paths in the environment are the caller's: make them absolute before going to the source tree
abspath() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
[ -n "${ABIFUZZ:-}" ] && ABIFUZZ=$(abspath "$ABIFUZZ")
[ -n "${PREVIOUS:-}" ] && PREVIOUS=$(abspath "$PREVIOUS")
[ -n "${OUT_DIR:-}" ] && OUT_DIR=$(abspath "$OUT_DIR")
cd "$(dirname "$0")/.." || exit 2
DURATION=${DURATION:-1800}
JOBS=${JOBS:-$(nproc)}
SEED=${SEED:-$(date -u +%Y%m%d)}
ABIS=${ABIS:-sysv win64}
EMU_DURATION=${EMU_DURATION:-$((DURATION / 6))}
OUT_DIR=${OUT_DIR:-nightly-out}
REDUCE_TIMEOUT=${REDUCE_TIMEOUT:-300}
REDUCE_MAX=${REDUCE_MAX:-20}
log() { echo "nightly: $*" >&2; }

if [ -z "${ABIFUZZ:-}" ]; then
  build=${AF_BUILD_DIR:-build}
  if ! { cmake -S . -B "$build" -G Ninja >/dev/null &&
    cmake --build "$build" --target abifuzz >/dev/null; }; then
    log "build failed"
    exit 3
  fi
  ABIFUZZ=$PWD/$build/abifuzz
fi
[ -x "$ABIFUZZ" ] || { log "no abifuzz at '$ABIFUZZ'"; exit 2; }
mkdir -p "$OUT_DIR" || exit 2
OUT_DIR=$(cd "$OUT_DIR" && pwd)
rm -rf "$OUT_DIR/reduced" "$OUT_DIR/report" "$OUT_DIR/new-buckets.txt"
mkdir -p "$OUT_DIR/reduced"

# ---- 1. one time-boxed campaign per convention ----------------------------------------------
dirs=()
for abi in $ABIS; do
  out=$OUT_DIR/$abi
  rm -rf "$out"
  # shellcheck disable=SC2086 # EXTRA is a list of flags
  "$ABIFUZZ" --arch x64 --abi "$abi" --time "$DURATION" -j "$JOBS" --seed "$SEED" --out "$out" \
    --quiet ${SHARD:+--shard "$SHARD"} ${INJECT:+--inject "$INJECT"} ${EXTRA:-} \
    >"$OUT_DIR/$abi.log" 2>&1
  rc=$?
  tail -n 1 "$OUT_DIR/$abi.log" >&2
  case $rc in
  0 | 1) ;; # findings are for the comparison below to judge
  *) log "the $abi campaign failed (exit $rc; $OUT_DIR/$abi.log)"; exit 3 ;;
  esac
  dirs+=("$out")
done
# the emulator's cross-check (doc/emulator.md "The engines"): both engines on every case
if [ "$EMU_DURATION" -gt 0 ]; then
  out=$OUT_DIR/emu
  rm -rf "$out"
  "$ABIFUZZ" --arch x64 --abi both --time "$EMU_DURATION" -j "$JOBS" --seed "$SEED" --out "$out" \
    --quiet --legs emu,emu-unicorn ${SHARD:+--shard "$SHARD"} ${INJECT:+--inject "$INJECT"} \
    >"$OUT_DIR/emu.log" 2>&1
  rc=$?
  tail -n 1 "$OUT_DIR/emu.log" >&2
  case $rc in
  0 | 1) dirs+=("$out") ;;
  *) log "the emulator cross-check campaign failed (exit $rc; $OUT_DIR/emu.log)"; exit 3 ;;
  esac
fi

# ---- 2. reduce the smallest finding of each bucket ---------------------------------------------
for out in "${dirs[@]}"; do
  python3 - "$out/summary.json" "$REDUCE_MAX" <<'PY' >"$OUT_DIR/smallest.txt"
import json, sys
bs = sorted(json.load(open(sys.argv[1]))["buckets"], key=lambda b: -b["count"])
for b in [b for b in bs if b["known"] < b["count"]][: int(sys.argv[2])]:
    f = b["smallest"]["finding"] or b["first_finding"]
    if f:
        print(f)
PY
  red=$OUT_DIR/reduced/$(basename "$out") # the conventions' finding ids can be the same
  mkdir -p "$red"
  while read -r id; do
    [ -d "$out/findings/$id" ] || continue
    if timeout "$REDUCE_TIMEOUT" "$ABIFUZZ" reduce "$out/findings/$id" \
      -o "$red/$id.case" >"$red/$id.log" 2>&1; then
      log "reduced $(basename "$out")/$id: $(wc -c <"$out/findings/$id/case.case") -> $(wc -c <"$red/$id.case") bytes"
    else
      log "could not reduce $(basename "$out")/$id (see $red/$id.log)"
    fi
  done <"$OUT_DIR/smallest.txt"
done
rm -f "$OUT_DIR/smallest.txt"

# ---- 3. the reports (md, html, junit, sarif), all conventions merged ------------------------
"$ABIFUZZ" report "${dirs[@]}" -o "$OUT_DIR/report" >&2 || { log "abifuzz report failed"; exit 3; }

# ---- 4. compare the buckets with the previous night's ------------------------------------------
prev=""
if [ -n "${PREVIOUS:-}" ]; then
  for p in "$PREVIOUS/summary.json" "$PREVIOUS"; do [ -f "$p" ] && prev=$p && break; done
  [ -n "$prev" ] || log "PREVIOUS=$PREVIOUS has no summary.json: no baseline"
fi
if ! python3 - "$OUT_DIR" "$prev" "${dirs[@]}" <<'PY'
import json, sys
out, prev, dirs = sys.argv[1], sys.argv[2], sys.argv[3:]
buckets, cases = {}, 0
for d in dirs:
    s = json.load(open(f"{d}/summary.json"))
    cases += s["cases"]
    for b in s["buckets"]:
        k = buckets.setdefault(b["key"], dict(b, count=0, known=0, dir=d))
        k["count"] += b["count"]; k["known"] += b["known"]
old = set()
if prev:
    old = {b["key"] for b in json.load(open(prev))["buckets"]}
# a bucket whose every finding a known-divergence rule matched is not news
new = [b for k, b in buckets.items() if k not in old and b["known"] < b["count"]]
gone = sorted(old - set(buckets))
json.dump({"cases": cases, "buckets": list(buckets.values()), "previous": prev or None,
           "new": [b["key"] for b in new], "gone": gone}, open(f"{out}/summary.json", "w"), indent=1)
with open(f"{out}/new-buckets.txt", "w") as f:
    for b in new:
        f.write(f"{b['key']}\t{b['count']}\t{b['dir']}/findings/{b['smallest']['finding'] or b['first_finding']}\n")
print(f"nightly: {cases} cases, {len(buckets)} buckets, {len(new)} new, {len(gone)} gone"
      + ("" if prev else " (no previous night: every bucket is new)"))
for b in new:
    print(f"NEW BUCKET: {b['key']} ({b['count']} findings) -> {b['dir']}/findings/{b['smallest']['finding'] or b['first_finding']}")
for k in gone:
    print(f"gone: {k}")
PY
then
  log "comparison failed"
  exit 3
fi
[ -s "$OUT_DIR/new-buckets.txt" ] && exit 1
exit 0
