//===- DenseKernelSpecs.h - launch rules of the dense kernels ---*- C++ -*-===//
//
// Launch rules of runtime/kernels/{elementwise,embedding,norm,loss}.cuh:
// embedding, RMSNorm, RoPE, elementwise ops, softmax, cross entropy and
// transpose. Each function documents the kernel's arguments in order
// (B = buffer pointer, I = int64, F = float) and any workspace or zeroing
// the caller must provide. T is the storage type of the DType argument
// (float / __nv_bfloat16 / __half); integer tensors (ids, targets, mask) are
// int64; "f32" marks buffers that are always float.
//
// Determinism: everything is bitwise deterministic for fixed shapes (no
// float atomics; embeddingGrad sums in a fixed order too).
//
//===----------------------------------------------------------------------===//

#ifndef MIND_ABI_DENSEKERNELSPECS_H
#define MIND_ABI_DENSEKERNELSPECS_H

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

/// mind::silu_fwd<T>: B x, B y, I n. y = x * sigmoid(x).
LaunchConfig silu(DType dtype, int64_t n);
/// mind::silu_grad<T>: B x, B dy, B dx, I n.
LaunchConfig siluGrad(DType dtype, int64_t n);
/// mind::add_fwd<T>: B a, B b, B y, I n.
LaunchConfig add(DType dtype, int64_t n);
/// mind::mul_fwd<T>: B a, B b, B y, I n.
LaunchConfig mul(DType dtype, int64_t n);
/// mind::swiglu_fwd<T>: B gate, B up, B y, I n. y = silu(gate) * up.
LaunchConfig swiglu(DType dtype, int64_t n);
/// mind::swiglu_grad<T>: B gate, B up, B dy, B dgate, B dup, I n.
LaunchConfig swigluGrad(DType dtype, int64_t n);
/// mind::cast_fwd<Tin, Tout>: B x, B y, I n. Converts through fp32,
/// rounding to nearest even (also bf16 <-> f16; from == to is a copy).
LaunchConfig cast(DType from, DType to, int64_t n);
/// mind::fill_fwd<T>: B y, I n, F value. (fill(F32, n) with value 0 also
/// zeroes an fp32 accumulator.)
LaunchConfig fill(DType dtype, int64_t n);
/// mind::accumulate_f32<T>: B acc (f32), B x (T), I n. acc += x: gradient
/// accumulation into fp32 buffers.
LaunchConfig accumulate(DType x, int64_t n);

/// mind::rope_fwd<T>: B x[B,S,N,D], B cos[S,D] f32, B sin[S,D] f32, B y,
/// I batch, I seq, I heads, I dim, I inverse (0 / 1: uses -sin, the VJP).
/// dim must be even. y may alias x (in-place rotation).
LaunchConfig rope(DType dtype, int64_t batch, int64_t seq, int64_t heads,
                  int64_t dim);

/// mind::transpose_fwd<T>: B in, B out, then the 9 int64 of transposeArgs
/// (I n, I size0..size3, I stride0..stride3). T may also be I64 / I32
/// ("long long" / "int"). Rank <= 4; out.shape[i] = in.shape[perm[i]].
LaunchConfig transpose(DType dtype, const std::vector<int64_t> &inShape);
/// The int64 arguments of transpose_fwd: element count, the output sizes
/// padded to rank 4 with leading 1s, and for each output dim the input
/// stride it walks. Throws std::invalid_argument for a rank > 4 or a bad
/// permutation.
std::array<int64_t, 9> transposeArgs(const std::vector<int64_t> &inShape,
                                     const std::vector<int64_t> &perm);

//===----------------------------------------------------------------------===//
// Embedding
//===----------------------------------------------------------------------===//

