//===- MoeSpecs.h - launch rules of the mixture-of-experts kernels -*- C++ -*-//
//
// Kernels of runtime/kernels/moe.cuh and moe_gemm.cuh (OpSet.md: topk,
// moe_route, moe_dispatch, grouped_linear, moe_combine, moe_aux_loss and their
// gradients). Arguments in order: B = buffer pointer, I = int64, F = float.
// Shapes: T tokens, E experts, k = top_k, R = T*k routed rows, H hidden.
// Storage type "T" is the dtype argument (f32 / bf16 / f16); integer tensors
// are int64. Every kernel is deterministic (no float atomics).
//
// Workspaces the plan provides (ordinary int64 activation buffers):
//  - route tile counts [moeRouteTiles(R) * E] between moeRouteCount and
//    moeRouteScatter;
//  - the inverse permutation inv [R] (inv[perm[r]] = r), written by
//    moeInvertPerm right before moeDispatchGrad / moeCombine.
//
// Expert weights: the grouped GEMM kernels take kMoeMaxExperts (64) separate
// pointer arguments w_0 .. w_63 after their scalars: the E real ones, then any
// buffer (e.g. w_0 again) for the unused slots, which are never touched.
//
// Limits (checked here; std::invalid_argument otherwise): 1 <= E <= 64 (the
// pointer slots; routing and aux loss alone allow E <= 256), 1 <= k <= E,
// R < 2^31, aux loss with seq_aux: batch divides T.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_ABI_MOESPECS_H
#define MIND_ABI_MOESPECS_H

#include "mind/abi/Plan.h"

#include <cstdint>

namespace mind::runtime::kernels {

/// Expert-pointer slots of the grouped GEMM kernels.
constexpr int64_t kMoeMaxExperts = 64;
/// Slots per routing tile (one block of 1024 threads).
constexpr int64_t kMoeRouteTile = 1024;

/// topk forward: mind::moe_topk_fwd<T>.
/// Args: B scores [T,E] T, B weights [T,k] T (out), B indices [T,k] i64 (out),
/// I T, I E, I k, I normalize (0/1).
/// Descending, ties to the lower index; normalize: w /= (sum + 1e-20).
LaunchConfig moeTopK(DType dtype, int64_t tokens, int64_t experts, int64_t k);

/// topk_grad: mind::moe_topk_bwd<T>.
/// Args: B scores [T,E] T, B indices [T,k] i64, B dweights [T,k] T,
/// B dscores [T,E] T (out, fully written), I T, I E, I k, I normalize.
LaunchConfig moeTopKGrad(DType dtype, int64_t tokens, int64_t experts,
                         int64_t k);

/// moe_route is two launches (a stable counting sort in tiles of 1024 slots).
/// Workspace: tileCounts, int64 [moeRouteTiles(R) * E].
int64_t moeRouteTiles(int64_t rows);
/// 1) mind::moe_route_count. Args: B indices [R] i64 (the [T,k] tensor),
/// B tileCounts (workspace, out), I R, I E.
LaunchConfig moeRouteCount(int64_t rows, int64_t experts);
/// 2) mind::moe_route_scatter. Args: B indices, B tileCounts, B perm [R] i64
/// (out), B offsets [E+1] i64 (out), I R, I E.
LaunchConfig moeRouteScatter(int64_t rows, int64_t experts);

/// The inverse permutation: mind::moe_invert_perm.
/// Args: B perm [R] i64, B inv [R] i64 (workspace, out), I R.
LaunchConfig moeInvertPerm(int64_t rows);

/// moe_dispatch: mind::moe_dispatch_fwd<T>.
/// Args: B x [T,H] T, B perm [R] i64, B out [R,H] T (out), I R, I H, I k.
LaunchConfig moeDispatch(DType dtype, int64_t rows, int64_t hidden);

/// moe_dispatch_grad: mind::moe_dispatch_bwd<T>, after moeInvertPerm(R).
/// Args: B dxs [R,H] T, B inv [R] i64 (workspace), B dx [T,H] T (out),
/// I T, I H, I k. dx[t] = sum_j dxs[inv[t*k+j]] (j ascending).
LaunchConfig moeDispatchGrad(DType dtype, int64_t tokens, int64_t hidden);

/// grouped_linear: mind::moe_grouped_linear_fwd<T>.
/// Args: B x [R,K] T, B offsets [E+1] i64, B y [R,N] T (out), I R, I K, I N,
/// I E, B w_0 .. B w_63 (each [N,K] T; see kMoeMaxExperts).
LaunchConfig groupedLinear(DType dtype, int64_t rows, int64_t k, int64_t n,
                           int64_t experts);

/// grouped_linear_grad, dx part: mind::moe_grouped_linear_bwd_x<T>.
/// Args: B dy [R,N] T, B offsets [E+1] i64, B dx [R,K] T (out), I R, I K,
/// I N, I E, B w_0 .. B w_63 (each [N,K] T).
LaunchConfig groupedLinearGradX(DType dtype, int64_t rows, int64_t k, int64_t n,
                                int64_t experts);

/// grouped_linear_grad, weight part: mind::moe_grouped_linear_bwd_w<T>.
/// Args: B x [R,K] T, B dy [R,N] T, B offsets [E+1] i64, I R, I K, I N, I E,
/// B dw_0 .. B dw_63 (each [N,K] f32, out). dw_e is written, not accumulated
/// (the caller adds it to the gradient accumulator); zero for an expert
/// without rows.
LaunchConfig groupedLinearGradW(DType dtype, int64_t rows, int64_t k, int64_t n,
                                int64_t experts);

/// moe_combine: mind::moe_combine_fwd<T>, after moeInvertPerm(R).
/// Args: B y [R,H] T, B inv [R] i64 (workspace), B weights [T,k] T,
/// B out [T,H] T (out), I T, I H, I k.
LaunchConfig moeCombine(DType dtype, int64_t tokens, int64_t hidden);

/// moe_combine_grad: mind::moe_combine_bwd<T>.
/// Args: B y [R,H] T, B perm [R] i64, B weights [T,k] T, B dout [T,H] T,
/// B dy [R,H] T (out), B dweights [T,k] T (out), I R, I H, I k.
LaunchConfig moeCombineGrad(DType dtype, int64_t rows, int64_t hidden);

/// moe_aux_loss: mind::moe_aux_loss_fwd<T> (one block).
/// Args: B scores [T,E] T, B indices [T,k] i64, B out f32 [] (out, written),
/// I T, I E, I k, F alpha, I seq_aux (0/1), I batch.
LaunchConfig moeAuxLoss(DType dtype, int64_t tokens, int64_t experts, int64_t k,
                        bool seqAux, int64_t batch);

/// moe_aux_loss_grad: mind::moe_aux_loss_bwd<T>. The loss is linear in the
/// scores, so scores are not an argument.
/// Args: B indices [T,k] i64, B dloss f32 [] (device scalar), B dscores [T,E] T
/// (out, fully written), I T, I E, I k, F alpha, I seq_aux, I batch,
/// I chunk (= moeAuxLossGradChunk()).
LaunchConfig moeAuxLossGrad(DType dtype, int64_t tokens, int64_t experts,
                            int64_t k, bool seqAux, int64_t batch);
/// Elements of dscores per block of moe_aux_loss_bwd (its last argument).
int64_t moeAuxLossGradChunk();

} // namespace mind::runtime::kernels

#endif // MIND_ABI_MOESPECS_H
