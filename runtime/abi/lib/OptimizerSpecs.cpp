//===- OptimizerSpecs.cpp - launch rules of the optimizer kernels ---------===//

#include "mind/abi/OptimizerSpecs.h"

#include "mind/abi/DenseKernelSpecs.h"
#include "mind/abi/KernelSpecs.h"

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

kabi::Launch<sig::grad_sqnorm_partial> gradSqNormPartial(int64_t n) {
  kabi::Launch<sig::grad_sqnorm_partial> c;
  c.nameExpr = kabi::nameExpression(sig::grad_sqnorm_partial::name, {});
  c.grid = {blocksFor(n), 1, 1};
  c.block = {kThreads, 1, 1};
  return c;
}

kabi::Launch<sig::optimizer_prepare> optimizerPrepare() {
  kabi::Launch<sig::optimizer_prepare> c;
  c.nameExpr = kabi::nameExpression(sig::optimizer_prepare::name, {});
  c.block = {kThreads, 1, 1};
  return c;
}

kabi::Launch<sig::adamw_fused> adamwFused(int64_t n) {
  kabi::Launch<sig::adamw_fused> c;
  c.nameExpr = kabi::nameExpression(sig::adamw_fused::name, {});
  c.grid = {blocksFor(n), 1, 1};
  c.block = {kThreads, 1, 1};
  return c;
}

kabi::Launch<sig::adamw_fused_copy> adamwFusedCopy(DType copy, int64_t n) {
  kabi::Launch<sig::adamw_fused_copy> c;
  c.nameExpr =
      kabi::nameExpression(sig::adamw_fused_copy::name, {cudaTypeName(copy)});
  c.grid = {blocksFor(n), 1, 1};
  c.block = {kThreads, 1, 1};
  return c;
}

std::vector<std::string> optimizerKernelNames(std::optional<DType> copy) {
  std::vector<std::string> names = {gradSqNormPartial(1).nameExpr,
                                    optimizerPrepare().nameExpr,
                                    adamwFused(1).nameExpr};
  if (copy) {
    names.push_back(adamwFusedCopy(*copy, 1).nameExpr);
    names.push_back(cast(DType::F32, *copy, 1).nameExpr);
  }
  return names;
}

} // namespace mind::runtime::kernels
