//===- AttentionSpecs.h - launch rules of the attention kernels -*- C++ -*-===//
//
// Grouped-query attention (runtime/kernels/attention.cuh), semantics of
// ref::attention / ref::attentionGrad: q/out/dout/dq [B,S,Hq,D] and
// k/v/dk/dv [B,S,Hkv,D] in the storage type T (f32, bf16 or f16), lse
// [B,Hq,S] f32; query head h reads KV head h / (Hq/Hkv). Head dims 16, 32,
// 64, 96 and 128 are instantiated; Hq must be a multiple of Hkv. Every buffer
// must be 16-byte aligned (the arena's 256-byte alignment is enough).
//
// Kernels: fp32 storage runs attention.cuh (register-blocked FMA tiles; the
// exact reference path), bf16/f16 runs attention_mma.cuh (mma.sync tensor
// cores, register-resident tiles): mind::attention_fwd / attention_bwd /
// attention_bwd_dq for float, mind::attention_fwd_mma / attention_bwd_dkdv_mma
// / attention_bwd_dq_mma for 16-bit types, with the same arguments.
//
// Parameters: KernelSignatures.h (the mma kernels share the FMA ones').
//
//===----------------------------------------------------------------------===//

#ifndef MIND_ABI_ATTENTIONSPECS_H
#define MIND_ABI_ATTENTIONSPECS_H

#include "mind/abi/KernelAbi.h"
#include "mind/abi/Plan.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mind::runtime::kernels {

/// mind::attention_fwd<T, D> (attention_fwd_mma for 16-bit T), one launch:
/// writes every element of out and lse. causal != 0 lets query i see keys
/// j <= i only.
kabi::Launch<sig::attention_fwd> attentionForward(DType dtype, int64_t batch,
                                                  int64_t seq, int64_t qHeads,
                                                  int64_t kvHeads,
                                                  int64_t headDim);

/// The attention backward: three launches, run in this order on one stream.
/// No float atomics: the results are bitwise reproducible.
///
/// prep = mind::attention_bwd_prep<T>: delta[b,h,i] = sum_d dout*out.
/// main = mind::attention_bwd<T, D> (attention_bwd_dkdv_mma for 16-bit T):
///   writes every element of dk and dv (summed over the query heads of each
///   KV head).
/// dq = mind::attention_bwd_dq<T, D> (attention_bwd_dq_mma for 16-bit T):
///   writes every element of dq.
///
/// Workspaces (`workspaces`, in this order):
///   "delta" f32 [B, Hq, S]  (written by prep, read by main and dq)
struct AttentionBackward {
  kabi::Launch<sig::attention_bwd_prep> prep;
  kabi::Launch<sig::attention_bwd> main;
  kabi::Launch<sig::attention_bwd_dq> dq;
  std::vector<KernelWorkspace> workspaces; ///< live from prep to dq
};
AttentionBackward attentionBackward(DType dtype, int64_t batch, int64_t seq,
                                    int64_t qHeads, int64_t kvHeads,
                                    int64_t headDim);

/// The backward of attention on RoPE-rotated q and k that also rotates dq
/// and dk back (mind.attention_grad_rope): the launches of attentionBackward
/// with main = mind::attention_bwd_dkdv_rope_mma<T, D> and dq =
/// mind::attention_bwd_dq_rope_mma<T, D>, which take the tables cos, sin
/// [S, D] f32. 16-bit types only (throws for f32).
struct AttentionBackwardRope {
  kabi::Launch<sig::attention_bwd_prep> prep;
  kabi::Launch<sig::attention_bwd_dkdv_rope_mma> main;
  kabi::Launch<sig::attention_bwd_dq_rope_mma> dq;
  std::vector<KernelWorkspace> workspaces; ///< as AttentionBackward's
};
AttentionBackwardRope attentionBackwardRope(DType dtype, int64_t batch,
                                            int64_t seq, int64_t qHeads,
                                            int64_t kvHeads, int64_t headDim);

/// Every attention name expression for `dtype` and `headDim` (for compile
/// checks and for plans that want the whole family).
std::vector<std::string> attentionKernelNames(DType dtype, int64_t headDim);

} // namespace mind::runtime::kernels

#endif // MIND_ABI_ATTENTIONSPECS_H
