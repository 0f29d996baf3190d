#!/usr/bin/env bash
# ci/test.sh - install what is missing, build with -Werror, run the whole ctest suite.
# Usage: bash ci/test.sh [extra ctest args, e.g. -L unit or -LE slow]
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/deps.sh
build=${AF_BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DAF_WERROR=ON >/dev/null
cmake --build "$build"
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" "$@"
