//===- OptimizerSpecs.h - launch rules of the optimizer kernels -*- C++ -*-===//
//
// The optimizer runs on the device in three launches per step over the flat
// fp32 regions of a plan's ParamLayout (Bundle.h), with no host sync:
//   1. grad_sqnorm_partial: per-block sums of squared (unscaled) gradients;
//   2. optimizer_prepare:   norm, clip coefficient, GradScaler update and the
//                           AdamW step scalars, into an OptimizerState;
//   3. adamw_fused:         unscale + clip + AdamW, then zero the gradients.
// Every argument but the device state is fixed for a given Executor (the
// learning rate, too, is read from device memory), so the three launches are
// captured once as a CUDA graph and replayed every step.
// The kernels live in the bundle's cubin like every other kernel: mindc adds
// optimizerKernelNames() to every training plan's kernel list.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_ABI_OPTIMIZERSPECS_H
#define MIND_ABI_OPTIMIZERSPECS_H

#include "mind/abi/Plan.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mind::runtime {

/// Host mirror of mind::OptimizerState (kernels/optimizer.cuh), which lives
/// in device memory. Field for field identical; keep them in sync.
struct OptimizerState {
  double norm = 0;       // pre-clip global L2 norm of the unscaled gradients
  double coef = 1;       // clip coefficient of the last step (1: not clipped)
  double stepSize = 0;   // lr / (1 - beta1^t)
  double bc2Sqrt = 0;    // sqrt(1 - beta2^t)
  double decay = 1;      // 1 - lr * weight_decay
  int64_t step = 0;      // AdamW steps taken (torch's state["step"])
  int64_t goodSteps = 0; // GradScaler growth tracker
  int64_t skippedSteps = 0; // steps skipped for non-finite gradients
  float scale = 1;          // loss scale of the current window
  float invScale = 1;       // 1 / scale
  float stepInvScale = 1;   // the invScale the last step unscaled with
  int32_t skipped = 0;      // 1 when the last step was skipped
};
static_assert(sizeof(OptimizerState) == 80, "must match optimizer.cuh");

namespace kernels {

/// Blocks (= partial sums) of grad_sqnorm_partial for `n` elements: a
/// function of n alone, so the reduction order, and the norm, are
/// deterministic.
int64_t gradNormPartials(int64_t n);

/// mind::grad_sqnorm_partial; args: B grad (float, n), I n, B state,
/// B partials (double, gradNormPartials(n)).
LaunchConfig gradSqNormPartial(int64_t n);

/// mind::optimizer_prepare, one block; args: B partials, I numPartials,
/// B state, B gradScaleOut (float; the plan's grad_scale input), B lr (one
/// double in device memory: the step's learning rate, written before the
/// launch so a captured graph replays with a new lr), D maxNorm, D beta1,
/// D beta2, D weightDecay, D invAccum (1 / accumulation_steps),
/// I dynamicScale (0/1), I growthInterval (D = double).
LaunchConfig optimizerPrepare();

/// mind::adamw_fused; args: B param, B grad, B expAvg, B expAvgSq (float,
/// n each, 16-byte aligned), I n, B state, D beta1, D beta2, D eps.
LaunchConfig adamwFused(int64_t n);

/// Name expressions of every optimizer kernel: mindc must list these in
/// Plan::kernels (any order) of a training plan.
std::vector<std::string> optimizerKernelNames();

} // namespace kernels
} // namespace mind::runtime

#endif // MIND_ABI_OPTIMIZERSPECS_H
