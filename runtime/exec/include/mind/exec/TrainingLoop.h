//===- TrainingLoop.h - MiniMind's training loop, once ----------*- C++ -*-===//
//
// The one training loop of the project (MINIMIND-SPEC §5-7): data through the
// DataLoader (DistributedSampler semantics under torchrun), the LR schedule
// set every micro-step, gradient accumulation, an optimizer step every
// accumulation_steps micro-steps, the log line and JSONL metrics, checkpoints
// (weights-only and resume files, docs/Checkpoints.md), resume with
// MiniMind's world-size rule. What runs a micro-step is a TrainingBackend: the
// GPU executor (mind-trainer) or the reference interpreter (mind-train).
//
//===----------------------------------------------------------------------===//

#ifndef MIND_EXEC_TRAININGLOOP_H
#define MIND_EXEC_TRAININGLOOP_H

#include "mind/data/TokenData.h"
#include "mind/exec/Distributed.h"
#include "mind/exec/TrainerFlags.h"
#include "mind/io/Checkpoint.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace mind::runtime {

struct MicroStepLosses {
  double loss = 0; // masked cross entropy, not divided by accumulation_steps
  double aux = 0;  // the MoE aux losses' sum (0 for a dense model)
};

/// The optimizer's state at a step boundary: what a resume file stores.
struct OptimizerSnapshot {
  int64_t step = 0;         // AdamW steps taken (torch's state["step"])
  int64_t skippedSteps = 0; // steps a float16 loss scaler skipped
  bool lossScaling = false;
  double lossScale = 1;
  int64_t growthTracker = 0;    // GradScaler's good steps in a row
  TensorList expAvg, expAvgSq;  // one per parameter (zeros before step 1)
};

/// What trains: forward + backward of a micro-batch with the gradients
/// accumulating, and the optimizer step over them.
class TrainingBackend {
public:
  virtual ~TrainingBackend() = default;
  /// The device part of the start line, e.g. "device cpu (reference
  /// interpreter)".
  virtual std::string deviceDescription() const = 0;
  /// Appended to the start line (e.g. ", CUDA graph").
  virtual std::string startSuffix() const { return ""; }
  /// Parameters by state-dict name, in the order checkpoints list them.
  virtual std::vector<TensorSpec> parameters() const = 0;
  virtual void setWeights(const TensorList &weights) = 0;
  virtual TensorList weights() = 0;
  /// Runs on the loader's thread for every batch before it is trained on
  /// (the GPU stages it in pinned memory); empty: nothing to do.
  virtual std::function<void(TokenBatch &)> batchStager() { return {}; }
  /// Adds (1 / accumulation_steps) * d(loss + aux)/dθ (times the loss scale
  /// where one applies) into the gradient accumulators.
  virtual MicroStepLosses microStep(const TokenBatch &batch) = 0;
  /// Clip and AdamW on the accumulated gradients with `lr`, then clear them
  /// (data parallel: after averaging them over the ranks).
  virtual void optimizerStep(double lr) = 0;
  /// Valid at an optimizer-step boundary only.
  virtual OptimizerSnapshot optimizerState() = 0;
  virtual void restoreOptimizer(const OptimizerSnapshot &state) = 0;
  /// Called after every micro-step (the GPU samples its memory use).
  virtual void afterMicroStep() {}
  /// Appends `,"key":value` fields of this backend to a metrics line.
  virtual void writeMetrics(std::ostream &line) { (void)line; }
  /// After the last micro-step, before the final save.
  virtual void finish() {}
};

struct TrainingOptions {
  std::string tool;       // message prefix: "mind-train", "mind-trainer"
  std::string sourceName; // the start line's model: a path, "embedded bundle"
  TrainerFlags flags;     // batch_size, max_seq_len, dtype resolved
  nlohmann::json config;  // the model config (MiniMind's config.json keys)
  DistEnv dist;           // a single process unless under torchrun
};

/// Trains as the flags say, resuming if asked, and writes the final
/// checkpoint (rank 0 only). Throws std::runtime_error with a message for
/// the user on any failure; the checkpoint files on disk are then the last
/// complete ones.
void runTraining(TrainingBackend &backend, const TrainingOptions &options);

} // namespace mind::runtime

#endif // MIND_EXEC_TRAININGLOOP_H
