//===- MindVJP.cpp - vector-Jacobian products of mind ops -----------------===//
//
// One rule per differentiable op. Each rule emits `mind` ops computing the
// operand gradients from the result gradients; `mind-autodiff` composes them.
// The formulas are in docs/Rationale/OpSet.md.
//
//===----------------------------------------------------------------------===//

#include "mind/Dialect/Mind/IR/MindOps.h"

#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace mind;

namespace {
RankedTensorType tensorOf(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// Reshapes `v` to [numel / last, last] unless it is rank 2 already.
Value flattenTo2D(OpBuilder &b, Location loc, Value v) {
  auto ty = tensorOf(v);
  if (ty.getRank() == 2)
    return v;
  // Rows are the product of the leading dims (not numel / last: the last
  // dim may be 0).
  int64_t rows = 1;
  for (int64_t d : ty.getShape().drop_back())
    rows *= d;
  auto flat = RankedTensorType::get({rows, ty.getShape().back()},
                                    ty.getElementType());
  return ReshapeOp::create(b, loc, flat, v);
}

Value reshapeTo(OpBuilder &b, Location loc, Value v, Type type) {
  if (v.getType() == type)
    return v;
  return ReshapeOp::create(b, loc, type, v);
}

/// Rules whose only gradient input is result 0.
Value onlyGrad(ArrayRef<Value> resultGrads) { return resultGrads.front(); }
} // namespace

LogicalResult EmbeddingOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  Value dy = onlyGrad(resultGrads);
  int64_t vocab = tensorOf(getTable()).getDimSize(0);
  Value dt = EmbeddingGradOp::create(b, getLoc(), getTable().getType(), dy,
                                     getIds(), b.getI64IntegerAttr(vocab));
  operandGrads.assign({dt, Value()});
  return success();
}

LogicalResult LinearOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                 SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  Value x2 = flattenTo2D(b, loc, getInput());
  Value dy2 = flattenTo2D(b, loc, onlyGrad(resultGrads));
  // y = x w^T  =>  dx = dy w,  dw = dy^T x.
  Value dx2 = MatmulOp::create(b, loc, x2.getType(), dy2, getWeight(),
                               /*transpose_lhs=*/false,
                               /*transpose_rhs=*/false);
  Value dw = MatmulOp::create(b, loc, getWeight().getType(), dy2, x2,
                              /*transpose_lhs=*/true,
                              /*transpose_rhs=*/false);
  operandGrads.assign({reshapeTo(b, loc, dx2, getInput().getType()), dw});
  return success();
}

LogicalResult MatmulOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                 SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  Value dc = onlyGrad(resultGrads);
  bool ta = getTransposeLhs(), tb = getTransposeRhs();
  Value a = getLhs(), bm = getRhs();
  // C = op(A) op(B): d op(A) = dC op(B)^T, d op(B) = op(A)^T dC; a
  // transposed operand receives the transpose, folded into the flags.
  Value da = ta ? MatmulOp::create(b, loc, a.getType(), bm, dc, tb, true)
                : MatmulOp::create(b, loc, a.getType(), dc, bm, false, !tb);
  Value db = tb ? MatmulOp::create(b, loc, bm.getType(), dc, a, true, ta)
                : MatmulOp::create(b, loc, bm.getType(), a, dc, !ta, false);
  operandGrads.assign({da, db});
  return success();
}

LogicalResult RMSNormOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                  SmallVectorImpl<Value> &operandGrads) {
  // A narrower result was rounded once more: its gradient passes that
  // rounding as a cast's does, back to the input's type.
  Value dy = onlyGrad(resultGrads);
  if (getResult().getType() != getInput().getType())
    dy = CastOp::create(b, getLoc(), getInput().getType(), dy);
  auto grad = RMSNormGradOp::create(b, getLoc(), getInput().getType(),
                                    getWeight().getType(), getInput(),
                                    getWeight(), dy, getEpsilonAttr());
  operandGrads.assign({grad.getInputGrad(), grad.getWeightGrad()});
  return success();
}

LogicalResult RopeOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                               SmallVectorImpl<Value> &operandGrads) {
  // The rotation is orthogonal: its transpose is the rotation by -angle.
  Value dx = RopeOp::create(b, getLoc(), getInput().getType(),
                            onlyGrad(resultGrads), getCos(), getSin(),
                            b.getBoolAttr(!getInverse()));
  operandGrads.assign({dx, Value(), Value()});
  return success();
}

LogicalResult AttentionOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  if (resultGrads[1])
    return emitOpError("cannot differentiate through the lse result");
  auto grad = AttentionGradOp::create(
      b, getLoc(), getQuery().getType(), getKey().getType(),
      getValue().getType(), getQuery(), getKey(), getValue(), getResult(),
      getLse(), resultGrads[0], getScaleAttr(), getCausalAttr());
  operandGrads.assign(
      {grad.getQueryGrad(), grad.getKeyGrad(), grad.getValueGrad()});
  return success();
}

