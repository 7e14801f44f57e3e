//===- ExportPlan.h - plan.micro_step to the runtime's plan -----*- C++ -*-===//
//
// The last step out of MLIR: a planned `plan.micro_step` (after
// mind-plan-memory) becomes the runtime's Plan, field for field (buffers in
// IR order, kernels in first-launch order with their resolved signatures,
// steps in order), plus the CUDA C++ of its emitted kernels. The optimizer's
// kernels are appended to the kernel list: every training plan carries them.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_CONVERSION_EXPORTPLAN_H
#define MIND_CONVERSION_EXPORTPLAN_H

#include "mind/Dialect/Plan/IR/PlanOps.h"
#include "mind/abi/Plan.h"

namespace mind {

struct ExportedPlan {
  runtime::Plan plan;
  /// CUDA C++ of the kernels emitted from the IR, compiled in one NVRTC
  /// program with the kernel library.
  std::string emittedSource;
};

/// Fails, with an error on the op, when a buffer has no offset (run
/// mind-plan-memory first).
mlir::FailureOr<ExportedPlan> exportPlan(plan::MicroStepOp step);

} // namespace mind

#endif // MIND_CONVERSION_EXPORTPLAN_H
