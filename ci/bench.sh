#!/usr/bin/env bash
# ci/bench.sh - the nightly benchmark: `abifuzz bench --json`, kept in a history, each stage
# compared with the median of the previous runs on the same kind of machine (doc/benchmarks.md).
# Environment (all optional):
#   TIME       seconds per stage (default 3)
#   OUT_DIR    where the run's JSON and table go (default bench-out)
#   HISTORY    the history file, one JSON line per run (default $OUT_DIR/history.jsonl; keep it
#              between nights, e.g. as a CI cache or artifact)
#   WINDOW     previous runs the median is taken over (default 5)
#   THRESHOLD  percent of CPU time per case above the median that counts as a regression
#              (default 25: bench on a shared machine moves by 10-15% from run to run)
#   FAIL_ON_REGRESSION  1: exit 1 on a regression (default 0: report only)
#   EXTRA      more `abifuzz bench` flags (e.g. "--no-baseline --abi sysv")
#   ABIFUZZ    the abifuzz binary (default: build it in $AF_BUILD_DIR, default build)
# Exit: 0 (or 1: a regression, with FAIL_ON_REGRESSION=1), 2 bad setup, 3 bench failed to run
# or a stage crashed.
set -uo pipefail
abspath() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
[ -n "${ABIFUZZ:-}" ] && ABIFUZZ=$(abspath "$ABIFUZZ")
[ -n "${OUT_DIR:-}" ] && OUT_DIR=$(abspath "$OUT_DIR")
[ -n "${HISTORY:-}" ] && HISTORY=$(abspath "$HISTORY")
cd "$(dirname "$0")/.." || exit 2
TIME=${TIME:-3}
OUT_DIR=${OUT_DIR:-$PWD/bench-out}
HISTORY=${HISTORY:-$OUT_DIR/history.jsonl}
WINDOW=${WINDOW:-5}
THRESHOLD=${THRESHOLD:-25}
FAIL_ON_REGRESSION=${FAIL_ON_REGRESSION:-0}
log() { echo "bench: $*" >&2; }

command -v python3 >/dev/null || { log "python3 is needed (ci/deps.sh installs it)"; exit 2; }
if [ -z "${ABIFUZZ:-}" ]; then
  build=${AF_BUILD_DIR:-build}
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
    ninja -C "$build" abifuzz >/dev/null || { log "build failed"; exit 2; }
  ABIFUZZ=$PWD/$build/abifuzz
fi
[ -x "$ABIFUZZ" ] || { log "no abifuzz at $ABIFUZZ"; exit 2; }
mkdir -p "$OUT_DIR" "$(dirname "$HISTORY")" || exit 2

run="$OUT_DIR/bench-$(date -u +%Y%m%dT%H%M%SZ).json"
# shellcheck disable=SC2086
"$ABIFUZZ" bench --time "$TIME" --json "$run" ${EXTRA:-} >"$OUT_DIR/bench.txt" 2>&1
rc=$?
cat "$OUT_DIR/bench.txt"
[ -s "$run" ] || { log "abifuzz bench wrote no JSON (exit $rc)"; exit 3; }

python3 - "$run" "$HISTORY" "$WINDOW" "$THRESHOLD" <<'PY' | tee "$OUT_DIR/trend.txt"
import json, statistics, sys
run_path, hist_path, window, threshold = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
run = json.load(open(run_path))
def entry(d):  # the compact line a run leaves in the history
    return {"date": d["date"], "git": d["abifuzz"].get("git"), "cpu": d["host"]["cpu"],
            "cores": d["host"]["cores"], "load1": d["host"]["load1"],
            "options": {k: d["options"].get(k) for k in ("abi", "time_s", "seed", "legs")},
            "cpu_us": {s["name"]: s["cpu_us_per_case"] for s in d["stages"] if s["status"] == "ok"},
            "ratio": d.get("ratio")}
now = entry(run)
past = []
try:
    for line in open(hist_path):
        line = line.strip()
        if not line:
            continue
        e = json.loads(line)
        # only runs like this one: same machine kind and the same stage definitions
        if e["cpu"] == now["cpu"] and e["cores"] == now["cores"] and e["options"] == now["options"]:
            past.append(e)
except FileNotFoundError:
    pass
past = past[-window:]
print(f"{'stage':<16} {'cpu us/case':>12} {'median before':>14} {'change':>8}  (over {len(past)} earlier runs)")
regressions = 0
for name, v in now["cpu_us"].items():
    prev = [e["cpu_us"][name] for e in past if e["cpu_us"].get(name)]
    if not prev or not v:
        print(f"{name:<16} {v:>12.1f} {'-':>14} {'-':>8}")
        continue
    med = statistics.median(prev)
    change = 100.0 * (v - med) / med
    flag = "  REGRESSION" if change > threshold else ""
    regressions += bool(flag)
    print(f"{name:<16} {v:>12.1f} {med:>14.1f} {change:>+7.1f}%{flag}")
with open(hist_path, "a") as f:
    f.write(json.dumps(now, sort_keys=True) + "\n")
print(f"regressions: {regressions} (threshold +{threshold:g}% CPU per case)")
sys.exit(10 if regressions else 0)
PY
trend=${PIPESTATUS[0]}
[ "$trend" -ne 0 ] && [ "$trend" -ne 10 ] && { log "trend comparison failed"; exit 3; }
[ "$rc" -ne 0 ] && { log "abifuzz bench exit $rc (a stage crashed or found a mismatch)"; exit 3; }
[ "$trend" -eq 10 ] && [ "$FAIL_ON_REGRESSION" = 1 ] && exit 1
exit 0
