#!/usr/bin/env bash
# Builds everything and runs every test: the lit suite (dialect, passes,
# tools) and the GoogleTest units (kernels, golden PyTorch comparisons,
# gradient checks, runtime). GPU tests skip themselves on machines without
# a GPU and say so.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${MIND_BUILD_DIR:-$root/build}"

bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh"

echo "== lit tests"
/usr/lib/llvm-22/bin/lit -sv "$build/test"
echo "== unit tests"
cd "$build"
ctest --output-on-failure -E '^lit$' -j "${MIND_JOBS:-$(nproc)}"
