//===- RefKernels.h - Reference numeric kernels of the mind ops -*- C++ -*-===//
//
// One function per op of docs/Rationale/OpSet.md (forward and backward), used
// by the CPU interpreter as the numeric ground truth. Pure C++17: no MLIR, no
// LLVM. All float math is done in double; integer tensors (ids, targets,
// indices, permutations, offsets) store exact integers as double. Precision of
// f32/bf16/f16 programs is modelled by calling roundTo() on op results.
//
// Every kernel checks its operand shapes and throws std::invalid_argument
// ("mind.<op>: ...") on a mismatch or an out-of-range index.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_INTERPRETER_REFKERNELS_H
#define MIND_INTERPRETER_REFKERNELS_H

#include <cstdint>
#include <vector>

namespace mind::ref {

/// A dense row-major tensor of doubles. A rank-0 tensor has one element.
struct Tensor {
  std::vector<int64_t> shape;
  std::vector<double> data;

  Tensor() = default;
  explicit Tensor(std::vector<int64_t> shape, double fill = 0.0);
  /// A tensor of the given shape and data; data.size() must equal the numel.
  static Tensor fromData(std::vector<int64_t> shape, std::vector<double> data);

  int64_t numel() const;
  /// Size of dimension i; a negative i counts from the back.
  int64_t dim(int i) const;
  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
};

//===----------------------------------------------------------------------===//
// Dense ops
//===----------------------------------------------------------------------===//

/// table[V,H], ids[...] -> [...,H].
Tensor embedding(const Tensor &table, const Tensor &ids);
/// dy[...,H], ids[...] -> dtable[V,H] (scatter-add).
Tensor embeddingGrad(const Tensor &dy, const Tensor &ids, int64_t vocabSize);

/// x[...,K], w[N,K] -> [...,N] = x @ w^T.
Tensor linear(const Tensor &x, const Tensor &w);
/// op(a)[M,K] @ op(b)[K,N] -> [M,N]; op transposes when the flag is set.
Tensor matmul(const Tensor &a, const Tensor &b, bool transposeA,
              bool transposeB);

/// x[...,H], w[H] -> w * x * rsqrt(mean(x^2, -1) + eps).
Tensor rmsnorm(const Tensor &x, const Tensor &w, double eps);
struct RmsNormGrads {
  Tensor dx, dw;
};
RmsNormGrads rmsnormGrad(const Tensor &x, const Tensor &w, const Tensor &dy,
                         double eps);

/// cos[S,D], sin[S,D] for positions 0..seqLen-1 (rotate-half layout).
struct RopeTable {
  Tensor cos, sin;
};
RopeTable ropeTable(int64_t seqLen, int64_t headDim, double theta,
                    int64_t maxPositions, double yarnFactor,
                    int64_t yarnOriginalMax, double yarnBetaFast,
                    double yarnBetaSlow, double attentionFactor);
/// x[B,S,N,D] -> x*cos + rotate_half(x)*sin (inverse: -sin, the VJP).
Tensor rope(const Tensor &x, const Tensor &cos, const Tensor &sin,
            bool inverse);

/// q[B,S,Hq,D], k/v[B,S,Hkv,D] -> out[B,S,Hq,D], lse[B,Hq,S]. Query head h
/// reads KV head h / (Hq/Hkv); causal lets query i see keys j <= i.
struct AttentionResult {
  Tensor out, lse;
};
AttentionResult attention(const Tensor &q, const Tensor &k, const Tensor &v,
                          double scale, bool causal);
struct AttentionGrads {
  Tensor dq, dk, dv;
};
AttentionGrads attentionGrad(const Tensor &q, const Tensor &k, const Tensor &v,
                             const Tensor &out, const Tensor &lse,
                             const Tensor &dout, double scale, bool causal);

//===----------------------------------------------------------------------===//
// Elementwise, softmax, loss
//===----------------------------------------------------------------------===//

Tensor silu(const Tensor &x);
Tensor siluGrad(const Tensor &x, const Tensor &dy);
Tensor mul(const Tensor &a, const Tensor &b);
Tensor add(const Tensor &a, const Tensor &b);
/// silu(gate) * up.
Tensor swiglu(const Tensor &gate, const Tensor &up);
struct SwigluGrads {
  Tensor dgate, dup;
};
SwigluGrads swigluGrad(const Tensor &gate, const Tensor &up, const Tensor &dy);

/// Softmax over the last dimension.
Tensor softmax(const Tensor &x);
/// y * (dy - sum(dy * y, -1)).
Tensor softmaxGrad(const Tensor &y, const Tensor &dy);

/// logits[...,V], targets[...], mask[...] -> rank-0 sum(ce*mask)/sum(mask).
Tensor crossEntropy(const Tensor &logits, const Tensor &targets,
                    const Tensor &mask);
/// dloss * mask/sum(mask) * (softmax(logits) - onehot(targets)).
Tensor crossEntropyGrad(const Tensor &logits, const Tensor &targets,
                        const Tensor &mask, double dloss);

//===----------------------------------------------------------------------===//
// Mixture of experts
//===----------------------------------------------------------------------===//

/// scores[T,E] -> the k largest per row (descending, ties to the lower index)
/// as weights[T,k] and indices[T,k]; normalize divides by (sum + 1e-20).
struct TopKResult {
  Tensor weights, indices;
};
TopKResult topk(const Tensor &scores, int64_t k, bool normalize);
/// -> dscores[T,E]; zero outside the selected entries.
Tensor topkGrad(const Tensor &scores, const Tensor &indices,
                const Tensor &dweights, bool normalize);

/// indices[T,k] -> perm[R] (stable sort of the slots t*k+j by expert) and
/// offsets[E+1] (expert e owns rows offsets[e] ..< offsets[e+1]).
struct MoeRouteResult {
  Tensor perm, offsets;
};
MoeRouteResult moeRoute(const Tensor &indices, int64_t numExperts);

/// x[T,H], perm[R] -> [R,H], out[r] = x[perm[r] / topK].
Tensor moeDispatch(const Tensor &x, const Tensor &perm, int64_t topK);
/// dxs[R,H] -> dx[numTokens,H] (scatter-add).
Tensor moeDispatchGrad(const Tensor &dxs, const Tensor &perm, int64_t topK,
                       int64_t numTokens);

/// x[R,K], offsets[E+1], weights: E tensors [N,K] -> [R,N].
Tensor groupedLinear(const Tensor &x, const Tensor &offsets,
                     const std::vector<Tensor> &weights);
struct GroupedLinearGrads {
  Tensor dx;
  std::vector<Tensor> dw;
};
GroupedLinearGrads groupedLinearGrad(const Tensor &x, const Tensor &offsets,
                                     const Tensor &dy,
                                     const std::vector<Tensor> &weights);

/// y[R,H], perm[R], weights[T,k] -> [T,H], out[t] = sum_j w[t,j] * y[r(t,j)].
Tensor moeCombine(const Tensor &y, const Tensor &perm, const Tensor &weights);
struct MoeCombineGrads {
  Tensor dy, dweights;
};
MoeCombineGrads moeCombineGrad(const Tensor &y, const Tensor &perm,
                               const Tensor &weights, const Tensor &dout);

/// scores[T,E], indices[T,k] -> rank-0 load-balancing loss (MINIMIND-SPEC
/// 3.6); with seqAux the T tokens are `batch` sequences of T/batch tokens.
Tensor moeAuxLoss(const Tensor &scores, const Tensor &indices, double alpha,
                  bool seqAux, int64_t batch);
/// -> dscores[T,E]; the expert counts are constants.
Tensor moeAuxLossGrad(const Tensor &scores, const Tensor &indices, double dloss,
                      double alpha, bool seqAux, int64_t batch);

//===----------------------------------------------------------------------===//
// Layout, constants, precision
//===----------------------------------------------------------------------===//

/// Same data, new shape (same element count; no -1 inference).
Tensor reshape(const Tensor &x, std::vector<int64_t> newShape);
/// y.shape[i] = x.shape[perm[i]].
Tensor transpose(const Tensor &x, const std::vector<int64_t> &perm);
Tensor fill(std::vector<int64_t> shape, double value);

enum class ElemKind { F64, F32, BF16, F16, Int };
/// Rounds every element in place to the nearest value of `kind` (ties to
/// even; BF16 and F16 round via f32, as PyTorch does). F64 and Int: no-op.
void roundTo(Tensor &t, ElemKind kind);

} // namespace mind::ref

#endif // MIND_INTERPRETER_REFKERNELS_H
