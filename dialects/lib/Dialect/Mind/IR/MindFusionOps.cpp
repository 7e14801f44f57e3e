//===- MindFusionOps.cpp - verifiers of the fusion ops --------------------===//

#include "mind/Dialect/Mind/IR/MindOps.h"

#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mind;

bool mind::isFusibleElementwise(Operation *op) {
  auto isFloat = [](Value v) {
    return isa<FloatType>(cast<ShapedType>(v.getType()).getElementType());
  };
  return isa<ElementwiseOpInterface>(op) &&
         llvm::all_of(op->getOperands(), isFloat) &&
         llvm::all_of(op->getResults(), isFloat);
}

LogicalResult FusedElementwiseOp::verifyRegions() {
  if (getResults().empty())
    return emitOpError("expects at least one result");
  Block &body = getBody().front();
  if (body.getNumArguments() != getInputs().size())
    return emitOpError("expects ")
           << getInputs().size() << " block arguments (one per input), got "
           << body.getNumArguments();
  for (auto [i, arg, in] : llvm::enumerate(body.getArguments(), getInputs()))
    if (arg.getType() != in.getType())
      return emitOpError("block argument #")
             << i << " has type " << arg.getType() << ", but input #" << i
             << " is " << in.getType();
  // The parser and the region verifier already require a terminator, and
  // mind.yield is the only one the dialect allows here; stay safe anyway.
  auto yield = dyn_cast<YieldOp>(body.back());
  if (!yield)
    return emitOpError("expects the body to end with 'mind.yield'");
  if (yield.getValues().getTypes() != getResultTypes())
    return emitOpError("yields ")
           << yield.getValues().getTypes() << " but its results are "
           << getResultTypes();
  // One iteration space: every value has the results' shape.
  ArrayRef<int64_t> shape =
      cast<ShapedType>(getResult(0).getType()).getShape();
  auto checkShape = [&](Value v, StringRef what) -> LogicalResult {
    if (cast<ShapedType>(v.getType()).getShape() == shape)
      return success();
    return emitOpError("expects every value to have the shape of result #0 (")
           << cast<ShapedType>(getResult(0).getType()) << "), but " << what
           << " is " << v.getType();
  };
  for (Value in : getInputs())
    if (failed(checkShape(in, "an input")))
      return failure();
  for (Value r : getResults())
    if (failed(checkShape(r, "a result")))
      return failure();
  for (Operation &op : body.without_terminator()) {
    if (!isFusibleElementwise(&op))
      return emitOpError("body op '")
             << op.getName() << "' is not a fusible elementwise op";
    for (Value r : op.getResults())
      if (failed(checkShape(r, "a body value")))
        return failure();
  }
  return success();
}

namespace {
/// `v` has `like`'s type, or its shape in a narrower float type.
LogicalResult expectSameOrNarrower(Operation *op, Value v, Value like,
                                   StringRef what, StringRef likeWhat) {
  auto t = cast<RankedTensorType>(v.getType());
  auto l = cast<RankedTensorType>(like.getType());
  if (t == l)
    return success();
  if (t.getShape() == l.getShape() &&
      t.getElementType().getIntOrFloatBitWidth() <
          l.getElementType().getIntOrFloatBitWidth())
    return success();
  return op->emitOpError() << what << " must have the " << likeWhat
                           << "'s type " << l
                           << " or its shape in a narrower float type, got "
                           << t;
}

/// A norm over the last dim of `input`: weight [H], epsilon > 0 and finite.
LogicalResult verifyNormWeight(Operation *op, Value input, Value weight,
                               const APFloat &epsilon) {
  auto in = cast<RankedTensorType>(input.getType());
  auto w = cast<RankedTensorType>(weight.getType());
  if (in.getRank() < 1 || w.getRank() != 1 ||
      w.getDimSize(0) != in.getShape().back())
    return op->emitOpError() << "weight must be [" << in.getShape().back()
                             << "] (the last dim of " << in << "), got " << w;
  if (!(epsilon.convertToDouble() > 0.0) || epsilon.isInfinity())
    return op->emitOpError("epsilon must be positive and finite");
  return success();
}

LogicalResult expectType(Operation *op, Value v, Type t, StringRef what,
                         StringRef ofWhat) {
  if (v.getType() == t)
    return success();
  return op->emitOpError() << what << " must have the " << ofWhat << "'s type "
                           << t << ", got " << v.getType();
}
} // namespace

LogicalResult AddRMSNormOp::verify() {
  if (failed(expectSameOrNarrower(*this, getDelta(), getResidual(), "delta",
                                  "residual")) ||
      failed(verifyNormWeight(*this, getResidual(), getWeight(),
                              getEpsilon())) ||
      failed(expectType(*this, getSum(), getResidual().getType(), "sum",
                        "residual")) ||
      failed(expectSameOrNarrower(*this, getResult(), getResidual(), "result",
                                  "residual")))
    return failure();
  return success();
}

LogicalResult RMSNormGradResidualOp::verify() {
  if (failed(verifyNormWeight(*this, getInput(), getWeight(), getEpsilon())) ||
      failed(expectSameOrNarrower(*this, getGrad(), getInput(), "grad",
                                  "input")) ||
      failed(expectType(*this, getResidualGrad(), getInput().getType(),
                        "residual_grad", "input")) ||
      failed(expectType(*this, getInputGrad(), getInput().getType(),
                        "input_grad", "input")) ||
      failed(expectType(*this, getWeightGrad(), getWeight().getType(),
                        "weight_grad", "weight")))
    return failure();
  Value narrow = getInputGradNarrow();
  if (!narrow)
    return success();
  if (narrow.getType() == getInput().getType())
    return emitOpError() << "input_grad_narrow must be narrower than the "
                            "input's type "
                         << narrow.getType();
  return expectSameOrNarrower(*this, narrow, getInput(), "input_grad_narrow",
                              "input");
}
