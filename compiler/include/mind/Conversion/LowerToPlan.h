//===- LowerToPlan.h - @train_step to a runtime plan ------------*- C++ -*-===//
//
// Lowers the (mixed-precision) @train_step to the runtime's plan: every GEMM
// becomes a cuBLASLt step, every other op one or more launches of the kernel
// templates of runtime/kernels (their launch rules come from KernelSpecs.h,
// shared with the GPU tests), reshapes become aliases, and every buffer gets
// an arena offset from the liveness-based planner. Parameters are fp32
// master weights laid out back to back, followed by their fp32 gradient
// accumulators in the same order, so the optimizer treats each as one flat
// array.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_CONVERSION_LOWERTOPLAN_H
#define MIND_CONVERSION_LOWERTOPLAN_H

#include "mind/abi/Plan.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mind {

struct LoweredTrainStep {
  runtime::Plan plan;
  /// CUDA C++ of the kernels emitted from the IR (elementwise ops), to be
  /// compiled in one NVRTC program with the kernel library.
  std::string emittedSource;
};

/// Lowers `trainStep`; failures are reported as diagnostics on the op that
/// could not be lowered.
mlir::FailureOr<LoweredTrainStep> lowerToPlan(mlir::func::FuncOp trainStep);

} // namespace mind

#endif // MIND_CONVERSION_LOWERTOPLAN_H
