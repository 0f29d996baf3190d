#!/usr/bin/env bash
# ci/campaign.sh - install what is missing, build, run a default campaign (both conventions).
# Usage: bash ci/campaign.sh [abifuzz campaign flags, e.g. --abi win64 --count 5000]
# With no flags: 400 cases of seed 1, each also compiled as C by clang and gcc and compared.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/deps.sh
build=${AF_BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja >/dev/null
cmake --build "$build"
if [ $# -eq 0 ]; then
  ccs=""
  for cc in clang-19 gcc; do command -v "$cc" >/dev/null && ccs="${ccs:+$ccs,}$cc"; done
  set -- --count 400 ${ccs:+--oracle-cc "$ccs"}
fi
exec "$build/abifuzz" --arch x64 "$@"
