#!/usr/bin/env bash
# ci/campaign.sh - install what is missing, build, run a default campaign (both conventions).
# Usage: bash ci/campaign.sh [abifuzz campaign flags, e.g. --abi win64 --cases 5000]
# With no flags: 60 seconds over both conventions with one worker per CPU, every default leg,
# plus the compiled-C legs with clang-19 and gcc when they are installed; the summary and the
# findings go to $AF_OUT (default campaign-out/: summary.json, findings/<id>/).
# Exit status: abifuzz's (0 no findings, 1 findings, 2 usage error, 3 internal error).
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/deps.sh
build=${AF_BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja >/dev/null
cmake --build "$build"
if [ $# -eq 0 ]; then
  OUT=${AF_OUT:-campaign-out}
  ccs=""
  for cc in clang-19 gcc; do command -v "$cc" >/dev/null && ccs="${ccs:+$ccs,}$cc"; done
  set -- --abi both --time 60 -j "$(nproc)" --out "$OUT" ${ccs:+--oracle-cc "$ccs"}
fi
exec "$build/abifuzz" --arch x64 "$@"
