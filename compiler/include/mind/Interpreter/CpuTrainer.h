//===- CpuTrainer.h - MiniMind's training loop on the interpreter -*- C++ -*-===//
//
// Runs @train_step on the reference interpreter: a micro-step adds the
// gradients of (loss + aux) / accumulation_steps into fp32 accumulators, an
// optimizer step clips them by their global norm and applies AdamW to the
// fp32 master weights (MINIMIND-SPEC §5). The schedule, the accumulation
// count and everything else of the training loop are the runtime's
// (runtime/exec TrainingLoop.h; mind-train drives this through it).
//
//===----------------------------------------------------------------------===//

#ifndef MIND_INTERPRETER_CPUTRAINER_H
#define MIND_INTERPRETER_CPUTRAINER_H

#include "mind/Interpreter/Interpreter.h"
#include "mind/exec/Optimizer.h"

#include <string>
#include <vector>

namespace mind {

struct CpuTrainerOptions {
  int64_t accumulationSteps = 8; // the backward seed is 1 / this
  double gradClip = 1.0;
  runtime::AdamWConfig adamw;
  InterpreterOptions interpreter;
};

struct MicroStepResult {
  double loss = 0;     // masked CE, not divided by accumulation_steps
  double auxLoss = 0;  // sum of the MoE aux losses
};

/// A parameter of @train_step: its name and shape, from the `mind.param`
/// argument attributes.
struct ParamInfo {
  std::string name;
  std::vector<int64_t> shape;
  int64_t numel() const;
};

/// The trainer's complete state at an optimizer-step boundary, one tensor
/// per parameter in argument order. Gradient accumulators are not part of
/// it: a state is only taken when they are empty (every accumulation window
/// closed), so checkpoints are written at optimizer-step boundaries only.
struct CpuTrainerState {
  std::vector<std::vector<float>> weights; // fp32 master weights
  int64_t optimizerSteps = 0;              // AdamW's step count t
  // AdamW moments; zeros when optimizerSteps == 0.
  std::vector<std::vector<float>> expAvg, expAvgSq;
};

class CpuTrainer {
public:
  /// `trainStep` must be the output of mind-autodiff. `initial` holds one
  /// fp32 tensor per parameter, in argument order.
  CpuTrainer(mlir::func::FuncOp trainStep,
             std::vector<std::vector<float>> initial,
             CpuTrainerOptions options);

  /// Parameters of `trainStep` in argument order.
  static std::vector<ParamInfo> parameters(mlir::func::FuncOp trainStep);

  /// One micro-step on [batch, seq] ids/targets/mask: its gradients are
  /// added into the accumulators.
  MicroStepResult microStep(const ref::Tensor &ids, const ref::Tensor &targets,
                            const ref::Tensor &mask);
  /// Clips the accumulated gradients to the global norm gradClip, applies
  /// AdamW with `lr` and clears them. Returns the pre-clip global norm.
  double optimizerStep(double lr);

  const std::vector<ParamInfo> &params() const { return info; }
  const std::vector<std::vector<float>> &weights() const { return master; }
  const std::vector<std::vector<float>> &grads() const { return gradAccum; }
  runtime::AdamW &optimizer() { return adamw; }

  /// Micro-steps accumulated since the last optimizer step.
  int64_t pendingMicroSteps() const { return microInWindow; }
  bool atOptimizerBoundary() const { return microInWindow == 0; }
  /// Copies the state out. Throws InterpreterError between optimizer steps
  /// (pending gradients would be lost).
  CpuTrainerState exportState() const;
  /// Replaces weights and optimizer state and clears the accumulators.
  /// Throws InterpreterError (nothing changed) on a count or size mismatch.
  void importState(CpuTrainerState state);

private:
  mlir::func::FuncOp func;
  CpuTrainerOptions options;
  std::vector<ParamInfo> info;
  std::vector<std::vector<float>> master;
  std::vector<std::vector<float>> gradAccum;
  runtime::AdamW adamw;
  int64_t microInWindow = 0;
};

} // namespace mind

#endif // MIND_INTERPRETER_CPUTRAINER_H
