//===- Pipelines.cpp - mindc's named pass pipelines -----------------------===//

#include "mind/Pipelines/Pipelines.h"

#include "mind/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"

void mind::buildTrainPipeline(mlir::OpPassManager &pm) {
  pm.addPass(createMindAutodiff());
}

void mind::registerPipelines() {
  mlir::PassPipelineRegistration<>(
      "mind-train-pipeline",
      "Turn @forward into @train_step (the stages mindc runs for "
      "--stage=train)",
      buildTrainPipeline);
}
