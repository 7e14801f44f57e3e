//===- MindOps.cpp - mind op verifiers ------------------------------------===//
//
// Every message here has a -verify-diagnostics test in
// test/Dialect/Mind/invalid.mlir. Shapes are static (the operand type
// constraints guarantee it), so the checks compare plain integers. A verifier
// may only index a dimension after checking the rank, and only divide by a
// value after checking that it is positive: it runs on anything the parser
// accepts, rank-0 and zero-sized tensors included.
//
// ODS's I64Attr getters (getTopK(), getBatch(), ...) return uint64_t: read
// integer attributes as get<Name>Attr().getInt() so that a negative value is
// rejected rather than wrapped to a huge positive one.
//
//===----------------------------------------------------------------------===//

#include "mind/Dialect/Mind/IR/MindOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/MathExtras.h"

#include <limits>

using namespace mlir;
using namespace mind;

namespace {
RankedTensorType tensorOf(Value v) {
  return cast<RankedTensorType>(v.getType());
}

std::string shapeStr(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (auto [i, d] : llvm::enumerate(shape)) {
    if (i)
      s += ", ";
    s += std::to_string(d);
  }
  return s + "]";
}

/// Checks that `v` has exactly `expected` as shape.
LogicalResult expectShape(Operation *op, Value v, ArrayRef<int64_t> expected,
                          StringRef what) {
  ArrayRef<int64_t> actual = tensorOf(v).getShape();
  if (actual == expected)
    return success();
  return op->emitOpError() << what << " must have shape " << shapeStr(expected)
                           << ", got " << shapeStr(actual);
}

LogicalResult expectRank(Operation *op, Value v, int64_t rank,
                         StringRef what) {
  int64_t actual = tensorOf(v).getRank();
  if (actual == rank)
    return success();
  return op->emitOpError() << what << " must be rank " << rank << ", got rank "
                           << actual;
}

LogicalResult expectSameElementType(Operation *op, Value a, Value b,
                                    StringRef whatA, StringRef whatB) {
  if (tensorOf(a).getElementType() == tensorOf(b).getElementType())
    return success();
  return op->emitOpError() << whatA << " element type "
                           << tensorOf(a).getElementType() << " must match "
                           << whatB << " element type "
                           << tensorOf(b).getElementType();
}

LogicalResult expectSameType(Operation *op, Value a, Value b, StringRef whatA,
                             StringRef whatB) {
  if (a.getType() == b.getType())
    return success();
  return op->emitOpError() << whatA << " type " << a.getType() << " must match "
                           << whatB << " type " << b.getType();
}

/// `a * b`, or an error on `op` when the product does not fit an int64
/// (shapes and integer attributes may be anything the parser reads).
FailureOr<int64_t> product(Operation *op, int64_t a, int64_t b,
                           StringRef what) {
  int64_t out;
  if (llvm::MulOverflow(a, b, out))
    return op->emitOpError() << what << " (" << a << " * " << b
                             << ") does not fit a 64-bit integer";
  return out;
}

SmallVector<int64_t> withLast(ArrayRef<int64_t> shape, int64_t last) {
  SmallVector<int64_t> out(shape.drop_back());
  out.push_back(last);
  return out;
}
} // namespace

//===----------------------------------------------------------------------===//
// Operand checks shared by a forward op and its gradient op (whose operands
// include the forward operands), so both reject the same malformed inputs.
//===----------------------------------------------------------------------===//

