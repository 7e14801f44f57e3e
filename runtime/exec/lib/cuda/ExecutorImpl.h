//===- ExecutorImpl.h - Executor internals (private) ------------*- C++ -*-===//

#ifndef MIND_RUNTIME_SRC_CUDA_EXECUTORIMPL_H
#define MIND_RUNTIME_SRC_CUDA_EXECUTORIMPL_H

#include "mind/exec/Cuda.h"
#include "mind/exec/Executor.h"

#include <array>
#include <functional>
#include <optional>

namespace mind::runtime {

using kabi::LaunchArgs;

struct Executor::Impl {
  Bundle bundle; // owns the plan for the executor's lifetime
  ExecutorOptions options;
  cudaStream_t stream = nullptr;
  DeviceBuffer arena;
  DeviceBuffer workspace;
  DeviceBuffer pointerTables; // the device arrays of array arguments
  std::unique_ptr<CudaModule> module;
  std::unique_ptr<CublasLtHandle> cublas;
  std::vector<std::unique_ptr<PreparedGemm>> gemms; // per step (null: none)
  std::vector<LaunchArgs> launchArgs;               // per step
  std::vector<std::string> stepNames;               // per step, for errors
  std::optional<ParamLayout> params;

  // The bf16/f16 weight copies (ParamLayout::copies) follow the params:
  // the optimizer step rewrites them; after the host writes params they are
  // refilled before the next micro-step.
  bool copiesStale = true;

  bool warmedUp = false;
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t graphExec = nullptr;

  // Optimizer (initOptimizer).
  bool optimizerReady = false;
  DeviceOptimizerConfig optConfig;
  DeviceBuffer expAvg, expAvgSq, optState, partials, gradScaleFallback;
  int64_t kNorm = -1, kPrepare = -1, kAdamw = -1; // module kernel indices
  // The learning rate reaches optimizer_prepare through lrDevice (one
  // double), copied from a ring of pinned host slots: a slot is rewritten
  // only after its previous copy ran (lrCopied), so queued steps keep their
  // own lr without a host sync.
  static constexpr size_t kLrSlots = 32;
  DeviceBuffer lrDevice;
  double *lrHost = nullptr; // pinned, kLrSlots
  std::array<cudaEvent_t, kLrSlots> lrCopied{};
  size_t lrNext = 0;
  // The optimizer step's graph (like the micro-step's: eager warm-up, then
  // captured on the second step).
  bool optWarmedUp = false;
  cudaGraph_t optGraph = nullptr;
  cudaGraphExec_t optGraphExec = nullptr;

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
  /// Launches every plan step on the stream; `afterStep(i)`, if given,
  /// runs after step i is enqueued (profiling records events there).
  void enqueueSteps(const std::function<void(size_t)> &afterStep = {});
  void capture();
  /// Refills the param copies from the params if the host wrote params.
  void refreshCopies();
  /// Launches library kernel `kernel` (a plan kernel index) with host
  /// pointers for its buffers (no array arguments).
  void launchLibrary(int64_t kernel, const LaunchConfig &cfg,
                     const std::vector<kabi::Arg<void *>> &args,
                     const char *what);
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
  /// Enqueues the copy of `lr` into lrDevice (outside any capture).
  void setLr(double lr);
  /// Enqueues the three optimizer launches (captured by captureOptimizer).
  void enqueueOptimizer();
  void captureOptimizer();
  /// Drops the optimizer graph; the next step runs eagerly again.
  void resetOptimizerGraph();
};

} // namespace mind::runtime

#endif // MIND_RUNTIME_SRC_CUDA_EXECUTORIMPL_H
