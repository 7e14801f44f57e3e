//===- KernelSignatures.h - the parameter list of every kernel --*- C++ -*-===//
//
// ONE declaration per CUDA kernel of runtime/kernels: its parameters, in
// order, with their C++ types. Everything else takes the argument list from
// here:
//  - the kernels themselves: each __global__ function static_asserts that its
//    type is its signature's (this header is compiled by NVRTC as the first
//    part of the kernel library), so a kernel edited alone fails to compile;
//  - host code (KernelAbi.h) reads the same declarations as data: pointer
//    parameters become buffer arguments (`const` ones are read, the others
//    written), `const T *const *` an array of buffers, `i64` / `float` /
//    `double` scalars. The lowering builds arguments through a typed builder
//    (a wrong count or kind does not compile), the bundle records each
//    kernel's resolved signature, the validator checks every launch against
//    it and the executor marshals by it; the GPU tests' harness checks its
//    argument lists against it too.
//
// A signature's template parameters are the kernel's; element types that are
// template parameters resolve per instantiation from the kernel's name
// expression (e.g. `mind::rmsnorm_fwd<__nv_bfloat16, float>`).
//
// Plain C++ that NVRTC and g++ both accept: no includes, no std.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_ABI_KERNELSIGNATURES_H
#define MIND_ABI_KERNELSIGNATURES_H

namespace mind {
typedef long long i64;

/// The device optimizer's state (kernels/optimizer.cuh updates it; the host
/// reads it back as runtime::OptimizerState). One definition for both.
struct OptimizerState {
  double norm = 0;        // pre-clip global L2 norm of the unscaled gradients
  double coef = 1;        // clip coefficient of the last step (1: not clipped)
  double stepSize = 0;    // lr / (1 - beta1^t)
  double bc2Sqrt = 0;     // sqrt(1 - beta2^t)
  double decay = 1;       // 1 - lr * weight_decay
  i64 step = 0;           // AdamW steps taken (torch's state["step"])
  i64 goodSteps = 0;      // GradScaler growth tracker
  i64 skippedSteps = 0;   // steps skipped for non-finite gradients
  float scale = 1;        // loss scale of the current window
  float invScale = 1;     // 1 / scale
  float stepInvScale = 1; // the invScale the last step unscaled with
  int skipped = 0;        // 1 when the last step was skipped
};

namespace sig {
/// Template parameter I of a kernel, in the host's generic reading of a
/// signature.
template <int I> struct Tp {};

template <class A, class B> struct Same {
  static const bool value = false;
};
template <class A> struct Same<A, A> {
  static const bool value = true;
};
} // namespace sig
} // namespace mind

#define MIND_SIG_UNPAREN(...) __VA_ARGS__

/// A kernel template: MIND_SIGNATURE(name, (template params), (the generic
/// arguments the host reads it with: Tp<i> for type parameter i, 0 for a
/// value parameter), parameters...).
#define MIND_SIGNATURE(NAME, TPARAMS, GENERIC, ...)                            \
  struct NAME {                                                                \
    static constexpr const char *name = #NAME;                                 \
    static constexpr const char *params = #__VA_ARGS__;                        \
    static constexpr const char *templateParams = #TPARAMS;                    \
    template <MIND_SIG_UNPAREN TPARAMS> using type = void(__VA_ARGS__);        \
    using generic = type<MIND_SIG_UNPAREN GENERIC>;                            \
  };
/// A kernel that is not a template.
#define MIND_SIGNATURE_PLAIN(NAME, ...)                                        \
  struct NAME {                                                                \
    static constexpr const char *name = #NAME;                                 \
    static constexpr const char *params = #__VA_ARGS__;                        \
    static constexpr const char *templateParams = "()";                        \
    using type = void(__VA_ARGS__);                                            \
    using generic = type;                                                      \
  };

