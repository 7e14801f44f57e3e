//===- Executor.h - run a bundle's plan on the GPU --------------*- C++ -*-===//
//
// Loads a Bundle on a device (ExecutorOptions::device): one cudaMalloc arena of plan.arenaBytes
// (zero-filled), the cubin, a cuBLASLt handle with every GemmStep prepared,
// and one stream. A micro-step enqueues every plan step in order; after a
// warm-up micro-step it is captured as a CUDA graph and replayed. The
// optimizer (OptimizerSpecs.h) runs on the flat param/grad regions with
// device-resident state (the learning rate included), so it too is captured
// after one eager step, and a training loop synchronizes only to read the
// loss. Every CUDA/cuBLASLt error names the step (index and label).
//
//===----------------------------------------------------------------------===//

#ifndef MIND_EXEC_EXECUTOR_H
#define MIND_EXEC_EXECUTOR_H

#include "mind/abi/Bundle.h"
#include "mind/exec/Gemm.h"
#include "mind/exec/Optimizer.h"
#include "mind/abi/OptimizerSpecs.h"

#include <cuda_runtime.h>

#include <memory>
#include <string>
#include <vector>

namespace mind::runtime {

struct ExecutorOptions {
  /// The CUDA device to run on (a data-parallel rank's LOCAL_RANK).
  int device = 0;
  /// Capture the micro-step, and the optimizer step, as CUDA graphs after
  /// one eager warm-up run each.
  bool cudaGraph = true;
  /// Debugging: synchronize after every step so an asynchronous fault names
  /// its step (no graph then).
  bool syncEachStep = false;
  size_t gemmWorkspaceBytes = kGemmWorkspaceBytes;
};

struct DeviceOptimizerConfig {
  AdamWConfig adamw;
  double maxGradNorm = 1.0; // clip_grad_norm_'s max_norm
  int64_t accumulationSteps = 1;
  /// fp16: torch.cuda.amp.GradScaler (unscale before clipping, skip the step
  /// and halve the scale on inf/NaN, double it after growthInterval finite
  /// steps in a row).
  bool dynamicLossScale = false;
  float initialScale = 65536.0f;
  int64_t growthInterval = 2000;
};

class Executor {
public:
  /// Throws CudaError without a usable device or when loading fails,
  /// BundleError when the plan's params/grads break ParamLayout's rules.
  explicit Executor(const Bundle &bundle, ExecutorOptions options = {});
  ~Executor();
  Executor(const Executor &) = delete;
  Executor &operator=(const Executor &) = delete;

  const Plan &plan() const;
  cudaStream_t stream() const;
  /// Device pointer of buffer `id` (inside the arena).
  void *bufferPointer(int64_t id) const;
  /// Buffer id by name; throws std::invalid_argument when absent.
  int64_t bufferId(const std::string &name) const;

  //===--- The micro-step
  //--------------------------------------------------===//
  /// Copies host values into an Input buffer (I64 for ids/targets/mask,
  /// F32 scalar for grad_scale), ordered on the stream.
  void setInput(const std::string &name, const std::vector<int64_t> &values);
  void setInput(const std::string &name, float value);
  /// Enqueues every plan step (eagerly the first time or without graphs;
  /// then as one graph launch). Returns without waiting.
  void runMicroStep();
  /// Runs one micro-step eagerly with CUDA events around every step and
  /// returns each step's time in milliseconds, in plan order (for profiles:
  /// the events serialize nothing that the stream did not already order).
  std::vector<double> profileMicroStep();
  /// What a step is, for profiles: the kernel's name expression, "gemm MxNxK
  /// <types>" or "memset".
  std::string stepKind(size_t step) const;
  /// Waits for the stream and returns an F32 scalar buffer (loss, aux_loss).
  float readOutput(const std::string &name);
  /// Waits for all enqueued work; a device fault is reported here.
  void synchronize();
  /// True once the micro-step runs as a CUDA graph.
  bool usingGraph() const;

  //===--- Parameters and gradients (fp32, by buffer name)
  //-----------------===//
  /// The plan's param/grad regions; throws BundleError if it has no params.
  const ParamLayout &layout() const;
  void uploadParam(const std::string &name, const std::vector<float> &values);
  std::vector<float> downloadParam(const std::string &name);
  /// Gradients as accumulated so far (the param's name, not "<name>.grad").
  void uploadGrad(const std::string &name, const std::vector<float> &values);
  std::vector<float> downloadGrad(const std::string &name);
  void zeroGrads();
  float *paramRegion() const;
  float *gradRegion() const;

  //===--- Optimizer
  //-------------------------------------------------------===//
  /// Allocates zeroed AdamW moments and the device state, and sets the
  /// plan's grad_scale input (if it has one) to scale / accumulationSteps.
  /// Needs the optimizer kernels in the plan (kernels::optimizerKernelNames).
  void initOptimizer(const DeviceOptimizerConfig &config);
  /// Enqueues norm + clip (+ loss-scale update) + AdamW + zeroing of the
  /// gradients: eagerly the first time (or without graphs), captured as a
  /// CUDA graph the second time and replayed afterwards; `lr` is copied to
  /// device memory before the launches. No host synchronization (the host
  /// waits only if it runs more than a few dozen steps ahead of the GPU).
  void optimizerStep(double lr);
  /// True once the optimizer step runs as a CUDA graph. initOptimizer,
  /// setOptimizerState and moment uploads drop the graph (the next step runs
  /// eagerly, the one after captures again).
  bool optimizerUsingGraph() const;
  /// Waits and downloads the device state (norm of the last step, ...).
  OptimizerState optimizerState();
  /// AdamW moments of one parameter (torch's exp_avg / exp_avg_sq).
  std::vector<float> downloadExpAvg(const std::string &name);
  std::vector<float> downloadExpAvgSq(const std::string &name);
  /// Resuming: moments, and the state (step count, loss scale and growth
  /// tracker; the grad_scale input follows the scale).
  void uploadExpAvg(const std::string &name, const std::vector<float> &values);
  void uploadExpAvgSq(const std::string &name,
                      const std::vector<float> &values);
  void setOptimizerState(const OptimizerState &state);

private:
  struct Impl;
  std::unique_ptr<Impl> impl;
};

} // namespace mind::runtime

#endif // MIND_EXEC_EXECUTOR_H
