//===- DenseKernelSpecs.cpp - launch rules of the dense kernels -----------===//

#include "mind/abi/DenseKernelSpecs.h"
#include "mind/abi/KernelSpecs.h"

#include <algorithm>
#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>

using namespace mind::runtime;
using namespace mind::runtime::kernels;
namespace sig = mind::sig;

namespace {
// Elements per thread and step of the flat kernels (kEwPack) and of the row
// kernels (kNormPack, kLossPack).
constexpr int64_t kPack = 4;
// Grid-stride loops cover the rest; enough blocks to fill any current GPU.
constexpr int64_t kMaxFlatBlocks = 8192;
constexpr int64_t kFlatThreads = 256;
// Blocks of rmsnorm_grad, so also rows of its partial-dw workspace.
constexpr int64_t kMaxNormGradBlocks = 512;
// Stay under the 48 KB of shared memory every launch gets without opt-in.
constexpr int64_t kDefaultSharedBytes = 48 * 1024;
constexpr int64_t kMaxSharedBytes = 227 * 1024; // sm_90 opt-in limit

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

uint32_t clampGrid(int64_t blocks, int64_t cap) {
  return static_cast<uint32_t>(std::clamp<int64_t>(blocks, 1, cap));
}

void requireNonNegative(int64_t v, const char *what) {
  if (v < 0)
    throw std::invalid_argument(std::string("negative ") + what);
}

template <class S>
kabi::Launch<S> flat(const std::vector<std::string> &templateArgs, int64_t n) {
  requireNonNegative(n, "element count");
  kabi::Launch<S> c;
  c.nameExpr = instance<S>(templateArgs);
  c.block = {static_cast<uint32_t>(kFlatThreads), 1, 1};
  c.grid = {clampGrid(ceilDiv(ceilDiv(n, kPack), kFlatThreads), kMaxFlatBlocks),
            1, 1};
  return c;
}

// Row kernels owned by one warp (block (32, 8)) when rows are short, or by a
// whole block otherwise.
template <class S>
kabi::Launch<S> rowGroups(DType dtype, int64_t rows, int64_t cols,
                          int64_t blockThreads) {
  kabi::Launch<S> c;
  c.nameExpr = instance<S>({cudaTypeName(dtype)});
  if (cols <= 1024) {
    c.block = {32, 8, 1};
    c.grid = {clampGrid(ceilDiv(rows, 8), INT32_MAX), 1, 1};
  } else {
    c.block = {static_cast<uint32_t>(blockThreads), 1, 1};
    c.grid = {clampGrid(rows, INT32_MAX), 1, 1};
  }
  return c;
}

// Threads of a block that owns one cross-entropy row.
uint32_t lossThreads(int64_t vocab) {
  return vocab <= 256 ? 32 : vocab <= 2048 ? 128 : 256;
}

// Warps per rmsnorm_grad block: each holds an fp32 dw row in shared memory.
int64_t normGradWarps(int64_t hidden) {
  return std::clamp<int64_t>(kDefaultSharedBytes / (hidden * 4), 1, 8);
}
} // namespace

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

kabi::Launch<sig::silu_fwd> mind::runtime::kernels::silu(DType dtype,
                                                         int64_t n) {
  return flat<sig::silu_fwd>({cudaTypeName(dtype)}, n);
}
kabi::Launch<sig::silu_grad> mind::runtime::kernels::siluGrad(DType dtype,
                                                              int64_t n) {
  return flat<sig::silu_grad>({cudaTypeName(dtype)}, n);
}
kabi::Launch<sig::add_fwd> mind::runtime::kernels::add(DType dtype, int64_t n) {
  return flat<sig::add_fwd>({cudaTypeName(dtype)}, n);
}
kabi::Launch<sig::mul_fwd> mind::runtime::kernels::mul(DType dtype, int64_t n) {
  return flat<sig::mul_fwd>({cudaTypeName(dtype)}, n);
}
kabi::Launch<sig::swiglu_fwd> mind::runtime::kernels::swiglu(DType dtype,
                                                             int64_t n) {
  return flat<sig::swiglu_fwd>({cudaTypeName(dtype)}, n);
}
kabi::Launch<sig::swiglu_grad> mind::runtime::kernels::swigluGrad(DType dtype,
                                                                  int64_t n) {
  return flat<sig::swiglu_grad>({cudaTypeName(dtype)}, n);
}
kabi::Launch<sig::cast_fwd> mind::runtime::kernels::cast(DType from, DType to,
                                                         int64_t n) {
  return flat<sig::cast_fwd>({cudaTypeName(from), cudaTypeName(to)}, n);
}
kabi::Launch<sig::fill_fwd> mind::runtime::kernels::fill(DType dtype,
                                                         int64_t n) {
  return flat<sig::fill_fwd>({cudaTypeName(dtype)}, n);
}
kabi::Launch<sig::accumulate_f32>
mind::runtime::kernels::accumulate(DType x, int64_t n) {
  return flat<sig::accumulate_f32>({cudaTypeName(x)}, n);
}

