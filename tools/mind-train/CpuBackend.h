//===- CpuBackend.h - the interpreter as a training backend ----*- C++ -*-===//
//
// mind-train's TrainingBackend: CpuTrainer (the reference interpreter running
// @train_step, fp32 accumulators, clipping and AdamW) behind the runtime's
// one training loop.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_TOOLS_MIND_TRAIN_CPUBACKEND_H
#define MIND_TOOLS_MIND_TRAIN_CPUBACKEND_H

#include "mind/Interpreter/CpuTrainer.h"
#include "mind/exec/TrainingLoop.h"

#include <memory>

namespace mind {

class CpuBackend : public runtime::TrainingBackend {
public:
  CpuBackend(mlir::func::FuncOp trainStep, CpuTrainerOptions options);

  std::string deviceDescription() const override {
    return "device cpu (reference interpreter)";
  }
  std::vector<runtime::TensorSpec> parameters() const override;
  void setWeights(const runtime::TensorList &weights) override;
  runtime::TensorList weights() override { return trainer->weights(); }
  runtime::MicroStepLosses microStep(const runtime::TokenBatch &b) override;
  void optimizerStep(double lr) override { trainer->optimizerStep(lr); }
  runtime::OptimizerSnapshot optimizerState() override;
  void restoreOptimizer(const runtime::OptimizerSnapshot &s) override;

private:
  mlir::func::FuncOp step;
  CpuTrainerOptions options;
  std::unique_ptr<CpuTrainer> trainer; // made by setWeights
};

} // namespace mind

#endif // MIND_TOOLS_MIND_TRAIN_CPUBACKEND_H