namespace {
LogicalResult verifyRMSNormOperands(Operation *op, Value input, Value weight,
                                    const APFloat &epsilon) {
  auto in = tensorOf(input);
  if (in.getRank() < 1)
    return op->emitOpError("input must have rank >= 1");
  if (failed(expectShape(op, weight, {in.getShape().back()}, "weight")))
    return failure();
  // `!(x > 0)` rejects NaN too.
  if (!(epsilon.convertToDouble() > 0.0) || epsilon.isInfinity())
    return op->emitOpError("epsilon must be positive and finite");
  return success();
}

LogicalResult verifyAttentionOperands(Operation *op, Value query, Value key,
                                      Value value, Value result, Value lseV) {
  if (failed(expectRank(op, query, 4, "query")) ||
      failed(expectRank(op, key, 4, "key")) ||
      failed(expectRank(op, value, 4, "value")))
    return failure();
  if (failed(expectSameType(op, value, key, "value", "key")) ||
      failed(expectSameElementType(op, key, query, "key", "query")) ||
      failed(expectSameType(op, result, query, "result", "query")))
    return failure();
  auto q = tensorOf(query).getShape();
  auto k = tensorOf(key).getShape();
  if (q[0] != k[0] || q[1] != k[1] || q[3] != k[3])
    return op->emitOpError()
           << "key shape " << shapeStr(k) << " must agree with query shape "
           << shapeStr(q) << " in batch, sequence and head dimension";
  if (k[2] < 1)
    return op->emitOpError("needs at least one key/value head");
  if (q[2] % k[2] != 0)
    return op->emitOpError()
           << "query heads (" << q[2]
           << ") must be a multiple of key/value heads (" << k[2] << ")";
  if (!tensorOf(lseV).getElementType().isF32())
    return op->emitOpError("lse must have f32 elements");
  return expectShape(op, lseV, {q[0], q[2], q[1]}, "lse");
}

LogicalResult verifyCrossEntropyOperands(Operation *op, Value logits,
                                         Value targets, Value mask) {
  auto logitsTy = tensorOf(logits);
  if (logitsTy.getRank() < 2)
    return op->emitOpError("logits must have rank >= 2");
  ArrayRef<int64_t> lead = logitsTy.getShape().drop_back();
  if (failed(expectShape(op, targets, lead, "targets")) ||
      failed(expectShape(op, mask, lead, "mask")))
    return failure();
  return success();
}

/// Checks input [R, K], offsets [E + 1] and E weights [N, K] of the input's
/// element type; sets `n` to N.
LogicalResult verifyGroupedLinearOperands(Operation *op, Value input,
                                          Value offsets, ValueRange weights,
                                          int64_t &n) {
  if (failed(expectRank(op, input, 2, "input")))
    return failure();
  if (weights.empty())
    return op->emitOpError("needs at least one expert weight");
  auto in = tensorOf(input).getShape();
  Value first = weights.front();
  if (failed(expectRank(op, first, 2, "weight")))
    return failure();
  for (Value w : weights)
    if (failed(expectSameType(op, w, first, "every weight", "weight 0")))
      return failure();
  n = tensorOf(first).getDimSize(0);
  if (tensorOf(first).getDimSize(1) != in[1])
    return op->emitOpError()
           << "input's last dimension (" << in[1]
           << ") must equal weight dimension 1 ("
           << tensorOf(first).getDimSize(1) << ")";
  int64_t experts = weights.size();
  if (failed(expectShape(op, offsets, {experts + 1}, "offsets")) ||
      failed(expectSameElementType(op, first, input, "weight", "input")))
    return failure();
  return success();
}

/// Checks input [R, H], perm [R] and weights [T, k] with R = T * k.
LogicalResult verifyMoeCombineOperands(Operation *op, Value input, Value perm,
                                       Value weights) {
  if (failed(expectRank(op, input, 2, "input")) ||
      failed(expectRank(op, weights, 2, "weights")))
    return failure();
  auto in = tensorOf(input).getShape();
  auto w = tensorOf(weights).getShape();
  FailureOr<int64_t> rows = product(op, w[0], w[1], "tokens * top_k");
  if (failed(rows))
    return failure();
  if (*rows != in[0])
    return op->emitOpError()
           << "input rows (" << in[0] << ") must equal tokens * top_k ("
           << w[0] << " * " << w[1] << ")";
  if (failed(expectShape(op, perm, {in[0]}, "perm")) ||
      failed(expectSameElementType(op, weights, input, "weights", "input")))
    return failure();
  return success();
}

LogicalResult verifyMoeAuxLossOperands(Operation *op, Value scoresV,
                                       Value indicesV, const APFloat &alpha,
                                       int64_t batch) {
  if (failed(expectRank(op, scoresV, 2, "scores")) ||
      failed(expectRank(op, indicesV, 2, "indices")))
    return failure();
  auto scores = tensorOf(scoresV).getShape();
  auto idx = tensorOf(indicesV).getShape();
  if (idx[0] != scores[0])
    return op->emitOpError() << "indices rows (" << idx[0]
                             << ") must equal scores rows (" << scores[0]
                             << ")";
  if (batch < 1 || scores[0] % batch != 0)
    return op->emitOpError()
           << "batch (" << batch
           << ") must be positive and divide the token count (" << scores[0]
           << ")";
  if (!(alpha.convertToDouble() >= 0.0) || alpha.isInfinity())
    return op->emitOpError("alpha must be non-negative and finite");
  return success();
}
} // namespace

