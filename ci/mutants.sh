#!/usr/bin/env bash
# ci/mutants.sh - the mutant score: one campaign per JIT mutant until its first finding, with
# the time and cases to detect it and the check that fired (doc/benchmarks.md keeps the
# latest table). Exit 0 when every mutant is caught by a check that names it.
# Environment: TIME_PER (seconds per mutant, default 60), JOBS (default nproc), SEED (1),
# ABI (both), OUT (a directory to keep each mutant's findings in; default none).
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/deps.sh
build=${AF_BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja >/dev/null
cmake --build "$build" --target abifuzz >/dev/null
args=(mutants --time-per "${TIME_PER:-60}" -j "${JOBS:-$(nproc)}" --seed "${SEED:-1}"
      --abi "${ABI:-both}")
[ -n "${OUT:-}" ] && args+=(--out "$OUT")
exec "$build/abifuzz" "${args[@]}"
