#!/usr/bin/env bash
# Configures and builds mindc into build/ (or $MIND_BUILD_DIR). Targets may be
# given as arguments (default: everything).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${MIND_BUILD_DIR:-$root/build}"
jobs="${MIND_JOBS:-$(nproc)}"

if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DMIND_ENABLE_TESTS=ON >/dev/null
fi
if [ $# -eq 0 ]; then
  cmake --build "$build" -j "$jobs"
else
  cmake --build "$build" -j "$jobs" --target "$@"
fi
