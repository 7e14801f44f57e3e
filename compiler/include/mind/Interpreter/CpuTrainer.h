//===- CpuTrainer.h - MiniMind's training loop on the interpreter -*- C++ -*-===//
//
// Runs @train_step on the reference interpreter with MiniMind's trainer
// semantics (MINIMIND-SPEC §5): LR set every micro-step by the cosine
// schedule, gradients of (loss + aux) / accumulation_steps accumulated in
// fp32, then every accumulation_steps micro-steps global-norm clipping and
// one AdamW step on fp32 master weights.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_INTERPRETER_CPUTRAINER_H
#define MIND_INTERPRETER_CPUTRAINER_H

#include "mind/Interpreter/Interpreter.h"
#include "mind/exec/Optimizer.h"
#include "mind/io/Safetensors.h"

#include <string>
#include <vector>

namespace mind {

struct CpuTrainerOptions {
  int64_t accumulationSteps = 8;
  double gradClip = 1.0;
  double learningRate = 5e-4;
  /// epochs * iters: the length of the cosine schedule in micro-steps.
  int64_t totalMicroSteps = 1;
  runtime::AdamWConfig adamw;
  InterpreterOptions interpreter;
};

struct MicroStepResult {
  double loss = 0;     // masked CE, not divided by accumulation_steps
  double auxLoss = 0;  // sum of the MoE aux losses
  double lr = 0;       // the LR set for this micro-step
  bool optimizerStep = false;
  double gradNorm = 0; // pre-clip global norm, when optimizerStep
};

/// A parameter of @train_step: its name and shape, from the `mind.param`
/// argument attributes.
struct ParamInfo {
  std::string name;
  std::vector<int64_t> shape;
  int64_t numel() const;
};

/// Reads every parameter `prefix + name` from `file` as fp32. Throws
/// InterpreterError naming the tensor when one is missing or misshapen.
std::vector<std::vector<float>>
loadParameters(const runtime::SafetensorsFile &file,
               const std::vector<ParamInfo> &params,
               const std::string &prefix = "");

/// PyTorch's default initialisation (MINIMIND-SPEC §2): RMSNorm weights 1,
/// every matrix [out, in] U(-1/sqrt(in), 1/sqrt(in)), from `seed`.
std::vector<std::vector<float>>
initParameters(const std::vector<ParamInfo> &params, uint64_t seed);

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

  /// One micro-step on [batch, seq] ids/targets/mask. `step` is the global
  /// micro-step index (epoch * iters + micro_step).
  MicroStepResult microStep(int64_t step, const ref::Tensor &ids,
                            const ref::Tensor &targets,
                            const ref::Tensor &mask);

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
