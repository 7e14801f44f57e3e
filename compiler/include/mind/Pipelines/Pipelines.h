//===- Pipelines.h - mindc's named pass pipelines ---------------*- C++ -*-===//

#ifndef MIND_PIPELINES_PIPELINES_H
#define MIND_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace mind {

struct TrainPipelineOptions
    : public mlir::PassPipelineOptions<TrainPipelineOptions> {
  Option<std::string> dtype{*this, "dtype",
                            llvm::cl::desc("Compute type: f32, bf16 or f16"),
                            llvm::cl::init("f32")};
};

/// forward -> train: mixed precision (mind-precision, unless f32), then
/// differentiation into @train_step (mind-autodiff). `mind-train-pipeline`
/// in mind-opt.
void buildTrainPipeline(mlir::OpPassManager &pm,
                        const TrainPipelineOptions &options = {});

/// The train pipeline, then fusion (mind-fuse-elementwise): what the GPU
/// lowering compiles (`mindc ir --stage=fused`). `mind-fused-pipeline` in
/// mind-opt.
void buildFusedPipeline(mlir::OpPassManager &pm,
                        const TrainPipelineOptions &options = {});

/// Registers the named pipelines with the global registry.
void registerPipelines();

} // namespace mind

#endif // MIND_PIPELINES_PIPELINES_H