kabi::Launch<sig::rope_fwd>
mind::runtime::kernels::rope(DType dtype, int64_t batch, int64_t seq,
                             int64_t heads, int64_t dim) {
  if (dim <= 0 || dim % 2 != 0)
    throw std::invalid_argument("rope: head dim must be even and positive");
  requireNonNegative(batch * seq * heads, "rope row count");
  // One thread per 4 rotation pairs where D/2 % 4 == 0 (the kernel falls
  // back to one pair per thread, grid stride, on unaligned bases).
  int64_t half = dim / 2, groups = half % 4 == 0 ? half / 4 : half;
  kabi::Launch<sig::rope_fwd> c;
  c.nameExpr = instance<sig::rope_fwd>({cudaTypeName(dtype)});
  c.block = {static_cast<uint32_t>(kFlatThreads), 1, 1};
  c.grid = {clampGrid(ceilDiv(batch * seq * heads * groups, kFlatThreads),
                      65536),
            1, 1};
  return c;
}

kabi::Launch<sig::transpose_fwd>
mind::runtime::kernels::transpose(DType dtype,
                                  const std::vector<int64_t> &inShape) {
  std::string type;
  if (dtype == DType::I64)
    type = "long long";
  else if (dtype == DType::I32)
    type = "int";
  else
    type = cudaTypeName(dtype);
  int64_t n = 1;
  for (int64_t d : inShape) {
    requireNonNegative(d, "transpose dimension");
    n *= d;
  }
  kabi::Launch<sig::transpose_fwd> c;
  c.nameExpr = instance<sig::transpose_fwd>({type});
  c.block = {static_cast<uint32_t>(kFlatThreads), 1, 1};
  c.grid = {clampGrid(ceilDiv(n, kFlatThreads), kMaxFlatBlocks * 4), 1, 1};
  return c;
}

std::array<int64_t, 9>
mind::runtime::kernels::transposeArgs(const std::vector<int64_t> &inShape,
                                      const std::vector<int64_t> &perm) {
  size_t rank = inShape.size();
  if (rank > 4 || perm.size() != rank)
    throw std::invalid_argument("transpose: rank must be <= 4 and match the "
                                "permutation");
  std::vector<bool> seen(rank, false);
  for (int64_t p : perm) {
    if (p < 0 || p >= static_cast<int64_t>(rank) || seen[p])
      throw std::invalid_argument("transpose: not a permutation");
    seen[p] = true;
  }
  std::vector<int64_t> inStride(rank, 1);
  for (int64_t i = static_cast<int64_t>(rank) - 2; i >= 0; --i)
    inStride[i] = inStride[i + 1] * inShape[i + 1];
  std::array<int64_t, 9> a{};
  a[0] = 1;
  size_t pad = 4 - rank;
  for (size_t i = 0; i < 4; ++i) {
    bool real = i >= pad;
    a[1 + i] = real ? inShape[perm[i - pad]] : 1;
    a[5 + i] = real ? inStride[perm[i - pad]] : 0;
    a[0] *= a[1 + i];
  }
  return a;
}

//===----------------------------------------------------------------------===//
// Embedding
//===----------------------------------------------------------------------===//