namespace mind {
namespace sig {

// Elementwise (elementwise.cuh; n elements, any alignment).
MIND_SIGNATURE(silu_fwd, (class T), (Tp<0>), const T *x, T *y, i64 n)
MIND_SIGNATURE(silu_grad, (class T), (Tp<0>),
               const T *x, const T *dy, T *dx, i64 n)
MIND_SIGNATURE(add_fwd, (class T), (Tp<0>), const T *a, const T *b, T *y, i64 n)
MIND_SIGNATURE(mul_fwd, (class T), (Tp<0>), const T *a, const T *b, T *y, i64 n)
MIND_SIGNATURE(swiglu_fwd, (class T), (Tp<0>),
               const T *gate, const T *up, T *y, i64 n)
MIND_SIGNATURE(swiglu_grad, (class T), (Tp<0>),
               const T *gate, const T *up, const T *dy, T *dgate, T *dup,
               i64 n)
MIND_SIGNATURE(cast_fwd, (class Tin, class Tout), (Tp<0>, Tp<1>),
               const Tin *x, Tout *y, i64 n)
MIND_SIGNATURE(fill_fwd, (class T), (Tp<0>), T *y, i64 n, float value)
MIND_SIGNATURE(accumulate_f32, (class T), (Tp<0>),
               float *acc, const T *x, i64 n)
MIND_SIGNATURE(rope_fwd, (class T), (Tp<0>),
               const T *x, const float *cos, const float *sin, T *y,
               i64 batch, i64 seq, i64 heads, i64 dim, i64 inverse)
MIND_SIGNATURE(transpose_fwd, (class T), (Tp<0>),
               const T *in, T *out, i64 n, i64 s0, i64 s1, i64 s2, i64 s3,
               i64 st0, i64 st1, i64 st2, i64 st3)

// RoPE tables (rope_table.cuh).
MIND_SIGNATURE_PLAIN(rope_table,
                     float *cosOut, float *sinOut, i64 seq, i64 dim,
                     double theta, i64 maxPositions, double yarnFactor,
                     i64 yarnOriginalMax, double betaFast, double betaSlow,
                     double attentionFactor)

// Embedding (embedding.cuh).
MIND_SIGNATURE(embedding_fwd, (class T), (Tp<0>),
               const T *table, const i64 *ids, T *out, i64 tokens, i64 hidden,
               i64 vocab)
MIND_SIGNATURE(embedding_grad_runs, (class T), (Tp<0>),
               const T *dy, const i64 *ids, float *partial, i64 *runIds,
               i64 *runCount, i64 tokens, i64 hidden, i64 vocab)
MIND_SIGNATURE_PLAIN(embedding_grad_reduce,
                     const float *partial, const i64 *runIds,
                     const i64 *runCount, float *dtable, i64 chunks,
                     i64 hidden, i64 vocab)

// RMSNorm (norm.cuh).
MIND_SIGNATURE(rmsnorm_fwd, (class T, class W), (Tp<0>, Tp<1>),
               const T *x, const W *w, T *y, i64 rows, i64 hidden, float eps)
MIND_SIGNATURE(rmsnorm_fwd_cast, (class T, class W, class Y),
               (Tp<0>, Tp<1>, Tp<2>), const T *x, const W *w, Y *y, i64 rows,
               i64 hidden, float eps)
MIND_SIGNATURE(rmsnorm_grad, (class T, class W), (Tp<0>, Tp<1>),
               const T *x, const W *w, const T *dy, T *dx, float *partial,
               i64 rows, i64 hidden, float eps)
MIND_SIGNATURE(rmsnorm_grad_dy, (class T, class W, class D),
               (Tp<0>, Tp<1>, Tp<2>), const T *x, const W *w, const D *dy,
               T *dx, float *partial, i64 rows, i64 hidden, float eps)
MIND_SIGNATURE(add_rmsnorm_fwd, (class T, class D, class W, class Y),
               (Tp<0>, Tp<1>, Tp<2>, Tp<3>), const T *residual,
               const D *delta, const W *w, T *sum, Y *y, i64 rows, i64 hidden,
               float eps)
MIND_SIGNATURE(rmsnorm_grad_residual, (class T, class W, class D),
               (Tp<0>, Tp<1>, Tp<2>), const T *x, const W *w, const D *dy,
               const T *residualGrad, T *dx, float *partial, i64 rows,
               i64 hidden, float eps)
MIND_SIGNATURE(rmsnorm_grad_residual_cast, (class T, class W, class D, class N),
               (Tp<0>, Tp<1>, Tp<2>, Tp<3>), const T *x, const W *w,
               const D *dy, const T *residualGrad, T *dx, N *dxNarrow,
               float *partial, i64 rows, i64 hidden, float eps)
MIND_SIGNATURE_PLAIN(rmsnorm_grad_dw,
                     const float *partial, float *dw, i64 numPartial,
                     i64 hidden, i64 accumulate)

// Softmax and cross entropy (loss.cuh).
MIND_SIGNATURE(softmax_fwd, (class T), (Tp<0>),
               const T *x, T *y, i64 rows, i64 cols)
MIND_SIGNATURE(softmax_grad, (class T), (Tp<0>),
               const T *y, const T *dy, T *dx, i64 rows, i64 cols)
MIND_SIGNATURE(cross_entropy_fwd, (class T), (Tp<0>),
               const T *logits, const i64 *targets, const i64 *mask,
               float *rowLoss, i64 rows, i64 vocab)
MIND_SIGNATURE_PLAIN(cross_entropy_finalize,
                     const float *rowLoss, const i64 *mask, float *loss,
                     i64 rows)
MIND_SIGNATURE_PLAIN(cross_entropy_mask_sum,
                     const i64 *mask, float *norm, i64 rows)
MIND_SIGNATURE(cross_entropy_grad, (class T), (Tp<0>),
               const T *logits, const i64 *targets, const i64 *mask,
               const float *dloss, const float *norm, T *dlogits, i64 rows,
               i64 vocab)

// Attention (attention.cuh for f32, attention_mma.cuh for 16-bit types,
// which share these parameter lists under their own names).
MIND_SIGNATURE(attention_fwd, (class T, int D), (Tp<0>, 0),
               const T *q, const T *k, const T *v, T *out, float *lse,
               i64 seq, i64 qHeads, i64 kvHeads, float scale, i64 causal)
MIND_SIGNATURE(attention_bwd_prep, (class T), (Tp<0>),
               const T *out, const T *dout, float *delta, i64 batch, i64 seq,
               i64 qHeads, i64 headDim)
MIND_SIGNATURE(attention_bwd, (class T, int D), (Tp<0>, 0),
               const T *q, const T *k, const T *v, const T *dout,
               const float *lse, const float *delta, T *dk, T *dv, i64 seq,
               i64 qHeads, i64 kvHeads, float scale, i64 causal)
MIND_SIGNATURE(attention_bwd_dq, (class T, int D), (Tp<0>, 0),
               const T *q, const T *k, const T *v, const T *dout,
               const float *lse, const float *delta, T *dq, i64 seq,
               i64 qHeads, i64 kvHeads, float scale, i64 causal)
// The same with dk / dq rotated back by RoPE (cos, sin [seq, D]) as they are
// stored (attention_mma.cuh only: 16-bit types).
MIND_SIGNATURE(attention_bwd_dkdv_rope_mma, (class T, int D), (Tp<0>, 0),
               const T *q, const T *k, const T *v, const T *dout,
               const float *lse, const float *delta, const float *cos,
               const float *sin, T *dk, T *dv, i64 seq, i64 qHeads, i64 kvHeads,
               float scale, i64 causal)
MIND_SIGNATURE(attention_bwd_dq_rope_mma, (class T, int D), (Tp<0>, 0),
               const T *q, const T *k, const T *v, const T *dout,
               const float *lse, const float *delta, const float *cos,
               const float *sin, T *dq, i64 seq, i64 qHeads, i64 kvHeads,
               float scale, i64 causal)

// Mixture of experts (moe.cuh, moe_gemm.cuh).
MIND_SIGNATURE(moe_topk_fwd, (class T), (Tp<0>),
               const T *scores, T *weights, i64 *indices, i64 tokens,
               i64 experts, i64 k, i64 normalize)
MIND_SIGNATURE(moe_topk_bwd, (class T), (Tp<0>),
               const T *scores, const i64 *indices, const T *dweights,
               T *dscores, i64 tokens, i64 experts, i64 k, i64 normalize)
MIND_SIGNATURE_PLAIN(moe_route_count,
                     const i64 *indices, i64 *tileCounts, i64 rows,
                     i64 experts)
MIND_SIGNATURE_PLAIN(moe_route_scatter,
                     const i64 *indices, const i64 *tileCounts, i64 *perm,
                     i64 *offsets, i64 rows, i64 experts)
MIND_SIGNATURE_PLAIN(moe_invert_perm, const i64 *perm, i64 *inv, i64 rows)
MIND_SIGNATURE(moe_dispatch_fwd, (class T), (Tp<0>),
               const T *x, const i64 *perm, T *out, i64 rows, i64 hidden,
               i64 topK)
MIND_SIGNATURE(moe_dispatch_bwd, (class T), (Tp<0>),
               const T *dxs, const i64 *inv, T *dx, i64 tokens, i64 hidden,
               i64 topK)
MIND_SIGNATURE(moe_combine_fwd, (class T), (Tp<0>),
               const T *y, const i64 *inv, const T *weights, T *out,
               i64 tokens, i64 hidden, i64 topK)
MIND_SIGNATURE(moe_combine_bwd, (class T), (Tp<0>),
               const T *y, const i64 *perm, const T *weights, const T *dout,
               T *dy, T *dweights, i64 rows, i64 hidden, i64 topK)
MIND_SIGNATURE(moe_aux_loss_fwd, (class T), (Tp<0>),
               const T *scores, const i64 *indices, float *out, i64 tokens,
               i64 experts, i64 k, float alpha, i64 seqAux, i64 batch)
MIND_SIGNATURE(moe_aux_loss_bwd, (class T), (Tp<0>),
               const i64 *indices, const float *dloss, T *dscores, i64 tokens,
               i64 experts, i64 k, float alpha, i64 seqAux, i64 batch,
               i64 chunk)
MIND_SIGNATURE(moe_grouped_linear_fwd, (class T), (Tp<0>),
               const T *x, const i64 *offsets, T *y, i64 rows, i64 K, i64 N,
               i64 experts, const T *const *w)
MIND_SIGNATURE(moe_grouped_linear_bwd_x, (class T), (Tp<0>),
               const T *dy, const i64 *offsets, T *dx, i64 rows, i64 K,
               i64 N, i64 experts, const T *const *w)
MIND_SIGNATURE(moe_grouped_linear_bwd_w, (class T), (Tp<0>),
               const T *x, const T *dy, const i64 *offsets, i64 rows, i64 K,
               i64 N, i64 experts, float *const *dw)

// The device optimizer (optimizer.cuh; launched by the executor, not by
// plan steps).
MIND_SIGNATURE_PLAIN(grad_sqnorm_partial,
                     const float *grad, i64 n, const OptimizerState *state,
                     double *partials)
MIND_SIGNATURE_PLAIN(optimizer_prepare,
                     const double *partials, i64 numPartials,
                     OptimizerState *state, float *gradScaleOut,
                     const double *lrIn, double maxNorm, double beta1,
                     double beta2, double weightDecay, double invAccum,
                     i64 dynamicScale, i64 growthInterval)
MIND_SIGNATURE_PLAIN(adamw_fused,
                     float *param, float *grad, float *expAvg,
                     float *expAvgSq, i64 n, const OptimizerState *state,
                     double beta1, double beta2, double eps)
MIND_SIGNATURE(adamw_fused_copy, (class T), (Tp<0>),
               float *param, float *grad, float *expAvg, float *expAvgSq,
               T *copy, i64 n, const OptimizerState *state, double beta1,
               double beta2, double eps)

} // namespace sig
} // namespace mind

/// Inside a kernel's body: its type must be its signature's. SIG names the
/// signature (the kernel's own name, or the one it shares), then come the
/// signature's template arguments (templates only) and the kernel itself:
///   MIND_CHECK_SIGNATURE(cross_entropy_finalize, cross_entropy_finalize);
///   MIND_CHECK_SIGNATURE_T(attention_fwd, (T, D), attention_fwd_mma<T, D>);
#define MIND_CHECK_SIGNATURE(SIG, ...)                                         \
  static_assert(::mind::sig::Same<decltype(__VA_ARGS__),                       \
                                  ::mind::sig::SIG::type>::value,              \
                "kernel parameters differ from sig::" #SIG                     \
                " in KernelSignatures.h")
#define MIND_CHECK_SIGNATURE_T(SIG, TARGS, ...)                                \
  static_assert(                                                               \
      ::mind::sig::Same<decltype(__VA_ARGS__),                                 \
                        ::mind::sig::SIG::type<MIND_SIG_UNPAREN TARGS>>::value,\
      "kernel parameters differ from sig::" #SIG " in KernelSignatures.h")

#endif // MIND_ABI_KERNELSIGNATURES_H
