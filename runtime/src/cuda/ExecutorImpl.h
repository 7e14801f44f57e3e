//===- ExecutorImpl.h - Executor internals (private) ------------*- C++ -*-===//

#ifndef MIND_RUNTIME_SRC_CUDA_EXECUTORIMPL_H
#define MIND_RUNTIME_SRC_CUDA_EXECUTORIMPL_H

#include "mind/runtime/Cuda.h"
#include "mind/runtime/Executor.h"

#include <optional>

namespace mind::runtime {

/// A KernelStep's argument values in 8-byte slots, and the pointer array
/// cudaLaunchKernel takes (pointing into the slots).
struct LaunchArgs {
  std::vector<uint64_t> slots;
  std::vector<void *> argv;
};

struct Executor::Impl {
  Bundle bundle; // owns the plan for the executor's lifetime
  ExecutorOptions options;
  cudaStream_t stream = nullptr;
  DeviceBuffer arena;
  DeviceBuffer workspace;
  std::unique_ptr<CudaModule> module;
  std::unique_ptr<CublasLtHandle> cublas;
  std::vector<std::unique_ptr<PreparedGemm>> gemms; // per step (null: none)
  std::vector<LaunchArgs> launchArgs;               // per step
  std::vector<std::string> stepNames;               // per step, for errors
  std::optional<ParamLayout> params;

  bool warmedUp = false;
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t graphExec = nullptr;

  // Optimizer (initOptimizer).
  bool optimizerReady = false;
  DeviceOptimizerConfig optConfig;
  DeviceBuffer expAvg, expAvgSq, optState, partials, gradScaleFallback;
  int64_t kNorm = -1, kPrepare = -1, kAdamw = -1; // module kernel indices

  ~Impl();
  char *ptr(int64_t id) const {
    return static_cast<char *>(arena.data()) +
           bundle.plan.buffers[static_cast<size_t>(id)].offset;
  }
  const BufferDesc &buf(int64_t id) const {
    return bundle.plan.buffers[static_cast<size_t>(id)];
  }
  int64_t id(const std::string &name) const;
  int64_t kernelIndex(const std::string &nameExpr) const;
  void enqueueSteps();
  void capture();
  const ParamLayout &layout() const;
  /// The param buffer called `name` (a Param; throws otherwise).
  int64_t paramId(const std::string &name) const;
  /// One param's slice of an AdamW moment region.
  std::vector<float> moment(const DeviceBuffer &m, const std::string &name,
                            const char *which);
  void setMoment(DeviceBuffer &m, const std::string &name,
                 const std::vector<float> &values, const char *which);
  /// Writes grad_scale = scale / accumulation steps (if the plan has it).
  void setGradScale(float scale);
};

} // namespace mind::runtime

#endif // MIND_RUNTIME_SRC_CUDA_EXECUTORIMPL_H
