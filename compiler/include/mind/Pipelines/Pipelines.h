//===- Pipelines.h - mindc's named pass pipelines ---------------*- C++ -*-===//

#ifndef MIND_PIPELINES_PIPELINES_H
#define MIND_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

#include <string>
#include <vector>

namespace mind {

struct TrainPipelineOptions
    : public mlir::PassPipelineOptions<TrainPipelineOptions> {
  Option<std::string> dtype{*this, "dtype",
                            llvm::cl::desc("Compute type: f32, bf16 or f16"),
                            llvm::cl::init("f32")};
  ListOption<std::string> disableFusion{
      *this, "disable-fusion",
      llvm::cl::desc("Fusions to leave out (fused and plan pipelines): "
                     "gradient-sinks, elementwise")};
};

/// The fusions the fused pipeline runs, by the names --disable-fusion takes:
/// "gradient-sinks" (mind-mark-gradient-sinks), "elementwise"
/// (mind-fuse-elementwise).
const std::vector<std::string> &fusionNames();
/// An error message for a name that is not a fusion, or "".
std::string checkDisabledFusions(const std::vector<std::string> &names);

/// forward -> train: mixed precision (mind-precision, unless f32), then
/// differentiation into @train_step (mind-autodiff). `mind-train-pipeline`
/// in mind-opt.
void buildTrainPipeline(mlir::OpPassManager &pm,
                        const TrainPipelineOptions &options = {});

/// The train pipeline, then the fusions not disabled
/// (mind-mark-gradient-sinks, mind-fuse-elementwise): what the GPU lowering
/// compiles (`mindc ir --stage=fused`). `mind-fused-pipeline` in mind-opt.
void buildFusedPipeline(mlir::OpPassManager &pm,
                        const TrainPipelineOptions &options = {});

/// The fusions of the fused pipeline alone (those not disabled).
void buildFusionPasses(mlir::OpPassManager &pm,
                       const TrainPipelineOptions &options = {});
/// mind-lower-to-plan and mind-plan-memory.
void buildLoweringPasses(mlir::OpPassManager &pm);

/// The fused pipeline, then mind-lower-to-plan and mind-plan-memory: the
/// plan dialect the bundle is written from (`mindc ir --stage=lowered`).
/// `mind-plan-pipeline` in mind-opt.
void buildPlanPipeline(mlir::OpPassManager &pm,
                       const TrainPipelineOptions &options = {});

/// Registers the named pipelines with the global registry.
void registerPipelines();

} // namespace mind

#endif // MIND_PIPELINES_PIPELINES_H
