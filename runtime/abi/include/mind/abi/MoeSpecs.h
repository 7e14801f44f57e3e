//===- MoeSpecs.h - launch rules of the mixture-of-experts kernels -*- C++ -*-//
//
// Kernels of runtime/kernels/moe.cuh and moe_gemm.cuh (OpSet.md: topk,
// moe_route, moe_dispatch, grouped_linear, moe_combine, moe_aux_loss and their
// gradients). Parameters: KernelSignatures.h (sig::<kernel name>).
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
// Expert weights: the grouped GEMM kernels take them as one array argument
// (a device array of E pointers; KernelSignatures.h: `const T *const *w`).
//
// Limits (checked here; std::invalid_argument otherwise): 1 <= E <= 256
// (routing and the aux loss keep per-expert counts in shared memory),
// 1 <= k <= E, R < 2^31, aux loss with seq_aux: batch divides T.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_ABI_MOESPECS_H
#define MIND_ABI_MOESPECS_H

#include "mind/abi/KernelAbi.h"
#include "mind/abi/Plan.h"

#include <cstdint>

namespace mind::runtime::kernels {

/// Slots per routing tile (one block of 1024 threads).
constexpr int64_t kMoeRouteTile = 1024;

/// topk forward: mind::moe_topk_fwd<T>.
/// scores [T,E] -> weights [T,k], indices [T,k] i64.
/// Descending, ties to the lower index; normalize: w /= (sum + 1e-20).
kabi::Launch<sig::moe_topk_fwd> moeTopK(DType dtype, int64_t tokens,
                                        int64_t experts, int64_t k);

/// topk_grad: mind::moe_topk_bwd<T>.
/// dweights [T,k] -> dscores [T,E] (fully written).
kabi::Launch<sig::moe_topk_bwd> moeTopKGrad(DType dtype, int64_t tokens,
                                            int64_t experts, int64_t k);

/// moe_route is two launches (a stable counting sort in tiles of 1024 slots).
/// Workspace: tileCounts, int64 [moeRouteTiles(R) * E].
int64_t moeRouteTiles(int64_t rows);
/// 1) mind::moe_route_count: indices [R] (the [T,k] tensor) -> tileCounts.
kabi::Launch<sig::moe_route_count> moeRouteCount(int64_t rows, int64_t experts);
/// 2) mind::moe_route_scatter: -> perm [R], offsets [E+1].
kabi::Launch<sig::moe_route_scatter> moeRouteScatter(int64_t rows,
                                                     int64_t experts);

/// The inverse permutation: mind::moe_invert_perm.
/// perm [R] -> inv [R] (a workspace).
kabi::Launch<sig::moe_invert_perm> moeInvertPerm(int64_t rows);

/// moe_dispatch: mind::moe_dispatch_fwd<T>.
/// x [T,H] -> out [R,H].
kabi::Launch<sig::moe_dispatch_fwd> moeDispatch(DType dtype, int64_t rows,
                                                int64_t hidden);

/// moe_dispatch_grad: mind::moe_dispatch_bwd<T>, after moeInvertPerm(R).
/// dxs [R,H] -> dx [T,H]: dx[t] = sum_j dxs[inv[t*k+j]] (j ascending).
kabi::Launch<sig::moe_dispatch_bwd> moeDispatchGrad(DType dtype, int64_t tokens,
                                                    int64_t hidden);

/// grouped_linear: mind::moe_grouped_linear_fwd<T>.
/// x [R,K] -> y [R,N]; w: the E expert weights [N,K], one array argument.
kabi::Launch<sig::moe_grouped_linear_fwd>
groupedLinear(DType dtype, int64_t rows, int64_t k, int64_t n, int64_t experts);

/// grouped_linear_grad, dx part: mind::moe_grouped_linear_bwd_x<T>.
/// dy [R,N] -> dx [R,K].
kabi::Launch<sig::moe_grouped_linear_bwd_x>
groupedLinearGradX(DType dtype, int64_t rows, int64_t k, int64_t n,
                   int64_t experts);

/// grouped_linear_grad, weight part: mind::moe_grouped_linear_bwd_w<T>.
/// x [R,K], dy [R,N] -> dw: the E weight gradients [N,K] f32, one array
/// argument. dw_e is written, not accumulated (the caller adds it to the
/// gradient accumulator); zero for an expert without rows.
kabi::Launch<sig::moe_grouped_linear_bwd_w>
groupedLinearGradW(DType dtype, int64_t rows, int64_t k, int64_t n,
                   int64_t experts);

/// moe_combine: mind::moe_combine_fwd<T>, after moeInvertPerm(R).
/// y [R,H], weights [T,k] -> out [T,H].
kabi::Launch<sig::moe_combine_fwd> moeCombine(DType dtype, int64_t tokens,
                                              int64_t hidden);

/// moe_combine_grad: mind::moe_combine_bwd<T>.
/// dout [T,H] -> dy [R,H], dweights [T,k].
kabi::Launch<sig::moe_combine_bwd> moeCombineGrad(DType dtype, int64_t rows,
                                                  int64_t hidden);

/// moe_aux_loss: mind::moe_aux_loss_fwd<T> (one block).
/// scores [T,E], indices [T,k] -> out f32 [] (written).
kabi::Launch<sig::moe_aux_loss_fwd> moeAuxLoss(DType dtype, int64_t tokens,
                                               int64_t experts, int64_t k,
                                               bool seqAux, int64_t batch);

/// moe_aux_loss_grad: mind::moe_aux_loss_bwd<T>. The loss is linear in the
/// scores, so scores are not an argument.
/// dloss f32 [] (a device scalar) -> dscores [T,E] (fully written); its
/// chunk argument is moeAuxLossGradChunk().
kabi::Launch<sig::moe_aux_loss_bwd> moeAuxLossGrad(DType dtype, int64_t tokens,
                                                   int64_t experts, int64_t k,
                                                   bool seqAux, int64_t batch);
/// Elements of dscores per block of moe_aux_loss_bwd (its last argument).
int64_t moeAuxLossGradChunk();

} // namespace mind::runtime::kernels

#endif // MIND_ABI_MOESPECS_H
