//===- GraphBuilder.cpp - C++ API for writing mind graphs -----------------===//

#include "mind/Frontend/GraphBuilder.h"

#include "mind/Dialect/Mind/IR/MindOps.h"
#include "mind/Frontend/Config.h"

using namespace mlir;
using namespace mind;

namespace {
RankedTensorType tensorOf(Value v) {
  return cast<RankedTensorType>(v.getType());
}
} // namespace

GraphBuilder::GraphBuilder(OpBuilder &builder, Location loc, Type floatType)
    : b(builder), loc(loc), fType(floatType) {}

RankedTensorType GraphBuilder::tensorType(ArrayRef<int64_t> shape,
                                          Type elementType) const {
  return RankedTensorType::get(shape, elementType ? elementType : fType);
}

Value GraphBuilder::embedding(Value table, Value ids) {
  SmallVector<int64_t> shape(tensorOf(ids).getShape());
  shape.push_back(tensorOf(table).getDimSize(1));
  return EmbeddingOp::create(
      b, loc, tensorType(shape, tensorOf(table).getElementType()), table, ids);
}

Value GraphBuilder::linear(Value input, Value weight) {
  SmallVector<int64_t> shape(tensorOf(input).getShape().drop_back());
  shape.push_back(tensorOf(weight).getDimSize(0));
  return LinearOp::create(
      b, loc, tensorType(shape, tensorOf(input).getElementType()), input,
      weight);
}

Value GraphBuilder::matmul(Value lhs, Value rhs, bool transposeLhs,
                           bool transposeRhs) {
  auto l = tensorOf(lhs).getShape(), r = tensorOf(rhs).getShape();
  int64_t m = transposeLhs ? l[1] : l[0];
  int64_t n = transposeRhs ? r[0] : r[1];
  return MatmulOp::create(
      b, loc, tensorType({m, n}, tensorOf(lhs).getElementType()), lhs, rhs,
      transposeLhs, transposeRhs);
}

Value GraphBuilder::rmsnorm(Value input, Value weight, double epsilon) {
  return RMSNormOp::create(b, loc, input.getType(), input, weight,
                           b.getF64FloatAttr(epsilon));
}

std::pair<Value, Value>
GraphBuilder::ropeTable(int64_t seqLen, int64_t headDim, double theta,
                        int64_t maxPositions,
                        const std::optional<RopeScaling> &scaling) {
  auto type = tensorType({seqLen, headDim});
  RopeScaling params; // Defaults, used only for their values when enabled.
  double factor = 1.0;
  if (scaling) {
    params = *scaling;
    factor = params.factor;
  }
  auto op = RopeTableOp::create(
      b, loc, type, type, b.getF64FloatAttr(theta),
      b.getI64IntegerAttr(maxPositions), b.getF64FloatAttr(factor),
      b.getI64IntegerAttr(params.originalMaxPositionEmbeddings),
      b.getF64FloatAttr(params.betaFast), b.getF64FloatAttr(params.betaSlow),
      b.getF64FloatAttr(scaling ? params.attentionFactor : 1.0));
  return {op.getCos(), op.getSin()};
}

Value GraphBuilder::rope(Value input, Value cos, Value sin) {
  return RopeOp::create(b, loc, input.getType(), input, cos, sin,
                        b.getBoolAttr(false));
}

Value GraphBuilder::attention(Value query, Value key, Value value,
                              double scale, bool causal) {
  auto q = tensorOf(query).getShape();
  auto lseType = RankedTensorType::get({q[0], q[2], q[1]}, b.getF32Type());
  auto op = AttentionOp::create(b, loc, query.getType(), lseType, query, key,
                                value, b.getF64FloatAttr(scale),
                                b.getBoolAttr(causal));
  return op.getResult();
}

