//===- CompileBundle.h - from the fused IR to a bundle ----------*- C++ -*-===//
//
// The compiler's last stages as a library (mindc keeps the command line):
// lowering the fused @train_step to a planned plan.micro_step, exporting it
// to the runtime's plan, compiling its kernels with NVRTC into a bundle, and
// the device memory a plan will take.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_BUNDLE_COMPILEBUNDLE_H
#define MIND_BUNDLE_COMPILEBUNDLE_H

#include "mind/Conversion/ExportPlan.h"
#include "mind/abi/Bundle.h"

#include "mlir/IR/BuiltinOps.h"

#include <nlohmann/json.hpp>

namespace mind {

/// Runs mind-lower-to-plan and mind-plan-memory on `module` (which holds the
/// fused @train_step; it is replaced by its plan.micro_step) and exports the
/// plan. Errors are reported as diagnostics.
mlir::FailureOr<ExportedPlan> lowerTrainStep(mlir::ModuleOp module);

struct BundleOptions {
  std::string arch = "sm_90a";     // NVRTC target (sm_90a, sm_80, ...)
  nlohmann::json config;           // the MiniMind config (HF key names)
  int64_t batch = 0, seqLen = 0;   // the micro-step shape
  std::string dtype = "bfloat16";  // float32, bfloat16 or float16
};

/// Compiles every kernel of `lowered` (the kernel library plus the emitted
/// kernels) with NVRTC for `options.arch` and assembles the validated
/// bundle; `mlir` is kept in it for inspection. Throws std::runtime_error
/// (NVRTC's log included) on failure, or when this build has no NVRTC.
runtime::Bundle buildBundle(ExportedPlan lowered, const BundleOptions &options,
                            std::string mlir);

/// Planned device memory of a training plan: the arena of one micro-step
/// (weights, gradient accumulators, activations), AdamW's two fp32 moments
/// per parameter and the cuBLASLt workspace (CUDA's own context is not
/// counted).
struct PlannedMemory {
  uint64_t arenaBytes = 0, optimizerStateBytes = 0, gemmWorkspaceBytes = 0;
  uint64_t total() const {
    return arenaBytes + optimizerStateBytes + gemmWorkspaceBytes;
  }
};
PlannedMemory plannedMemory(const runtime::Plan &plan);

} // namespace mind

#endif // MIND_BUNDLE_COMPILEBUNDLE_H
