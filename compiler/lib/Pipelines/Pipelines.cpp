//===- Pipelines.cpp - mindc's named pass pipelines -----------------------===//

#include "mind/Pipelines/Pipelines.h"

#include "mind/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"

void mind::buildTrainPipeline(mlir::OpPassManager &pm,
                              const TrainPipelineOptions &options) {
  if (options.dtype != "f32" && options.dtype != "float32") {
    MindPrecisionOptions precision;
    precision.dtype = options.dtype;
    pm.addPass(createMindPrecision(precision));
  }
  pm.addPass(createMindAutodiff());
}

void mind::buildFusedPipeline(mlir::OpPassManager &pm,
                              const TrainPipelineOptions &options) {
  buildTrainPipeline(pm, options);
  pm.addPass(createMindFuseElementwise());
}

void mind::registerPipelines() {
  mlir::PassPipelineRegistration<TrainPipelineOptions>(
      "mind-train-pipeline",
      "Turn @forward into @train_step (the stages mindc runs for "
      "--stage=train)",
      buildTrainPipeline);
  mlir::PassPipelineRegistration<TrainPipelineOptions>(
      "mind-fused-pipeline",
      "The train pipeline followed by fusion (the stages mindc runs for "
      "--stage=fused and before lowering to the GPU plan)",
      buildFusedPipeline);
}