kabi::Launch<sig::embedding_fwd>
mind::runtime::kernels::embedding(DType dtype, int64_t tokens, int64_t hidden) {
  requireNonNegative(tokens, "token count");
  // One 16-byte chunk per thread and step.
  int64_t chunks = ceilDiv(hidden * static_cast<int64_t>(dtypeSize(dtype)), 16);
  kabi::Launch<sig::embedding_fwd> c;
  c.nameExpr = instance<sig::embedding_fwd>({cudaTypeName(dtype)});
  c.block = {static_cast<uint32_t>(
                 std::clamp<int64_t>(ceilDiv(chunks, 32) * 32, 32, 256)),
             1, 1};
  c.grid = {clampGrid(tokens, INT32_MAX), 1, 1};
  return c;
}

EmbeddingGrad mind::runtime::kernels::embeddingGrad(DType dtype, int64_t tokens,
                                                    int64_t hidden,
                                                    int64_t vocab) {
  requireNonNegative(tokens, "token count");
  requireNonNegative(hidden, "hidden size");
  requireNonNegative(vocab, "vocabulary size");
  constexpr int64_t kChunk = 256; // emb_detail::kChunk
  EmbeddingGrad g;
  g.chunks = std::max<int64_t>(1, ceilDiv(tokens, kChunk));
  g.runs.nameExpr = instance<sig::embedding_grad_runs>({cudaTypeName(dtype)});
  g.runs.block = {static_cast<uint32_t>(kChunk), 1, 1};
  constexpr int64_t kCols = 128; // emb_detail::kCols: columns per block
  g.runs.grid = {clampGrid(g.chunks, INT32_MAX),
                 clampGrid(ceilDiv(std::max<int64_t>(hidden, 1), kCols), 65535),
                 1};
  if (g.runs.grid[0] != g.chunks ||
      static_cast<int64_t>(g.runs.grid[1]) * kCols < hidden)
    throw std::invalid_argument(
        "embedding gradient: too many tokens or too wide a row");
  g.reduce.nameExpr = instance<sig::embedding_grad_reduce>();
  g.reduce.block = {128, 1, 1}; // one chunk per thread in each search round
  g.reduce.grid = {clampGrid(std::max<int64_t>(vocab, 1), 65536), 1, 1};
  g.workspaces = {{"partial", DType::F32, {g.chunks * kChunk, hidden}},
                  {"run_ids", DType::I64, {g.chunks * kChunk}},
                  {"run_count", DType::I64, {g.chunks}}};
  return g;
}

//===----------------------------------------------------------------------===//
// RMSNorm
//===----------------------------------------------------------------------===//

namespace {
/// One warp per row, 8 rows per block (rmsnorm_fwd and rmsnorm_fwd_cast).
template <class S>
kabi::Launch<S> rmsnormRows(std::vector<std::string> types, int64_t rows,
                            int64_t hidden) {
  requireNonNegative(rows, "row count");
  if (hidden <= 0)
    throw std::invalid_argument("rmsnorm: hidden size must be positive");
  kabi::Launch<S> c;
  c.nameExpr = instance<S>(types);
  c.block = {32, 8, 1};
  c.grid = {clampGrid(ceilDiv(rows, 8), INT32_MAX), 1, 1};
  return c;
}
} // namespace

kabi::Launch<sig::rmsnorm_fwd> mind::runtime::kernels::rmsnorm(DType x, DType w,
                                                               int64_t rows,
                                                               int64_t hidden) {
  return rmsnormRows<sig::rmsnorm_fwd>({cudaTypeName(x), cudaTypeName(w)},
                                       rows, hidden);
}

kabi::Launch<sig::rmsnorm_fwd_cast>
mind::runtime::kernels::rmsnormCast(DType x, DType w, DType y, int64_t rows,
                                    int64_t hidden) {
  return rmsnormRows<sig::rmsnorm_fwd_cast>(
      {cudaTypeName(x), cudaTypeName(w), cudaTypeName(y)}, rows, hidden);
}

kabi::Launch<sig::add_rmsnorm_fwd>
mind::runtime::kernels::addRmsnorm(DType sum, DType delta, DType w, DType y,
                                   int64_t rows, int64_t hidden) {
  return rmsnormRows<sig::add_rmsnorm_fwd>(
      {cudaTypeName(sum), cudaTypeName(delta), cudaTypeName(w),
       cudaTypeName(y)},
      rows, hidden);
}