LogicalResult AddOp::buildVJP(OpBuilder &, ArrayRef<Value> resultGrads,
                              SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign({resultGrads[0], resultGrads[0]});
  return success();
}

LogicalResult MulOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                              SmallVectorImpl<Value> &operandGrads) {
  Value dy = resultGrads[0];
  operandGrads.assign({MulOp::create(b, getLoc(), dy, getRhs()),
                       MulOp::create(b, getLoc(), dy, getLhs())});
  return success();
}

LogicalResult SiluOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                               SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(
      {SiluGradOp::create(b, getLoc(), getInput(), resultGrads[0])});
  return success();
}

LogicalResult SwiGLUOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                 SmallVectorImpl<Value> &operandGrads) {
  auto grad = SwiGLUGradOp::create(b, getLoc(), getGate().getType(),
                                   getUp().getType(), getGate(), getUp(),
                                   resultGrads[0]);
  operandGrads.assign({grad.getGateGrad(), grad.getUpGrad()});
  return success();
}

LogicalResult SoftmaxOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                  SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(
      {SoftmaxGradOp::create(b, getLoc(), getResult(), resultGrads[0])});
  return success();
}

LogicalResult CrossEntropyOp::buildVJP(OpBuilder &b,
                                       ArrayRef<Value> resultGrads,
                                       SmallVectorImpl<Value> &operandGrads) {
  Value dl = CrossEntropyGradOp::create(b, getLoc(), getLogits().getType(),
                                        getLogits(), getTargets(), getMask(),
                                        resultGrads[0]);
  operandGrads.assign({dl, Value(), Value()});
  return success();
}

LogicalResult TopKOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                               SmallVectorImpl<Value> &operandGrads) {
  // Only the weights carry a gradient; the indices are integers.
  Value ds = TopKGradOp::create(b, getLoc(), getScores().getType(),
                                getScores(), getIndices(), resultGrads[0],
                                getNormalizeAttr());
  operandGrads.assign({ds});
  return success();
}

LogicalResult MoeDispatchOp::buildVJP(OpBuilder &b,
                                      ArrayRef<Value> resultGrads,
                                      SmallVectorImpl<Value> &operandGrads) {
  Value dx = MoeDispatchGradOp::create(b, getLoc(), getInput().getType(),
                                       resultGrads[0], getPerm(),
                                       getTopKAttr());
  operandGrads.assign({dx, Value()});
  return success();
}

LogicalResult GroupedLinearOp::buildVJP(OpBuilder &b,
                                        ArrayRef<Value> resultGrads,
                                        SmallVectorImpl<Value> &operandGrads) {
  SmallVector<Type> weightTypes(getWeights().getTypes());
  auto grad = GroupedLinearGradOp::create(
      b, getLoc(), getInput().getType(), weightTypes, getInput(), getOffsets(),
      resultGrads[0], getWeights());
  operandGrads.assign({grad.getInputGrad(), Value()});
  llvm::append_range(operandGrads, grad.getWeightGrads());
  return success();
}

LogicalResult MoeCombineOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                     SmallVectorImpl<Value> &operandGrads) {
  auto grad = MoeCombineGradOp::create(
      b, getLoc(), getInput().getType(), getWeights().getType(), getInput(),
      getPerm(), getWeights(), resultGrads[0]);
  operandGrads.assign({grad.getInputGrad(), Value(), grad.getWeightsGrad()});
  return success();
}

LogicalResult MoeAuxLossOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                     SmallVectorImpl<Value> &operandGrads) {
  Value ds = MoeAuxLossGradOp::create(
      b, getLoc(), getScores().getType(), getScores(), getIndices(),
      resultGrads[0], getAlphaAttr(), getSeqAuxAttr(), getBatchAttr());
  operandGrads.assign({ds, Value()});
  return success();
}

LogicalResult ReshapeOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                  SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(
      {ReshapeOp::create(b, getLoc(), getInput().getType(), resultGrads[0])});
  return success();
}

LogicalResult TransposeOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  ArrayRef<int64_t> perm = getPermutation();
  SmallVector<int64_t> inverse(perm.size());
  for (auto [i, p] : llvm::enumerate(perm))
    inverse[p] = i;
  operandGrads.assign({TransposeOp::create(b, getLoc(), getInput().getType(),
                                           resultGrads[0],
                                           b.getDenseI64ArrayAttr(inverse))});
  return success();
}

LogicalResult CastOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                               SmallVectorImpl<Value> &operandGrads) {
  bool floatToFloat = isa<FloatType>(tensorOf(getInput()).getElementType()) &&
                      isa<FloatType>(tensorOf(getResult()).getElementType());
  operandGrads.assign({floatToFloat
                           ? Value(CastOp::create(b, getLoc(),
                                                  getInput().getType(),
                                                  resultGrads[0]))
                           : Value()});
  return success();
}