//===----------------------------------------------------------------------===//
// Forward ops
//===----------------------------------------------------------------------===//

LogicalResult EmbeddingOp::verify() {
  if (failed(expectRank(*this, getTable(), 2, "table")) ||
      failed(expectSameElementType(*this, getResult(), getTable(), "result",
                                   "table")))
    return failure();
  SmallVector<int64_t> expected(tensorOf(getIds()).getShape());
  expected.push_back(tensorOf(getTable()).getDimSize(1));
  return expectShape(*this, getResult(), expected, "result");
}

LogicalResult LinearOp::verify() {
  auto input = tensorOf(getInput());
  if (failed(expectRank(*this, getWeight(), 2, "weight")))
    return failure();
  if (input.getRank() < 1)
    return emitOpError("input must have rank >= 1");
  auto weight = tensorOf(getWeight());
  if (input.getShape().back() != weight.getDimSize(1))
    return emitOpError() << "input's last dimension ("
                         << input.getShape().back()
                         << ") must equal weight dimension 1 ("
                         << weight.getDimSize(1) << ")";
  if (failed(expectSameElementType(*this, getWeight(), getInput(), "weight",
                                   "input")) ||
      failed(expectSameElementType(*this, getResult(), getInput(), "result",
                                   "input")))
    return failure();
  return expectShape(*this, getResult(),
                     withLast(input.getShape(), weight.getDimSize(0)),
                     "result");
}

LogicalResult MatmulOp::verify() {
  if (failed(expectRank(*this, getLhs(), 2, "lhs")) ||
      failed(expectRank(*this, getRhs(), 2, "rhs")) ||
      failed(expectSameElementType(*this, getRhs(), getLhs(), "rhs", "lhs")) ||
      failed(expectSameElementType(*this, getResult(), getLhs(), "result",
                                   "lhs")))
    return failure();
  auto lhs = tensorOf(getLhs()).getShape();
  auto rhs = tensorOf(getRhs()).getShape();
  int64_t m = getTransposeLhs() ? lhs[1] : lhs[0];
  int64_t kl = getTransposeLhs() ? lhs[0] : lhs[1];
  int64_t kr = getTransposeRhs() ? rhs[1] : rhs[0];
  int64_t n = getTransposeRhs() ? rhs[0] : rhs[1];
  if (kl != kr)
    return emitOpError() << "contraction dimensions differ: lhs gives " << kl
                         << ", rhs gives " << kr;
  return expectShape(*this, getResult(), {m, n}, "result");
}

LogicalResult RMSNormOp::verify() {
  if (failed(verifyRMSNormOperands(*this, getInput(), getWeight(),
                                   getEpsilon())))
    return failure();
  auto in = tensorOf(getInput()), out = tensorOf(getResult());
  if (in == out)
    return success();
  if (in.getShape() != out.getShape() ||
      out.getElementType().getIntOrFloatBitWidth() >=
          in.getElementType().getIntOrFloatBitWidth())
    return emitOpError() << "result must have the input's type " << in
                         << " or its shape in a narrower float type, got "
                         << out;
  return success();
}

