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
