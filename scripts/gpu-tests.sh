#!/usr/bin/env bash
# Runs the GPU tests on a machine with an NVIDIA GPU, from binaries and
# bundles built on a development machine (the GPU machine has no MLIR):
#   bash scripts/gpu-tests.sh [BUILD_DIR] [SHARED_DATA_DIR] [-- gtest args]
# Logs go to $OUT (or ./gpu-test-logs).
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
shared="${2:-$root/../shared/data}"
shift $(( $# > 2 ? 2 : $# ))
[ "${1:-}" = "--" ] && shift
out="${OUT:-$root/gpu-test-logs}"
mkdir -p "$out"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$out/gpu.txt" 2>&1
MIND_SHARED_DATA_DIR="$shared" MIND_TEST_BUNDLE_DIR="$build/test/gpu/bundles" \
  "$build/test/gpu/GpuKernelTest" "$@" > "$out/gpu-tests.log" 2>&1
rc=$?
grep -E "^\[  (PASSED|FAILED|SKIPPED) |tests ran|FAILED TEST" "$out/gpu-tests.log" | tail -40
exit $rc
