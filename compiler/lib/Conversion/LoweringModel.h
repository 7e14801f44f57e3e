//===- LoweringModel.h - attaching per-family plan lowerings ----*- C++ -*-===//
//
// Internal to the Lower<Family>.cpp files: each defines
// `static LogicalResult lowerOp(SomeOp, PlanLowering &)` in namespace mind
// per op and attaches them with attachLowerings<Ops...>.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_CONVERSION_LOWERINGMODEL_H
#define MIND_CONVERSION_LOWERINGMODEL_H

#include "mind/Conversion/PlanLowering.h"
#include "mind/Dialect/Mind/IR/MindDialect.h"
#include "mind/Dialect/Mind/IR/MindOps.h"
#include "mind/abi/KernelSpecs.h"

#include "mlir/IR/DialectRegistry.h"

namespace mind {

template <class Op>
struct LoweringModel
    : PlanLoweringOpInterface::ExternalModel<LoweringModel<Op>, Op> {
  mlir::LogicalResult lowerToPlan(mlir::Operation *op,
                                  PlanLowering &lowering) const {
    return lowerOp(mlir::cast<Op>(op), lowering);
  }
};

/// Ops that run the kernel the elementwise emitter writes for them.
template <class Op>
struct EmittedLoweringModel
    : PlanLoweringOpInterface::ExternalModel<EmittedLoweringModel<Op>, Op> {
  mlir::LogicalResult lowerToPlan(mlir::Operation *op,
                                  PlanLowering &lowering) const {
    lowering.emittedKernel(op);
    return mlir::success();
  }
};

template <class... Ops>
void attachEmittedLowerings(mlir::DialectRegistry &registry) {
  registry.addExtension(+[](mlir::MLIRContext *ctx, MindDialect *) {
    (Ops::template attachInterface<EmittedLoweringModel<Ops>>(*ctx), ...);
  });
}

/// Attaches LoweringModel<Op> to each of `Ops` when the mind dialect loads.
template <class... Ops> void attachLowerings(mlir::DialectRegistry &registry) {
  registry.addExtension(+[](mlir::MLIRContext *ctx, MindDialect *) {
    (Ops::template attachInterface<LoweringModel<Ops>>(*ctx), ...);
  });
}

// Shape helpers the families share.
inline mlir::RankedTensorType tensorOf(mlir::Value v) {
  return mlir::cast<mlir::RankedTensorType>(v.getType());
}
inline int64_t numel(mlir::Value v) { return tensorOf(v).getNumElements(); }
inline int64_t lastDim(mlir::Value v) { return tensorOf(v).getShape().back(); }
/// The product of all but the last dim: rows of a row-wise op (not
/// numel / lastDim, which divides by zero for an empty last dim).
inline int64_t leadingRows(mlir::Value v) {
  int64_t rows = 1;
  for (int64_t d : tensorOf(v).getShape().drop_back())
    rows *= d;
  return rows;
}
inline std::vector<int64_t> shapeOf(mlir::Value v) {
  auto s = tensorOf(v).getShape();
  return {s.begin(), s.end()};
}

// One registration per family (Lower<Family>.cpp).
void registerGemmLowerings(mlir::DialectRegistry &registry);
void registerElementwiseLowerings(mlir::DialectRegistry &registry);
void registerNormLowerings(mlir::DialectRegistry &registry);
void registerLossLowerings(mlir::DialectRegistry &registry);
void registerAttentionLowerings(mlir::DialectRegistry &registry);
void registerMoeLowerings(mlir::DialectRegistry &registry);
void registerEmbeddingLowerings(mlir::DialectRegistry &registry);

} // namespace mind

#endif // MIND_CONVERSION_LOWERINGMODEL_H