Value GraphBuilder::add(Value lhs, Value rhs) {
  return AddOp::create(b, loc, lhs, rhs);
}
Value GraphBuilder::mul(Value lhs, Value rhs) {
  return MulOp::create(b, loc, lhs, rhs);
}
Value GraphBuilder::silu(Value input) { return SiluOp::create(b, loc, input); }
Value GraphBuilder::swiglu(Value gate, Value up) {
  return SwiGLUOp::create(b, loc, gate, up);
}
Value GraphBuilder::softmax(Value input) {
  return SoftmaxOp::create(b, loc, input);
}

Value GraphBuilder::crossEntropy(Value logits, Value targets, Value mask) {
  return CrossEntropyOp::create(b, loc,
                                RankedTensorType::get({}, b.getF32Type()),
                                logits, targets, mask);
}

std::pair<Value, Value> GraphBuilder::topk(Value scores, int64_t k,
                                           bool normalize) {
  auto s = tensorOf(scores);
  auto op = TopKOp::create(
      b, loc, tensorType({s.getDimSize(0), k}, s.getElementType()),
      tensorType({s.getDimSize(0), k}, b.getI64Type()), scores,
      b.getI64IntegerAttr(k), b.getBoolAttr(normalize));
  return {op.getWeights(), op.getIndices()};
}

std::pair<Value, Value> GraphBuilder::moeRoute(Value indices,
                                               int64_t numExperts) {
  auto idx = tensorOf(indices);
  auto op = MoeRouteOp::create(
      b, loc, tensorType({idx.getNumElements()}, b.getI64Type()),
      tensorType({numExperts + 1}, b.getI64Type()), indices,
      b.getI64IntegerAttr(numExperts));
  return {op.getPerm(), op.getOffsets()};
}

Value GraphBuilder::moeDispatch(Value input, Value perm, int64_t topK) {
  auto in = tensorOf(input);
  return MoeDispatchOp::create(
      b, loc,
      tensorType({in.getDimSize(0) * topK, in.getDimSize(1)},
                 in.getElementType()),
      input, perm, b.getI64IntegerAttr(topK));
}

Value GraphBuilder::groupedLinear(Value input, Value offsets,
                                  ValueRange weights) {
  auto in = tensorOf(input);
  int64_t n = tensorOf(weights.front()).getDimSize(0);
  return GroupedLinearOp::create(
      b, loc, tensorType({in.getDimSize(0), n}, in.getElementType()), input,
      offsets, weights);
}

Value GraphBuilder::moeCombine(Value input, Value perm, Value weights) {
  auto in = tensorOf(input);
  return MoeCombineOp::create(
      b, loc,
      tensorType({tensorOf(weights).getDimSize(0), in.getDimSize(1)},
                 in.getElementType()),
      input, perm, weights);
}

Value GraphBuilder::moeAuxLoss(Value scores, Value indices, double alpha,
                               bool seqAux, int64_t batch) {
  return MoeAuxLossOp::create(
      b, loc, RankedTensorType::get({}, b.getF32Type()), scores, indices,
      b.getF64FloatAttr(alpha), b.getBoolAttr(seqAux),
      b.getI64IntegerAttr(batch));
}

Value GraphBuilder::reshape(Value input, ArrayRef<int64_t> shape) {
  return ReshapeOp::create(
      b, loc, tensorType(shape, tensorOf(input).getElementType()), input);
}

Value GraphBuilder::transpose(Value input, ArrayRef<int64_t> perm) {
  auto in = tensorOf(input).getShape();
  SmallVector<int64_t> shape;
  for (int64_t p : perm)
    shape.push_back(in[p]);
  return TransposeOp::create(
      b, loc, tensorType(shape, tensorOf(input).getElementType()), input,
      b.getDenseI64ArrayAttr(perm));
}

Value GraphBuilder::cast(Value input, Type elementType) {
  return CastOp::create(
      b, loc, tensorType(tensorOf(input).getShape(), elementType), input);
}

Value GraphBuilder::fill(ArrayRef<int64_t> shape, double value,
                         Type elementType) {
  return FillOp::create(b, loc, tensorType(shape, elementType),
                        b.getF64FloatAttr(value));
}
