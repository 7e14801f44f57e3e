//===- CastPatterns.h - casts the fusion passes look through ----*- C++ -*-===//
//
// The exact-widening test and the clean-up the cast fusions
// (mind-fuse-rmsnorm-cast, mind-fuse-loss-cast, mind-fuse-add-rmsnorm)
// share. Internal to MindTransforms.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_LIB_TRANSFORMS_CASTPATTERNS_H
#define MIND_LIB_TRANSFORMS_CASTPATTERNS_H

#include "mind/Dialect/Mind/IR/MindOps.h"

namespace mind {

/// Bits of a float tensor's element type.
inline unsigned elementWidth(mlir::Type tensor) {
  return mlir::cast<mlir::RankedTensorType>(tensor)
      .getElementType()
      .getIntOrFloatBitWidth();
}

/// The narrow value `v` widens, when `v` is a float-to-wider-float
/// `mind.cast` that is not a marked gradient sink (widening is exact, so a
/// reader can take the narrow value and widen it as it loads); else null.
inline mlir::Value exactlyWidenedFrom(mlir::Value v) {
  auto widen = v.getDefiningOp<CastOp>();
  if (!widen || widen->hasAttr(kGradientSinkAttr))
    return {};
  mlir::Type from = widen.getInput().getType(), to = widen.getType();
  if (!mlir::isa<mlir::FloatType>(mlir::getElementTypeOrSelf(from)) ||
      !mlir::isa<mlir::FloatType>(mlir::getElementTypeOrSelf(to)) ||
      elementWidth(from) >= elementWidth(to))
    return {};
  return widen.getInput();
}

/// Erases the op defining `v` once nothing reads it.
inline void eraseIfUnused(mlir::Value v) {
  if (mlir::Operation *def = v.getDefiningOp(); def && def->use_empty())
    def->erase();
}

} // namespace mind

#endif // MIND_LIB_TRANSFORMS_CASTPATTERNS_H
