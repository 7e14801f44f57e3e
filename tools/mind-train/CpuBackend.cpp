//===- CpuBackend.cpp - the interpreter as a training backend -------------===//

#include "CpuBackend.h"

using namespace mind;
namespace runtime = mind::runtime;

CpuBackend::CpuBackend(mlir::func::FuncOp trainStep, CpuTrainerOptions options)
    : step(trainStep), options(options) {}

std::vector<runtime::TensorSpec> CpuBackend::parameters() const {
  std::vector<runtime::TensorSpec> specs;
  for (const ParamInfo &p : CpuTrainer::parameters(step))
    specs.push_back({p.name, p.shape});
  return specs;
}

void CpuBackend::setWeights(const runtime::TensorList &weights) {
  trainer = std::make_unique<CpuTrainer>(step, weights, options);
}

runtime::MicroStepLosses CpuBackend::microStep(const runtime::TokenBatch &b) {
  auto asTensor = [&](const std::vector<int64_t> &v) {
    return ref::Tensor::fromData({b.batch, b.seq}, {v.begin(), v.end()});
  };
  MicroStepResult r =
      trainer->microStep(asTensor(b.ids), asTensor(b.targets), asTensor(b.mask));
  return {r.loss, r.auxLoss};
}

runtime::OptimizerSnapshot CpuBackend::optimizerState() {
  CpuTrainerState s = trainer->exportState();
  runtime::OptimizerSnapshot out;
  out.step = s.optimizerSteps;
  out.expAvg = std::move(s.expAvg);
  out.expAvgSq = std::move(s.expAvgSq);
  return out;
}

void CpuBackend::restoreOptimizer(const runtime::OptimizerSnapshot &s) {
  trainer->importState({trainer->weights(), s.step, s.expAvg, s.expAvgSq});
}