LogicalResult RopeTableOp::verify() {
  if (failed(expectRank(*this, getCos(), 2, "cos")) ||
      failed(expectSameType(*this, getSin(), getCos(), "sin", "cos")))
    return failure();
  auto cosTy = tensorOf(getCos());
  if (cosTy.getDimSize(1) < 1 || cosTy.getDimSize(1) % 2 != 0)
    return emitOpError() << "head dimension must be even and positive, got "
                         << cosTy.getDimSize(1);
  // ln(theta) divides in YaRN's correction range, and the frequencies
  // theta^(-2j/D) must decrease: the reference kernel requires theta > 1.
  if (!(getTheta().convertToDouble() > 1.0) || getTheta().isInfinity())
    return emitOpError("theta must be greater than 1 and finite");
  int64_t maxPositions = getMaxPositionsAttr().getInt();
  if (maxPositions < cosTy.getDimSize(0))
    return emitOpError() << "table length " << cosTy.getDimSize(0)
                         << " exceeds max_positions " << maxPositions;
  auto positiveFinite = [](const APFloat &v) {
    return v.convertToDouble() > 0.0 && !v.isInfinity();
  };
  if (!positiveFinite(getYarnFactor()))
    return emitOpError("yarn_factor must be positive and finite");
  if (!positiveFinite(getYarnBetaFast()) || !positiveFinite(getYarnBetaSlow()))
    return emitOpError("yarn_beta_fast and yarn_beta_slow must be positive "
                       "and finite");
  if (!positiveFinite(getAttentionFactor()))
    return emitOpError("attention_factor must be positive and finite");
  return success();
}

LogicalResult RopeOp::verify() {
  if (failed(expectRank(*this, getInput(), 4, "input")) ||
      failed(expectSameType(*this, getResult(), getInput(), "result",
                            "input")))
    return failure();
  auto in = tensorOf(getInput()).getShape();
  if (in[3] < 1 || in[3] % 2 != 0)
    return emitOpError() << "head dimension must be even and positive, got "
                         << in[3];
  if (failed(expectShape(*this, getCos(), {in[1], in[3]}, "cos")) ||
      failed(expectShape(*this, getSin(), {in[1], in[3]}, "sin")))
    return failure();
  return success();
}

LogicalResult AttentionOp::verify() {
  return verifyAttentionOperands(*this, getQuery(), getKey(), getValue(),
                                 getResult(), getLse());
}

LogicalResult SoftmaxOp::verify() {
  if (tensorOf(getInput()).getRank() < 1)
    return emitOpError("input must have rank >= 1");
  return success();
}

LogicalResult CrossEntropyOp::verify() {
  return verifyCrossEntropyOperands(*this, getLogits(), getTargets(),
                                    getMask());
}

LogicalResult TopKOp::verify() {
  if (failed(expectRank(*this, getScores(), 2, "scores")))
    return failure();
  auto scores = tensorOf(getScores()).getShape();
  int64_t k = getKAttr().getInt();
  if (k < 1 || k > scores[1])
    return emitOpError() << "k = " << k << " must be in [1, " << scores[1]
                         << "] (the number of experts)";
  if (failed(expectShape(*this, getWeights(), {scores[0], k}, "weights")) ||
      failed(expectShape(*this, getIndices(), {scores[0], k}, "indices")) ||
      failed(expectSameElementType(*this, getWeights(), getScores(),
                                   "weights", "scores")))
    return failure();
  return success();
}

LogicalResult MoeRouteOp::verify() {
  if (failed(expectRank(*this, getIndices(), 2, "indices")))
    return failure();
  int64_t numExperts = getNumExpertsAttr().getInt();
  if (numExperts < 1 || numExperts == std::numeric_limits<int64_t>::max())
    return emitOpError("num_experts must be positive (and below 2^63 - 1)");
  auto idx = tensorOf(getIndices()).getShape();
  FailureOr<int64_t> slots = product(*this, idx[0], idx[1], "tokens * k");
  if (failed(slots) ||
      failed(expectShape(*this, getPerm(), {*slots}, "perm")) ||
      failed(expectShape(*this, getOffsets(), {numExperts + 1}, "offsets")))
    return failure();
  return success();
}

LogicalResult MoeDispatchOp::verify() {
  if (failed(expectRank(*this, getInput(), 2, "input")))
    return failure();
  int64_t topK = getTopKAttr().getInt();
  if (topK < 1)
    return emitOpError("top_k must be positive");
  auto in = tensorOf(getInput()).getShape();
  FailureOr<int64_t> rows = product(*this, in[0], topK, "tokens * top_k");
  if (failed(rows) ||
      failed(expectShape(*this, getPerm(), {*rows}, "perm")) ||
      failed(expectShape(*this, getResult(), {*rows, in[1]}, "result")) ||
      failed(expectSameElementType(*this, getResult(), getInput(), "result",
                                   "input")))
    return failure();
  return success();
}

