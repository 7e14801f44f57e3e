//===- Pipelines.cpp - mindc's named pass pipelines -----------------------===//

#include "mind/Pipelines/Pipelines.h"

#include <algorithm>

#include "mind/Conversion/Passes.h"
#include "mind/Transforms/Passes.h"

#include "mlir/Pass/PassRegistry.h"

const std::vector<std::string> &mind::fusionNames() {
  static const std::vector<std::string> names = {
      "weight-copies",  "rmsnorm-cast",   "loss-cast",
      "add-rmsnorm",    "attention-rope", "recompute-silu",
      "gradient-sinks", "lm-head-chunks", "elementwise"};
  return names;
}

std::string mind::checkDisabledFusions(const std::vector<std::string> &names) {
  for (const std::string &n : names)
    if (std::find(fusionNames().begin(), fusionNames().end(), n) ==
        fusionNames().end()) {
      std::string known;
      for (const std::string &k : fusionNames())
        known += (known.empty() ? "" : ", ") + k;
      return "unknown fusion '" + n + "' (known: " + known + ")";
    }
  return "";
}

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
  buildFusionPasses(pm, options);
}

void mind::buildFusionPasses(mlir::OpPassManager &pm,
                             const TrainPipelineOptions &options) {
  auto enabled = [&](const char *name) {
    return std::find(options.disableFusion.begin(),
                     options.disableFusion.end(),
                     name) == options.disableFusion.end();
  };
  if (enabled("weight-copies"))
    pm.addPass(createMindWeightCopies());
  if (enabled("rmsnorm-cast"))
    pm.addPass(createMindFuseRmsnormCast());
  if (enabled("loss-cast"))
    pm.addPass(createMindFuseLossCast());
  if (enabled("add-rmsnorm"))
    pm.addPass(createMindFuseAddRmsnorm());
  if (enabled("attention-rope"))
    pm.addPass(createMindFuseAttentionRope());
  if (enabled("recompute-silu"))
    pm.addPass(createMindRecomputeSilu());
  if (enabled("gradient-sinks"))
    pm.addPass(createMindMarkGradientSinks());
  if (enabled("lm-head-chunks") && enabled("gradient-sinks"))
    pm.addPass(createMindChunkLmHead());
  if (enabled("elementwise"))
    pm.addPass(createMindFuseElementwise());
}

void mind::buildPlanPipeline(mlir::OpPassManager &pm,
                             const TrainPipelineOptions &options) {
  buildFusedPipeline(pm, options);
  buildLoweringPasses(pm);
}

void mind::buildLoweringPasses(mlir::OpPassManager &pm) {
  pm.addPass(createMindLowerToPlan());
  pm.addPass(createMindPlanMemory());
}

void mind::registerPipelines() {
  mlir::PassPipelineRegistration<TrainPipelineOptions>(
      "mind-train-pipeline",
      "Turn @forward into @train_step (the stages mindc runs for "
      "--stage=train)",
      buildTrainPipeline);
  mlir::PassPipelineRegistration<TrainPipelineOptions>(
      "mind-fused-pipeline",
      "The train pipeline followed by the fusions (the stages mindc runs for "
      "--stage=fused and before lowering to the GPU plan)",
      buildFusedPipeline);
  mlir::PassPipelineRegistration<TrainPipelineOptions>(
      "mind-plan-pipeline",
      "The fused pipeline, then lowering to the plan dialect and memory "
      "planning (what mindc compiles; --stage=lowered)",
      buildPlanPipeline);
}
