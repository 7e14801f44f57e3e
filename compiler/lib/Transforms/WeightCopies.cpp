//===- WeightCopies.cpp - weights cast once per optimizer step ------------===//
//
// See the pass description in Passes.td. The rewrite is local to the
// function's signature: every `mind.cast` of a parameter argument to its
// compute type is replaced by a new argument that carries that cast's value
// (`mind.param_copy = "<param>"`); who fills the argument decides when the
// rounding happens, not what it gives.
//
//===----------------------------------------------------------------------===//

#include "mind/Dialect/Mind/IR/MindOps.h"
#include "mind/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

namespace mind {
#define GEN_PASS_DEF_MINDWEIGHTCOPIES
#include "mind/Transforms/Passes.h.inc"
} // namespace mind

using namespace mlir;
using namespace mind;

namespace {

/// The casts of `param` to a bf16/f16 tensor, all of one result type; empty
/// when there are none or they disagree (then the casts stay).
SmallVector<CastOp> narrowingCasts(BlockArgument param) {
  SmallVector<CastOp> casts;
  for (Operation *user : param.getUsers()) {
    auto c = dyn_cast<CastOp>(user);
    if (!c || !isa<BFloat16Type, Float16Type>(
                  cast<ShapedType>(c.getType()).getElementType()))
      continue;
    if (!casts.empty() && casts.front().getType() != c.getType())
      return {};
    casts.push_back(c);
  }
  return casts;
}

struct MindWeightCopiesPass
    : public mind::impl::MindWeightCopiesBase<MindWeightCopiesPass> {
  using MindWeightCopiesBase::MindWeightCopiesBase;

  void runOnOperation() override {
    auto fn = getOperation().lookupSymbol<func::FuncOp>(funcName);
    if (!fn || fn.isDeclaration())
      return; // nothing to rewrite
    Builder b(fn.getContext());
    unsigned numArgs = fn.getNumArguments();
    Type copyElem; // the copies share one element type (one copy region)
    for (unsigned i = 0; i < numArgs; ++i) {
      auto name = fn.getArgAttrOfType<StringAttr>(i, "mind.param");
      if (!name)
        continue;
      SmallVector<CastOp> casts = narrowingCasts(fn.getArgument(i));
      if (casts.empty())
        continue;
      Type elem = cast<ShapedType>(casts.front().getType()).getElementType();
      if (copyElem && elem != copyElem)
        continue;
      copyElem = elem;
      unsigned at = fn.getNumArguments();
      auto attrs = b.getDictionaryAttr(
          b.getNamedAttr("mind.param_copy", name));
      if (failed(fn.insertArgument(at, casts.front().getType(), attrs,
                                   fn.getArgument(i).getLoc()))) {
        fn.emitError("mind-weight-copies: cannot add an argument");
        return signalPassFailure();
      }
      for (CastOp c : casts) {
        c.getResult().replaceAllUsesWith(fn.getArgument(at));
        c.erase();
      }
    }
  }
};

} // namespace