LogicalResult GroupedLinearOp::verify() {
  int64_t n = 0;
  if (failed(verifyGroupedLinearOperands(*this, getInput(), getOffsets(),
                                         getWeights(), n)) ||
      failed(expectSameElementType(*this, getResult(), getInput(), "result",
                                   "input")))
    return failure();
  return expectShape(*this, getResult(),
                     {tensorOf(getInput()).getDimSize(0), n}, "result");
}

LogicalResult MoeCombineOp::verify() {
  if (failed(verifyMoeCombineOperands(*this, getInput(), getPerm(),
                                      getWeights())) ||
      failed(expectSameElementType(*this, getResult(), getInput(), "result",
                                   "input")))
    return failure();
  return expectShape(*this, getResult(),
                     {tensorOf(getWeights()).getDimSize(0),
                      tensorOf(getInput()).getDimSize(1)},
                     "result");
}

LogicalResult MoeAuxLossOp::verify() {
  return verifyMoeAuxLossOperands(*this, getScores(), getIndices(), getAlpha(),
                                  getBatchAttr().getInt());
}

LogicalResult ReshapeOp::verify() {
  auto count = [&](Value v, StringRef what) -> FailureOr<int64_t> {
    int64_t n = 1;
    for (int64_t d : tensorOf(v).getShape()) {
      FailureOr<int64_t> p = product(*this, n, d, what);
      if (failed(p))
        return failure();
      n = *p;
    }
    return n;
  };
  FailureOr<int64_t> in = count(getInput(), "the input's element count");
  FailureOr<int64_t> out = count(getResult(), "the result's element count");
  if (failed(in) || failed(out))
    return failure();
  if (*in != *out)
    return emitOpError() << "element count changes from " << *in << " to "
                         << *out;
  return expectSameElementType(*this, getResult(), getInput(), "result",
                               "input");
}

LogicalResult TransposeOp::verify() {
  auto in = tensorOf(getInput()).getShape();
  ArrayRef<int64_t> perm = getPermutation();
  if (static_cast<int64_t>(perm.size()) != static_cast<int64_t>(in.size()))
    return emitOpError() << "permutation has " << perm.size()
                         << " entries for an input of rank " << in.size();
  SmallVector<bool> seen(in.size(), false);
  SmallVector<int64_t> expected;
  for (int64_t p : perm) {
    if (p < 0 || p >= static_cast<int64_t>(in.size()) || seen[p])
      return emitOpError("permutation must list each dimension exactly once");
    seen[p] = true;
    expected.push_back(in[p]);
  }
  if (failed(expectSameElementType(*this, getResult(), getInput(), "result",
                                   "input")))
    return failure();
  return expectShape(*this, getResult(), expected, "result");
}

LogicalResult CastOp::verify() {
  auto in = tensorOf(getInput());
  auto out = tensorOf(getResult());
  if (failed(expectShape(*this, getResult(), in.getShape(), "result")))
    return failure();
  if (isa<FloatType>(in.getElementType()) &&
      isa<IntegerType>(out.getElementType()))
    return emitOpError("float to integer casts are not allowed");
  return success();
}

//===----------------------------------------------------------------------===//
// Backward ops: results mirror the forward operands they are gradients of.
//===----------------------------------------------------------------------===//

LogicalResult EmbeddingGradOp::verify() {
  auto gradTy = tensorOf(getGrad());
  if (gradTy.getRank() < 1)
    return emitOpError("grad must have rank >= 1");
  auto grad = gradTy.getShape();
  if (grad.drop_back() != tensorOf(getIds()).getShape())
    return emitOpError() << "grad shape " << shapeStr(grad)
                         << " must be the ids shape followed by H";
  int64_t vocabSize = getVocabSizeAttr().getInt();
  // 0 is the gradient of a table without rows (as mind.embedding allows).
  if (vocabSize < 0)
    return emitOpError("vocab_size must be non-negative");
  if (failed(expectSameElementType(*this, getResult(), getGrad(), "result",
                                   "grad")))
    return failure();
  return expectShape(*this, getResult(), {vocabSize, grad.back()},
                     "result");
}

