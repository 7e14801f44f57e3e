//===- MoeSpecs.cpp - launch rules of the mixture-of-experts kernels ------===//

#include "mind/abi/MoeSpecs.h"
#include "mind/abi/KernelSpecs.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>

using namespace mind::runtime;
using namespace mind::runtime::kernels;
namespace sig = mind::sig;

namespace {
// Must match moe_gemm.cuh (tile 64x64; threads() per storage type).
constexpr int64_t kGemmTile = 64;
constexpr int64_t kAuxChunk = 16384;

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

void require(bool ok, const char *op, const std::string &what) {
  if (!ok)
    throw std::invalid_argument(std::string(op) + ": " + what);
}

uint32_t gridSize(int64_t n, const char *op) {
  require(n >= 1 && n <= std::numeric_limits<int32_t>::max(), op,
          "grid dimension " + std::to_string(n) + " out of range");
  return static_cast<uint32_t>(n);
}

void checkExperts(int64_t experts, int64_t limit, const char *op) {
  require(experts >= 1 && experts <= limit, op,
          "num_experts = " + std::to_string(experts) + " must be in [1, " +
              std::to_string(limit) + "]");
}

void checkRows(int64_t rows, const char *op) {
  require(rows >= 1 && rows < (int64_t(1) << 31), op,
          "routed rows = " + std::to_string(rows) + " must be in [1, 2^31)");
}

// One block per row of `hidden` elements, each thread moving 8 at a time:
// enough warps to cover the row once, 32..256 threads.
uint32_t rowThreads(int64_t hidden) {
  int64_t t = ceilDiv(ceilDiv(hidden, 8), 32) * 32;
  return static_cast<uint32_t>(
      std::min<int64_t>(std::max<int64_t>(t, 32), 256));
}

/// A launch of S's kernel, templated on `dtype` unless it is nullopt.
template <class S>
kabi::Launch<S> make(std::optional<DType> dtype, int64_t gx, int64_t gy,
                     uint32_t block, uint32_t shared, const char *op) {
  kabi::Launch<S> c;
  c.nameExpr = dtype ? instance<S>({cudaTypeName(*dtype)}) : instance<S>();
  c.grid = {gridSize(gx, op), gridSize(gy, op), 1};
  require(gy <= 65535, op, "grid.y too large");
  c.block = {block, 1, 1};
  c.sharedBytes = shared;
  return c;
}

uint32_t gemmThreads(DType dtype) { return dtype == DType::F32 ? 256 : 128; }
} // namespace

kabi::Launch<sig::moe_topk_fwd> kernels::moeTopK(DType dtype, int64_t tokens,
                                                 int64_t experts, int64_t k) {
  const char *op = "topk";
  require(tokens >= 1, op, "needs a token");
  require(k >= 1 && k <= experts, op, "k must be in [1, E]");
  return make<sig::moe_topk_fwd>(dtype, ceilDiv(tokens, 256), 1, 256, 0, op);
}

kabi::Launch<sig::moe_topk_bwd>
kernels::moeTopKGrad(DType dtype, int64_t tokens, int64_t experts, int64_t k) {
  const char *op = "topk_grad";
  require(tokens >= 1 && experts >= 1, op, "needs a token and an expert");
  require(k >= 1 && k <= experts, op, "k must be in [1, E]");
  return make<sig::moe_topk_bwd>(dtype, ceilDiv(tokens * experts, 256), 1, 256,
                                 0, op);
}

int64_t kernels::moeRouteTiles(int64_t rows) {
  return ceilDiv(rows, kMoeRouteTile);
}

kabi::Launch<sig::moe_route_count> kernels::moeRouteCount(int64_t rows,
                                                          int64_t experts) {
  const char *op = "moe_route";
  checkRows(rows, op);
  checkExperts(experts, 256, op);
  return make<sig::moe_route_count>(std::nullopt, moeRouteTiles(rows), 1,
                                    kMoeRouteTile,
                                    static_cast<uint32_t>(experts * 4), op);
}

kabi::Launch<sig::moe_route_scatter> kernels::moeRouteScatter(int64_t rows,
                                                              int64_t experts) {
  const char *op = "moe_route";
  checkRows(rows, op);
  checkExperts(experts, 256, op);
  // start, before, total [E] + per-warp counts [32][E], all int.
  return make<sig::moe_route_scatter>(
      std::nullopt, moeRouteTiles(rows), 1, kMoeRouteTile,
      static_cast<uint32_t>(experts * (3 + 32) * 4), op);
}

kabi::Launch<sig::moe_invert_perm> kernels::moeInvertPerm(int64_t rows) {
  checkRows(rows, "moe_invert_perm");
  return make<sig::moe_invert_perm>(std::nullopt, ceilDiv(rows, 256), 1, 256, 0,
                                    "moe_invert_perm");
}