/// mind::embedding_fwd<T>: B table[V,H], B ids[N] i64, B out[N,H], I N (tokens),
/// I H, I V. An id outside [0, V) yields a NaN row.
LaunchConfig embedding(DType dtype, int64_t tokens, int64_t hidden);
/// The embedding gradient in two launches, deterministic (no float atomics):
/// runs = mind::embedding_grad_runs<T>:
///   B dy[N,H], B ids[N] i64, B partial, B runIds, B runCount, I N, I H, I V
///   per chunk of 256 tokens, one fp32 partial row per distinct id;
/// reduce = mind::embedding_grad_reduce:
///   B partial, B runIds, B runCount, B dtable[V,H] f32, I chunks, I H, I V
///   ACCUMULATES each row's partials into dtable in chunk order: zero dtable
///   first (MemsetStep) for a fresh gradient, or point it at the fp32 Grad
///   accumulator directly. Ids outside [0, V) are skipped.
/// Workspaces (`workspaces`, in this order, live from runs to reduce):
///   "partial" f32 [chunks*256, H], "run_ids" i64 [chunks*256],
///   "run_count" i64 [chunks], chunks = max(1, ceil(N / 256)).
struct EmbeddingGrad {
  LaunchConfig runs, reduce;
  int64_t chunks = 1;
  std::vector<KernelWorkspace> workspaces;
};
EmbeddingGrad embeddingGrad(DType dtype, int64_t tokens, int64_t hidden,
                            int64_t vocab);

//===----------------------------------------------------------------------===//
// RMSNorm (one warp per row; statistics in fp32)
//===----------------------------------------------------------------------===//

/// mind::rmsnorm_fwd<T, W>: B x[rows,H], B w[H] (W = T or float), B y[rows,H],
/// I rows, I H, F eps.
LaunchConfig rmsnorm(DType x, DType w, int64_t rows, int64_t hidden);

/// Backward, two launches (deterministic two-stage reduction of dw; no
/// atomics, no memset):
/// 1. mind::rmsnorm_grad<T, W>: B x, B w, B dy, B dx, B partial, I rows,
///    I H, F eps. `partial` is an f32 workspace of
///    rmsnormGradPartials(rows, H) * H floats, fully overwritten.
LaunchConfig rmsnormGrad(DType x, DType w, int64_t rows, int64_t hidden);
/// Rows of rmsnorm_grad's partial workspace (its grid size).
int64_t rmsnormGradPartials(int64_t rows, int64_t hidden);
/// 2. mind::rmsnorm_grad_dw: B partial, B dw[H] f32, I numPartial
///    (= rmsnormGradPartials(rows, H)), I H, I accumulate (0: dw = sum,
///    1: dw += sum, e.g. straight into the fp32 Grad accumulator).
LaunchConfig rmsnormGradDw(int64_t hidden);

//===----------------------------------------------------------------------===//
// Softmax over the last dim (rows x cols; fp32 math)
//===----------------------------------------------------------------------===//

/// mind::softmax_fwd<T>: B x, B y, I rows, I cols.
LaunchConfig softmax(DType dtype, int64_t rows, int64_t cols);
/// mind::softmax_grad<T>: B y, B dy, B dx, I rows, I cols.
LaunchConfig softmaxGrad(DType dtype, int64_t rows, int64_t cols);

//===----------------------------------------------------------------------===//
// Masked cross entropy: loss = sum(ce * mask) / sum(mask)
//===----------------------------------------------------------------------===//

/// Forward, two launches, deterministic, no memset:
/// 1. mind::cross_entropy_fwd<T>: B logits[rows,V], B targets[rows] i64,
///    B mask[rows] i64, B rowLoss, I rows, I V. rowLoss is an f32 workspace
///    of `rows` floats, fully overwritten (ce * mask per row).
LaunchConfig crossEntropy(DType dtype, int64_t rows, int64_t vocab);
/// 2. mind::cross_entropy_finalize: B rowLoss, B mask, B loss (f32 scalar),
///    I rows. An all-zero mask gives NaN (as PyTorch).
LaunchConfig crossEntropyFinalize(int64_t rows);

/// Backward, two launches:
/// 1. mind::cross_entropy_mask_sum: B mask, B norm, I rows. norm is an f32
///    workspace of 1 float, overwritten with sum(mask).
LaunchConfig crossEntropyMaskSum(int64_t rows);
/// 2. mind::cross_entropy_grad<T>: B logits, B targets, B mask,
///    B dloss (f32 scalar), B norm (from step 1), B dlogits[rows,V], I rows,
///    I V. Masked-out rows get 0 (all rows NaN when sum(mask) == 0).
LaunchConfig crossEntropyGrad(DType dtype, int64_t rows, int64_t vocab);

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