LogicalResult RMSNormGradOp::verify() {
  auto in = tensorOf(getInput()), dy = tensorOf(getGrad());
  if (dy != in && (dy.getShape() != in.getShape() ||
                   dy.getElementType().getIntOrFloatBitWidth() >=
                       in.getElementType().getIntOrFloatBitWidth()))
    return emitOpError() << "grad must have the input's type " << in
                         << " or its shape in a narrower float type, got "
                         << dy;
  if (failed(verifyRMSNormOperands(*this, getInput(), getWeight(),
                                   getEpsilon())) ||
      failed(expectSameType(*this, getInputGrad(), getInput(), "input_grad",
                            "input")) ||
      failed(expectSameType(*this, getWeightGrad(), getWeight(), "weight_grad",
                            "weight")))
    return failure();
  return success();
}

namespace {
LogicalResult verifyAttentionGrad(Operation *op, Value query, Value key,
                                  Value value, Value result, Value lse,
                                  Value grad, Value queryGrad, Value keyGrad,
                                  Value valueGrad) {
  if (failed(verifyAttentionOperands(op, query, key, value, result, lse)) ||
      failed(expectSameType(op, grad, query, "grad", "query")) ||
      failed(expectSameType(op, queryGrad, query, "query_grad", "query")) ||
      failed(expectSameType(op, keyGrad, key, "key_grad", "key")) ||
      failed(expectSameType(op, valueGrad, value, "value_grad", "value")))
    return failure();
  return success();
}
} // namespace

LogicalResult AttentionGradOp::verify() {
  return verifyAttentionGrad(*this, getQuery(), getKey(), getValue(),
                             getResult(), getLse(), getGrad(), getQueryGrad(),
                             getKeyGrad(), getValueGrad());
}

LogicalResult AttentionGradRopeOp::verify() {
  if (failed(verifyAttentionGrad(*this, getQuery(), getKey(), getValue(),
                                 getResult(), getLse(), getGrad(),
                                 getQueryGrad(), getKeyGrad(), getValueGrad())))
    return failure();
  auto q = tensorOf(getQuery()).getShape();
  if (q[3] % 2 != 0)
    return emitOpError() << "head dimension must be even, got " << q[3];
  if (failed(expectShape(*this, getCos(), {q[1], q[3]}, "cos")) ||
      failed(expectShape(*this, getSin(), {q[1], q[3]}, "sin")))
    return failure();
  return success();
}

LogicalResult LmHeadLossOp::verify() {
  auto in = tensorOf(getInput());
  if (in.getRank() < 2)
    return emitOpError("input must have rank >= 2");
  int64_t hidden = in.getShape().back();
  auto w = tensorOf(getWeight());
  if (w.getRank() != 2 || w.getDimSize(1) != hidden)
    return emitOpError() << "weight must be [V, " << hidden << "], got "
                         << shapeStr(w.getShape());
  if (failed(expectSameElementType(*this, getWeight(), getInput(), "weight",
                                   "input")) ||
      failed(expectShape(*this, getTargets(), in.getShape().drop_back(),
                         "targets")) ||
      failed(
          expectShape(*this, getMask(), in.getShape().drop_back(), "mask")) ||
      failed(expectSameType(*this, getInputGrad(), getInput(), "input_grad",
                            "input")) ||
      failed(
          expectShape(*this, getWeightGrad(), w.getShape(), "weight_grad")) ||
      failed(expectSameElementType(*this, getWeightGrad(), getInput(),
                                   "weight_grad", "input")))
    return failure();
  int64_t chunkRows = getChunkRowsAttr().getInt();
  if (chunkRows < 16 || chunkRows % 16 != 0)
    return emitOpError() << "chunk_rows must be a positive multiple of 16, "
                            "got "
                         << chunkRows;
  return success();
}

LogicalResult SoftmaxGradOp::verify() {
  if (tensorOf(getOutput()).getRank() < 1)
    return emitOpError("output must have rank >= 1");
  return success();
}

