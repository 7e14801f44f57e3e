//===- FuseRmsnormCast.cpp - RMSNorm storing its output narrowed ----------===//
//
// See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "mind/Dialect/Mind/IR/MindOps.h"
#include "mind/Transforms/Passes.h"

#include "CastPatterns.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace mind {
#define GEN_PASS_DEF_MINDFUSERMSNORMCAST
#include "mind/Transforms/Passes.h.inc"
} // namespace mind

using namespace mlir;
using namespace mind;

namespace {

/// The one narrower type every use of `norm` casts it to, or null (another
/// use, or casts to several types, keep the norm as it is).
Type narrowingTarget(RMSNormOp norm) {
  Type target;
  for (Operation *user : norm.getResult().getUsers()) {
    auto c = dyn_cast<CastOp>(user);
    if (!c || c->hasAttr(kGradientSinkAttr))
      return {};
    auto to = cast<RankedTensorType>(c.getType());
    if (!isa<FloatType>(to.getElementType()) ||
        to.getElementType().getIntOrFloatBitWidth() >=
            norm.getResult().getType().getElementType().getIntOrFloatBitWidth())
      return {};
    if (target && target != to)
      return {};
    target = to;
  }
  return target;
}

/// The gradient reads a widened dy narrow: widening is exact.
void readNarrowGrad(RMSNormGradOp grad) {
  Value wide = grad.getGrad();
  if (Value narrow = exactlyWidenedFrom(wide)) {
    grad.getGradMutable().assign(narrow);
    eraseIfUnused(wide);
  }
}

struct MindFuseRmsnormCastPass
    : public mind::impl::MindFuseRmsnormCastBase<MindFuseRmsnormCastPass> {
  void runOnOperation() override {
    // Collected first: the rewrite erases ops the walk has yet to visit.
    SmallVector<RMSNormOp> norms;
    getOperation().walk([&](RMSNormOp norm) { norms.push_back(norm); });
    for (RMSNormOp norm : norms) {
      Type target = narrowingTarget(norm);
      if (!target)
        continue;
      norm.getResult().setType(cast<RankedTensorType>(target));
      for (Operation *user : llvm::make_early_inc_range(
               norm.getResult().getUsers())) {
        user->getResult(0).replaceAllUsesWith(norm.getResult());
        user->erase();
      }
    }
    SmallVector<RMSNormGradOp> grads;
    getOperation().walk([&](RMSNormGradOp g) { grads.push_back(g); });
    for (RMSNormGradOp g : grads)
      readNarrowGrad(g);
  }
};

} // namespace