kabi::Launch<sig::moe_dispatch_fwd>
kernels::moeDispatch(DType dtype, int64_t rows, int64_t hidden) {
  const char *op = "moe_dispatch";
  checkRows(rows, op);
  require(hidden >= 1, op, "hidden must be positive");
  return make<sig::moe_dispatch_fwd>(dtype, rows, 1, rowThreads(hidden), 0, op);
}

kabi::Launch<sig::moe_dispatch_bwd>
kernels::moeDispatchGrad(DType dtype, int64_t tokens, int64_t hidden) {
  const char *op = "moe_dispatch_grad";
  checkRows(tokens, op);
  require(hidden >= 1, op, "hidden must be positive");
  return make<sig::moe_dispatch_bwd>(dtype, tokens, 1, rowThreads(hidden), 0,
                                     op);
}

static void checkGemm(int64_t rows, int64_t k, int64_t n, int64_t experts,
                      const char *op) {
  checkRows(rows, op);
  require(k >= 1 && n >= 1, op, "K and N must be positive");
  checkExperts(experts, 256, op);
}

kabi::Launch<sig::moe_grouped_linear_fwd>
kernels::groupedLinear(DType dtype, int64_t rows, int64_t k, int64_t n,
                       int64_t experts) {
  const char *op = "grouped_linear";
  checkGemm(rows, k, n, experts, op);
  // Sum over experts of ceil(rows_e / 64) <= ceil(R / 64) + E row tiles.
  return make<sig::moe_grouped_linear_fwd>(
      dtype, ceilDiv(rows, kGemmTile) + experts, ceilDiv(n, kGemmTile),
      gemmThreads(dtype), 0, op);
}

kabi::Launch<sig::moe_grouped_linear_bwd_x>
kernels::groupedLinearGradX(DType dtype, int64_t rows, int64_t k, int64_t n,
                            int64_t experts) {
  const char *op = "grouped_linear_grad";
  checkGemm(rows, k, n, experts, op);
  return make<sig::moe_grouped_linear_bwd_x>(
      dtype, ceilDiv(rows, kGemmTile) + experts, ceilDiv(k, kGemmTile),
      gemmThreads(dtype), 0, op);
}

kabi::Launch<sig::moe_grouped_linear_bwd_w>
kernels::groupedLinearGradW(DType dtype, int64_t rows, int64_t k, int64_t n,
                            int64_t experts) {
  const char *op = "grouped_linear_grad";
  checkGemm(rows, k, n, experts, op);
  return make<sig::moe_grouped_linear_bwd_w>(
      dtype, ceilDiv(n, kGemmTile) * ceilDiv(k, kGemmTile), experts,
      gemmThreads(dtype), 0, op);
}

kabi::Launch<sig::moe_combine_fwd>
kernels::moeCombine(DType dtype, int64_t tokens, int64_t hidden) {
  const char *op = "moe_combine";
  checkRows(tokens, op);
  require(hidden >= 1, op, "hidden must be positive");
  return make<sig::moe_combine_fwd>(dtype, tokens, 1, rowThreads(hidden), 0,
                                    op);
}

kabi::Launch<sig::moe_combine_bwd>
kernels::moeCombineGrad(DType dtype, int64_t rows, int64_t hidden) {
  const char *op = "moe_combine_grad";
  checkRows(rows, op);
  require(hidden >= 1, op, "hidden must be positive");
  return make<sig::moe_combine_bwd>(dtype, rows, 1, rowThreads(hidden), 0, op);
}

static int64_t auxGroups(int64_t tokens, int64_t experts, int64_t k,
                         bool seqAux, int64_t batch, const char *op) {
  require(tokens >= 1, op, "needs a token");
  checkExperts(experts, 256, op);
  require(k >= 1 && k <= experts, op, "k must be in [1, E]");
  if (!seqAux)
    return 1;
  require(batch >= 1 && tokens % batch == 0, op,
          "batch = " + std::to_string(batch) + " must divide the " +
              std::to_string(tokens) + " tokens");
  return batch;
}

kabi::Launch<sig::moe_aux_loss_fwd>
kernels::moeAuxLoss(DType dtype, int64_t tokens, int64_t experts, int64_t k,
                    bool seqAux, int64_t batch) {
  const char *op = "moe_aux_loss";
  auxGroups(tokens, experts, k, seqAux, batch, op);
  return make<sig::moe_aux_loss_fwd>(dtype, 1, 1, 1024,
                                     static_cast<uint32_t>(experts * 4), op);
}

kabi::Launch<sig::moe_aux_loss_bwd>
kernels::moeAuxLossGrad(DType dtype, int64_t tokens, int64_t experts, int64_t k,
                        bool seqAux, int64_t batch) {
  const char *op = "moe_aux_loss_grad";
  int64_t groups = auxGroups(tokens, experts, k, seqAux, batch, op);
  int64_t perGroup = tokens / groups * experts;
  return make<sig::moe_aux_loss_bwd>(dtype, ceilDiv(perGroup, kAuxChunk),
                                     groups, 1024,
                                     static_cast<uint32_t>(experts * 4), op);
}

int64_t kernels::moeAuxLossGradChunk() { return kAuxChunk; }