LogicalResult CrossEntropyGradOp::verify() {
  if (failed(verifyCrossEntropyOperands(*this, getLogits(), getTargets(),
                                        getMask())))
    return failure();
  return expectSameType(*this, getResult(), getLogits(), "result", "logits");
}

LogicalResult TopKGradOp::verify() {
  if (failed(expectRank(*this, getScores(), 2, "scores")) ||
      failed(expectRank(*this, getIndices(), 2, "indices")))
    return failure();
  auto scores = tensorOf(getScores()).getShape();
  auto idx = tensorOf(getIndices()).getShape();
  if (idx[0] != scores[0])
    return emitOpError() << "indices rows (" << idx[0]
                         << ") must equal scores rows (" << scores[0] << ")";
  if (idx[1] < 1 || idx[1] > scores[1])
    return emitOpError() << "k = " << idx[1] << " must be in [1, "
                         << scores[1] << "] (the number of experts)";
  if (failed(expectSameType(*this, getResult(), getScores(), "result",
                            "scores")) ||
      failed(expectShape(*this, getGrad(), idx, "grad")) ||
      failed(expectSameElementType(*this, getGrad(), getScores(), "grad",
                                   "scores")))
    return failure();
  return success();
}

LogicalResult MoeDispatchGradOp::verify() {
  if (failed(expectRank(*this, getGrad(), 2, "grad")))
    return failure();
  auto grad = tensorOf(getGrad()).getShape();
  int64_t topK = getTopKAttr().getInt();
  if (topK < 1 || grad[0] % topK != 0)
    return emitOpError() << "top_k (" << topK
                         << ") must be positive and divide the row count ("
                         << grad[0] << ")";
  if (failed(expectShape(*this, getPerm(), {grad[0]}, "perm")) ||
      failed(expectSameElementType(*this, getResult(), getGrad(), "result",
                                   "grad")))
    return failure();
  return expectShape(*this, getResult(), {grad[0] / topK, grad[1]},
                     "result");
}

LogicalResult GroupedLinearGradOp::verify() {
  if (getWeights().size() != getWeightGrads().size())
    return emitOpError() << "has " << getWeights().size() << " weights but "
                         << getWeightGrads().size() << " weight gradients";
  int64_t n = 0;
  if (failed(verifyGroupedLinearOperands(*this, getInput(), getOffsets(),
                                         getWeights(), n)) ||
      failed(expectShape(*this, getGrad(),
                         {tensorOf(getInput()).getDimSize(0), n}, "grad")) ||
      failed(expectSameElementType(*this, getGrad(), getInput(), "grad",
                                   "input")) ||
      failed(expectSameType(*this, getInputGrad(), getInput(), "input_grad",
                            "input")))
    return failure();
  for (auto [w, dw] : llvm::zip(getWeights(), getWeightGrads()))
    if (failed(expectSameType(*this, dw, w, "weight gradient", "weight")))
      return failure();
  return success();
}

LogicalResult MoeCombineGradOp::verify() {
  if (failed(verifyMoeCombineOperands(*this, getInput(), getPerm(),
                                      getWeights())) ||
      failed(expectShape(*this, getGrad(),
                         {tensorOf(getWeights()).getDimSize(0),
                          tensorOf(getInput()).getDimSize(1)},
                         "grad")) ||
      failed(expectSameElementType(*this, getGrad(), getInput(), "grad",
                                   "input")) ||
      failed(expectSameType(*this, getInputGrad(), getInput(), "input_grad",
                            "input")) ||
      failed(expectSameType(*this, getWeightsGrad(), getWeights(),
                            "weights_grad", "weights")))
    return failure();
  return success();
}

LogicalResult MoeAuxLossGradOp::verify() {
  if (failed(verifyMoeAuxLossOperands(*this, getScores(), getIndices(),
                                      getAlpha(), getBatchAttr().getInt())))
    return failure();
  return expectSameType(*this, getResult(), getScores(), "result", "scores");
}

#define GET_OP_CLASSES
#include "mind/Dialect/Mind/IR/MindOps.cpp.inc"
