//===- DenseKernelSpecs.h - launch rules of the dense kernels ---*- C++ -*-===//
//
// Launch rules of runtime/kernels/{elementwise,embedding,norm,loss}.cuh:
// embedding, RMSNorm, RoPE, elementwise ops, softmax, cross entropy and
// transpose. The kernels' parameters are in KernelSignatures.h (sig::<name>);
// each function here says what the kernel computes and any workspace or
// zeroing the caller must provide. T is the storage type of the DType
// argument (float / __nv_bfloat16 / __half).
//
// Determinism: everything is bitwise deterministic for fixed shapes (no
// float atomics; embeddingGrad sums in a fixed order too).
//
//===----------------------------------------------------------------------===//

#ifndef MIND_ABI_DENSEKERNELSPECS_H
#define MIND_ABI_DENSEKERNELSPECS_H

#include "mind/abi/KernelAbi.h"
#include "mind/abi/Plan.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace mind::runtime::kernels {

//===----------------------------------------------------------------------===//
// Elementwise over n elements (any n >= 0; any pointer alignment, vector
// accesses when aligned). Outputs may alias inputs of the same type.
//===----------------------------------------------------------------------===//

/// mind::silu_fwd<T>: y = x * sigmoid(x).
kabi::Launch<sig::silu_fwd> silu(DType dtype, int64_t n);
/// mind::silu_grad<T>: dx = dy * silu'(x).
kabi::Launch<sig::silu_grad> siluGrad(DType dtype, int64_t n);
/// mind::add_fwd<T>: y = a + b.
kabi::Launch<sig::add_fwd> add(DType dtype, int64_t n);
/// mind::mul_fwd<T>: y = a * b.
kabi::Launch<sig::mul_fwd> mul(DType dtype, int64_t n);
/// mind::swiglu_fwd<T>: y = silu(gate) * up.
kabi::Launch<sig::swiglu_fwd> swiglu(DType dtype, int64_t n);
/// mind::swiglu_grad<T>: dgate and dup of y = silu(gate) * up.
kabi::Launch<sig::swiglu_grad> swigluGrad(DType dtype, int64_t n);
/// mind::cast_fwd<Tin, Tout>: converts through fp32,
/// rounding to nearest even (also bf16 <-> f16; from == to is a copy).
kabi::Launch<sig::cast_fwd> cast(DType from, DType to, int64_t n);
/// mind::fill_fwd<T>: y = value. (fill(F32, n) with value 0 also zeroes an
/// fp32 accumulator.)
kabi::Launch<sig::fill_fwd> fill(DType dtype, int64_t n);
/// mind::accumulate_f32<T>: acc += x, gradient accumulation into fp32
/// buffers.
kabi::Launch<sig::accumulate_f32> accumulate(DType x, int64_t n);

/// mind::rope_fwd<T>: rotate-half RoPE of x [B,S,N,D] with f32 tables
/// cos/sin [S,D]; inverse = 1 uses -sin (the VJP). dim must be even. y may
/// alias x (in-place rotation).
kabi::Launch<sig::rope_fwd> rope(DType dtype, int64_t batch, int64_t seq,
                                 int64_t heads, int64_t dim);

/// mind::transpose_fwd<T>: its nine int64 arguments are transposeArgs'. T
/// may also be I64 / I32 ("long long" / "int"). Rank <= 4;
/// out.shape[i] = in.shape[perm[i]].
kabi::Launch<sig::transpose_fwd> transpose(DType dtype,
                                           const std::vector<int64_t> &inShape);
/// The int64 arguments of transpose_fwd: element count, the output sizes
/// padded to rank 4 with leading 1s, and for each output dim the input
/// stride it walks. Throws std::invalid_argument for a rank > 4 or a bad
/// permutation.
std::array<int64_t, 9> transposeArgs(const std::vector<int64_t> &inShape,
                                     const std::vector<int64_t> &perm);

//===----------------------------------------------------------------------===//
// Embedding
//===----------------------------------------------------------------------===//

/// mind::embedding_fwd<T>: out[N,H] = table[ids]. An id outside [0, V)
/// yields a NaN row.
kabi::Launch<sig::embedding_fwd> embedding(DType dtype, int64_t tokens,
                                           int64_t hidden);
/// The embedding gradient in two launches, deterministic (no float atomics):
/// runs = mind::embedding_grad_runs<T>: per chunk of 256 tokens, one fp32
///   partial row per distinct id;
/// reduce = mind::embedding_grad_reduce: ACCUMULATES each row's partials
///   into dtable [V,H] f32 in chunk order: zero dtable
///   first (MemsetStep) for a fresh gradient, or point it at the fp32 Grad
///   accumulator directly. Ids outside [0, V) are skipped.
/// Workspaces (`workspaces`, in this order, live from runs to reduce):
///   "partial" f32 [chunks*256, H], "run_ids" i64 [chunks*256],
///   "run_count" i64 [chunks], chunks = max(1, ceil(N / 256)).
struct EmbeddingGrad {
  kabi::Launch<sig::embedding_grad_runs> runs;
  kabi::Launch<sig::embedding_grad_reduce> reduce;
  int64_t chunks = 1;
  std::vector<KernelWorkspace> workspaces;
};
EmbeddingGrad embeddingGrad(DType dtype, int64_t tokens, int64_t hidden,
                            int64_t vocab);

//===----------------------------------------------------------------------===//
// RMSNorm (one warp per row; statistics in fp32)
//===----------------------------------------------------------------------===//

