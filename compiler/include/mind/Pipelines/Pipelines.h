//===- Pipelines.h - mindc's named pass pipelines ---------------*- C++ -*-===//

#ifndef MIND_PIPELINES_PIPELINES_H
#define MIND_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"

namespace mind {

/// forward -> train: differentiates @forward into @train_step
/// (`mind-train-pipeline` in mind-opt).
void buildTrainPipeline(mlir::OpPassManager &pm);

/// Registers the named pipelines with the global registry.
void registerPipelines();

} // namespace mind

#endif // MIND_PIPELINES_PIPELINES_H