int64_t mind::runtime::kernels::rmsnormGradPartials(int64_t rows,
                                                    int64_t hidden) {
  return std::clamp<int64_t>(ceilDiv(rows, normGradWarps(hidden)), 1,
                             kMaxNormGradBlocks);
}

namespace {
/// Warps of fp32 dw rows in shared memory (rmsnorm_grad, rmsnorm_grad_dy).
template <class S>
kabi::Launch<S> rmsnormGradRows(std::vector<std::string> types, int64_t rows,
                                int64_t hidden) {
  requireNonNegative(rows, "row count");
  if (hidden <= 0 || hidden * 4 > kMaxSharedBytes)
    throw std::invalid_argument("rmsnorm_grad: hidden size " +
                                std::to_string(hidden) + " unsupported");
  int64_t warps = normGradWarps(hidden);
  kabi::Launch<S> c;
  c.nameExpr = instance<S>(types);
  c.block = {32, static_cast<uint32_t>(warps), 1};
  c.grid = {static_cast<uint32_t>(
                mind::runtime::kernels::rmsnormGradPartials(rows, hidden)),
            1, 1};
  c.sharedBytes = static_cast<uint32_t>(warps * hidden * 4);
  return c;
}
} // namespace

kabi::Launch<sig::rmsnorm_grad>
mind::runtime::kernels::rmsnormGrad(DType x, DType w, int64_t rows,
                                    int64_t hidden) {
  return rmsnormGradRows<sig::rmsnorm_grad>(
      {cudaTypeName(x), cudaTypeName(w)}, rows, hidden);
}

kabi::Launch<sig::rmsnorm_grad_dy>
mind::runtime::kernels::rmsnormGradDy(DType x, DType w, DType dy, int64_t rows,
                                      int64_t hidden) {
  return rmsnormGradRows<sig::rmsnorm_grad_dy>(
      {cudaTypeName(x), cudaTypeName(w), cudaTypeName(dy)}, rows, hidden);
}

kabi::Launch<sig::rmsnorm_grad_residual>
mind::runtime::kernels::rmsnormGradResidual(DType x, DType w, DType dy,
                                            int64_t rows, int64_t hidden) {
  return rmsnormGradRows<sig::rmsnorm_grad_residual>(
      {cudaTypeName(x), cudaTypeName(w), cudaTypeName(dy)}, rows, hidden);
}

kabi::Launch<sig::rmsnorm_grad_residual_cast>
mind::runtime::kernels::rmsnormGradResidualCast(DType x, DType w, DType dy,
                                                DType narrow, int64_t rows,
                                                int64_t hidden) {
  return rmsnormGradRows<sig::rmsnorm_grad_residual_cast>(
      {cudaTypeName(x), cudaTypeName(w), cudaTypeName(dy),
       cudaTypeName(narrow)},
      rows, hidden);
}

kabi::Launch<sig::rmsnorm_grad_dw>
mind::runtime::kernels::rmsnormGradDw(int64_t hidden) {
  kabi::Launch<sig::rmsnorm_grad_dw> c;
  c.nameExpr = instance<sig::rmsnorm_grad_dw>();
  // 8 columns (one 32-byte sector per partial row) by the kernel's 8 row
  // shares: hidden / 8 blocks, enough to fill the GPU at MiniMind's sizes.
  c.block = {8, 8, 1};
  c.grid = {clampGrid(ceilDiv(hidden, 8), INT32_MAX), 1, 1};
  return c;
}

//===----------------------------------------------------------------------===//
// Softmax and cross entropy
//===----------------------------------------------------------------------===//

kabi::Launch<sig::softmax_fwd>
mind::runtime::kernels::softmax(DType dtype, int64_t rows, int64_t cols) {
  requireNonNegative(rows, "row count");
  return rowGroups<sig::softmax_fwd>(dtype, rows, cols,
                                     cols <= 8192 ? 256 : 512);
}

kabi::Launch<sig::softmax_grad>
mind::runtime::kernels::softmaxGrad(DType dtype, int64_t rows, int64_t cols) {
  requireNonNegative(rows, "row count");
  return rowGroups<sig::softmax_grad>(dtype, rows, cols,
                                      cols <= 8192 ? 256 : 512);
}

