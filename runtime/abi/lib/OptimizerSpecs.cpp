//===- OptimizerSpecs.cpp - launch rules of the optimizer kernels ---------===//

#include "mind/abi/OptimizerSpecs.h"

#include <algorithm>

namespace mind::runtime::kernels {

namespace {
constexpr uint32_t kThreads = 256;
// Enough blocks to fill an H100 (132 SMs x 8 resident blocks of 256), few
// enough that the partial sums stay tiny; each thread reads float4s.
constexpr int64_t kMaxBlocks = 1024;

uint32_t blocksFor(int64_t n) {
  int64_t perBlock = int64_t(kThreads) * 4 * 4; // 4 float4 per thread
  return static_cast<uint32_t>(
      std::clamp<int64_t>((n + perBlock - 1) / perBlock, 1, kMaxBlocks));
}
} // namespace

int64_t gradNormPartials(int64_t n) { return blocksFor(n); }

LaunchConfig gradSqNormPartial(int64_t n) {
  return {
      "mind::grad_sqnorm_partial", {blocksFor(n), 1, 1}, {kThreads, 1, 1}, 0};
}

LaunchConfig optimizerPrepare() {
  return {"mind::optimizer_prepare", {1, 1, 1}, {kThreads, 1, 1}, 0};
}

LaunchConfig adamwFused(int64_t n) {
  return {"mind::adamw_fused", {blocksFor(n), 1, 1}, {kThreads, 1, 1}, 0};
}

std::vector<std::string> optimizerKernelNames() {
  return {"mind::grad_sqnorm_partial", "mind::optimizer_prepare",
          "mind::adamw_fused"};
}

} // namespace mind::runtime::kernels
