//===- FuseLossCast.cpp - cross entropy on narrow logits ------------------===//
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
#define GEN_PASS_DEF_MINDFUSELOSSCAST
#include "mind/Transforms/Passes.h.inc"
} // namespace mind

using namespace mlir;
using namespace mind;

namespace {

/// Every use of `v` is a cast to `type` (and none is a marked sink).
bool onlyCastTo(Value v, Type type) {
  if (v.use_empty())
    return false;
  for (Operation *user : v.getUsers()) {
    auto c = dyn_cast<CastOp>(user);
    if (!c || c->hasAttr(kGradientSinkAttr) || c.getType() != type)
      return false;
  }
  return true;
}

struct MindFuseLossCastPass
    : public mind::impl::MindFuseLossCastBase<MindFuseLossCastPass> {
  void runOnOperation() override {
    SmallVector<Operation *> losses;
    getOperation().walk([&](Operation *op) {
      if (isa<CrossEntropyOp, CrossEntropyGradOp>(op))
        losses.push_back(op);
    });
    for (Operation *op : losses) {
      if (auto loss = dyn_cast<CrossEntropyOp>(op)) {
        Value wide = loss.getLogits();
        if (Value narrow = exactlyWidenedFrom(wide)) {
          loss.getLogitsMutable().assign(narrow);
          eraseIfUnused(wide);
        }
        continue;
      }
      auto grad = cast<CrossEntropyGradOp>(op);
      Value wide = grad.getLogits();
      Value narrow = exactlyWidenedFrom(wide);
      // The result keeps the logits' type: it goes narrow only when every
      // reader narrows it to exactly that type.
      if (!narrow || !onlyCastTo(grad.getResult(), narrow.getType()))
        continue;
      grad.getLogitsMutable().assign(narrow);
      grad.getResult().setType(cast<RankedTensorType>(narrow.getType()));
      for (Operation *user :
           llvm::make_early_inc_range(grad.getResult().getUsers())) {
        user->getResult(0).replaceAllUsesWith(grad.getResult());
        user->erase();
      }
      eraseIfUnused(wide);
    }
  }
};

} // namespace