kabi::Launch<sig::cross_entropy_fwd>
mind::runtime::kernels::crossEntropy(DType dtype, int64_t rows, int64_t vocab) {
  requireNonNegative(rows, "row count");
  kabi::Launch<sig::cross_entropy_fwd> c;
  c.nameExpr = instance<sig::cross_entropy_fwd>({cudaTypeName(dtype)});
  c.block = {lossThreads(vocab), 1, 1};
  c.grid = {clampGrid(rows, INT32_MAX), 1, 1};
  return c;
}

kabi::Launch<sig::cross_entropy_finalize>
mind::runtime::kernels::crossEntropyFinalize(int64_t rows) {
  requireNonNegative(rows, "row count");
  kabi::Launch<sig::cross_entropy_finalize> c;
  c.nameExpr = instance<sig::cross_entropy_finalize>();
  c.block = {1024, 1, 1};
  return c;
}

kabi::Launch<sig::cross_entropy_mask_sum>
mind::runtime::kernels::crossEntropyMaskSum(int64_t rows) {
  requireNonNegative(rows, "row count");
  kabi::Launch<sig::cross_entropy_mask_sum> c;
  c.nameExpr = instance<sig::cross_entropy_mask_sum>();
  c.block = {1024, 1, 1};
  return c;
}

kabi::Launch<sig::cross_entropy_grad>
mind::runtime::kernels::crossEntropyGrad(DType dtype, int64_t rows,
                                         int64_t vocab) {
  requireNonNegative(rows, "row count");
  kabi::Launch<sig::cross_entropy_grad> c;
  c.nameExpr = instance<sig::cross_entropy_grad>({cudaTypeName(dtype)});
  c.block = {lossThreads(vocab), 1, 1};
  c.grid = {clampGrid(rows, INT32_MAX), 1, 1};
  return c;
}

//===----------------------------------------------------------------------===//
// All of the above
//===----------------------------------------------------------------------===//

std::vector<std::string> mind::runtime::kernels::denseKernelNames(DType t) {
  std::vector<LaunchConfig> cfgs = {silu(t, 1),
                                    siluGrad(t, 1),
                                    add(t, 1),
                                    mul(t, 1),
                                    swiglu(t, 1),
                                    swigluGrad(t, 1),
                                    fill(t, 1),
                                    accumulate(t, 1),
                                    rope(t, 1, 1, 1, 2),
                                    transpose(t, {1}),
                                    transpose(DType::I64, {1}),
                                    transpose(DType::I32, {1}),
                                    embedding(t, 1, 1),
                                    embeddingGrad(t, 1, 1, 1).runs,
                                    embeddingGrad(t, 1, 1, 1).reduce,
                                    rmsnorm(t, t, 1, 1),
                                    rmsnorm(t, DType::F32, 1, 1),
                                    rmsnormCast(DType::F32, DType::F32, t, 1, 1),
                                    rmsnormGrad(t, t, 1, 1),
                                    rmsnormGrad(t, DType::F32, 1, 1),
                                    rmsnormGradDy(DType::F32, DType::F32, t, 1, 1),
                                    addRmsnorm(DType::F32, t, DType::F32, t, 1, 1),
                                    rmsnormGradResidual(DType::F32, DType::F32, t, 1, 1),
                                    rmsnormGradResidualCast(DType::F32, DType::F32, t, t, 1, 1),
                                    rmsnormGradDw(1),
                                    softmax(t, 1, 1),
                                    softmaxGrad(t, 1, 1),
                                    crossEntropy(t, 1, 1),
                                    crossEntropyFinalize(1),
                                    crossEntropyMaskSum(1),
                                    crossEntropyGrad(t, 1, 1)};
  for (DType u : {DType::F32, DType::BF16, DType::F16}) {
    cfgs.push_back(cast(t, u, 1));
    cfgs.push_back(cast(u, t, 1));
  }
  std::set<std::string> seen;
  std::vector<std::string> names;
  for (const LaunchConfig &c : cfgs)
    if (seen.insert(c.nameExpr).second)
      names.push_back(c.nameExpr);
  return names;
}
