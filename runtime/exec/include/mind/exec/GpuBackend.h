//===- GpuBackend.h - a compiled bundle as a training backend ---*- C++ -*-===//
//
// mind-trainer's TrainingBackend: the Executor running a bundle's plan (the
// micro-step as a CUDA graph, the device optimizer with fp16 loss scaling),
// batches staged in pinned memory on the loader's thread, gradients averaged
// over NCCL before every optimizer step when data parallel, and the device
// memory the process takes.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_EXEC_GPUBACKEND_H
#define MIND_EXEC_GPUBACKEND_H

#include "mind/exec/Executor.h"
#include "mind/exec/Nccl.h"
#include "mind/exec/PinnedBatches.h"
#include "mind/exec/TrainingLoop.h"

#include <memory>

namespace mind::runtime {

/// Device memory this process uses beyond what was in use when it was
/// created (cudaMemGetInfo, so it counts every allocation: arena, cuBLASLt
/// workspace, modules, graphs), and the largest value seen by sample().
class PeakMemory {
public:
  PeakMemory();
  void sample();
  double mib() const { return static_cast<double>(peak) / (1024.0 * 1024.0); }

private:
  bool enabled = false;
  size_t freeAtStart = 0, peak = 0;
};

struct GpuBackendOptions {
  ExecutorOptions executor;
  DeviceOptimizerConfig optimizer; // clip, accumulation, loss scaling
  std::string dtype;               // for the start line
  int64_t batchSize = 0, seqLen = 0;
  int64_t prefetch = 2;            // the loader's prefetch depth
};

class GpuBackend : public TrainingBackend {
public:
  /// Selects the device (LOCAL_RANK when distributed), loads the bundle and
  /// readies the optimizer; `peak` starts measuring before anything of ours
  /// is on the device.
  GpuBackend(const Bundle &bundle, const GpuBackendOptions &options,
             const DistEnv &dist);

  std::string deviceDescription() const override;
  std::string startSuffix() const override;
  std::vector<TensorSpec> parameters() const override;
  void setWeights(const TensorList &weights) override;
  TensorList weights() override;
  std::function<void(TokenBatch &)> batchStager() override;
  MicroStepLosses microStep(const TokenBatch &batch) override;
  void optimizerStep(double lr) override;
  OptimizerSnapshot optimizerState() override;
  void restoreOptimizer(const OptimizerSnapshot &state) override;
  void afterMicroStep() override { peak->sample(); }
  void writeMetrics(std::ostream &line) override;
  void finish() override;

  Executor &executor() { return *ex; }

private:
  GpuBackendOptions options;
  DistEnv dist;
  std::unique_ptr<PeakMemory> peak;
  std::unique_ptr<Executor> ex;
  std::unique_ptr<NcclComm> comm;
  std::unique_ptr<PinnedBatchStager> stager;
  TrainingInterface ti;
  std::vector<TensorSpec> specs;
};

} // namespace mind::runtime

#endif // MIND_EXEC_GPUBACKEND_H