/// mind::rmsnorm_fwd<T, W>: y = w * x * rsqrt(mean(x^2) + eps) over rows of
/// H, w of T or float.
kabi::Launch<sig::rmsnorm_fwd> rmsnorm(DType x, DType w, int64_t rows,
                                       int64_t hidden);
/// mind::rmsnorm_fwd_cast<T, W, Y>: rmsnorm_fwd's value (computed in fp32,
/// as for T) rounded to Y when stored: RMSNorm fused with the cast of its
/// output (mind-fuse-rmsnorm-cast), bit for bit the two ops.
kabi::Launch<sig::rmsnorm_fwd_cast> rmsnormCast(DType x, DType w, DType y,
                                                int64_t rows, int64_t hidden);

/// mind::add_rmsnorm_fwd<T, D, W, Y>: sum = residual (T) + delta (D, T or
/// narrower), then y = rmsnorm(sum) stored as Y (T or narrower): the
/// residual add and the norm in one pass (mind.add_rmsnorm); launched as
/// rmsnorm_fwd.
kabi::Launch<sig::add_rmsnorm_fwd> addRmsnorm(DType sum, DType delta, DType w,
                                              DType y, int64_t rows,
                                              int64_t hidden);

/// Backward, two launches (deterministic two-stage reduction of dw; no
/// atomics, no memset):
/// 1. mind::rmsnorm_grad<T, W>: dx, and per-block dw sums in `partial`, an
///    f32 workspace of rmsnormGradPartials(rows, H) * H floats, fully
///    overwritten.
kabi::Launch<sig::rmsnorm_grad> rmsnormGrad(DType x, DType w, int64_t rows,
                                            int64_t hidden);
/// mind::rmsnorm_grad_dy<T, W, D>: rmsnorm_grad with dy of a narrower type
/// D, widened exactly as it is loaded (the gradient fused with the cast of
/// its incoming gradient, mind-fuse-rmsnorm-cast); same launch shape.
kabi::Launch<sig::rmsnorm_grad_dy> rmsnormGradDy(DType x, DType w, DType dy,
                                                 int64_t rows, int64_t hidden);
/// mind::rmsnorm_grad_residual<T, W, D>: rmsnorm_grad_dy whose dx is added
/// to residualGrad (T) before it is stored (mind.rmsnorm_grad_residual);
/// rmsnorm_grad_residual_cast<T, W, D, N> also stores that sum rounded to N.
/// Same launch shape and partial workspace as rmsnorm_grad.
kabi::Launch<sig::rmsnorm_grad_residual>
rmsnormGradResidual(DType x, DType w, DType dy, int64_t rows, int64_t hidden);
kabi::Launch<sig::rmsnorm_grad_residual_cast>
rmsnormGradResidualCast(DType x, DType w, DType dy, DType narrow, int64_t rows,
                        int64_t hidden);
/// Rows of rmsnorm_grad's (and its variants') partial workspace (its grid
/// size).
int64_t rmsnormGradPartials(int64_t rows, int64_t hidden);
/// 2. mind::rmsnorm_grad_dw: dw[H] f32 from numPartial
///    (= rmsnormGradPartials(rows, H)) partials; accumulate 0: dw = sum,
///    1: dw += sum (e.g. straight into the fp32 Grad accumulator).
kabi::Launch<sig::rmsnorm_grad_dw> rmsnormGradDw(int64_t hidden);

//===----------------------------------------------------------------------===//
// Softmax over the last dim (rows x cols; fp32 math)
//===----------------------------------------------------------------------===//

/// mind::softmax_fwd<T>: softmax of each row.
kabi::Launch<sig::softmax_fwd> softmax(DType dtype, int64_t rows, int64_t cols);
/// mind::softmax_grad<T>: dx from the softmax output y and dy.
kabi::Launch<sig::softmax_grad> softmaxGrad(DType dtype, int64_t rows,
                                            int64_t cols);

//===----------------------------------------------------------------------===//
// Masked cross entropy: loss = sum(ce * mask) / sum(mask)
//===----------------------------------------------------------------------===//

/// Forward, two launches, deterministic, no memset:
/// 1. mind::cross_entropy_fwd<T>: rowLoss, an f32 workspace of `rows`
///    floats, fully overwritten (ce * mask per row).
kabi::Launch<sig::cross_entropy_fwd> crossEntropy(DType dtype, int64_t rows,
                                                  int64_t vocab);
/// 2. mind::cross_entropy_finalize: loss (f32 scalar). An all-zero mask
///    gives NaN (as PyTorch).
kabi::Launch<sig::cross_entropy_finalize> crossEntropyFinalize(int64_t rows);

/// Backward, two launches:
/// 1. mind::cross_entropy_mask_sum: norm, an f32 workspace of 1 float,
///    overwritten with sum(mask).
kabi::Launch<sig::cross_entropy_mask_sum> crossEntropyMaskSum(int64_t rows);
/// 2. mind::cross_entropy_grad<T>: dlogits[rows,V] from dloss (f32 scalar)
///    and norm (step 1). Masked-out rows get 0 (all rows NaN when
///    sum(mask) == 0).
kabi::Launch<sig::cross_entropy_grad>
crossEntropyGrad(DType dtype, int64_t rows, int64_t vocab);

//===----------------------------------------------------------------------===//
// All of the above
//===----------------------------------------------------------------------===//

/// Every dense name expression for storage type `dtype` (f32/bf16/f16):
/// each kernel above, rmsnorm with w of `dtype` and of f32, casts from and
/// to every float type, integer transposes and the untemplated kernels (for
/// compile checks and for plans that want the whole family).
std::vector<std::string> denseKernelNames(DType dtype);

} // namespace mind::runtime::kernels

#endif // MIND_ABI_DENSEKERNELSPECS_H
