//===- Optimizer.h - CPU AdamW, LR schedule, grad clipping ------*- C++ -*-===//
//
// The host-side reference of MiniMind's optimizer (MINIMIND-SPEC section 5):
// the cosine LR schedule, torch.optim.AdamW and clip_grad_norm_. The GPU
// kernels are checked against these, and the interpreter-backed CPU trainer
// uses them directly.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_EXEC_OPTIMIZER_H
#define MIND_EXEC_OPTIMIZER_H

#include <cstddef>
#include <cstdint>
#include <vector>

namespace mind::runtime {

/// MiniMind's get_lr: base * (0.1 + 0.45*(1 + cos(pi*step/totalSteps))): starts
/// at exactly base (step 0) and ends at base/10 (step == totalSteps).
/// Set every micro-step with step = epoch*iters + microStep and
/// totalSteps = epochs*iters. Throws std::invalid_argument if totalSteps <= 0.
double minimindLr(int64_t step, int64_t totalSteps, double baseLr);

/// PyTorch's default initialisation (MINIMIND-SPEC §2) of parameters with
/// these shapes, in order, from one mt19937_64 stream seeded with `seed`:
/// 2-D [out, in] weights U(-1/sqrt(in), 1/sqrt(in)), everything else
/// (RMSNorm weights) 1. The CPU and GPU trainers share it, so the same seed
/// starts both from the same weights.
std::vector<std::vector<float>>
pytorchDefaultInit(const std::vector<std::vector<int64_t>> &shapes,
                   uint64_t seed);

/// PyTorch's AdamW defaults (which MiniMind uses).
struct AdamWConfig {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weightDecay = 0.01;
};

/// One AdamW update of `n` elements, exactly torch.optim.AdamW's
/// single-tensor algorithm, computed in double and stored as fp32:
///   p *= 1 - lr*wd;  m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2;
///   denom = sqrt(v)/sqrt(1-b2^t) + eps;  p -= lr/(1-b1^t) * m/denom.
/// `step` is the 1-based step count t of this update.
void adamwUpdate(float *param, const float *grad, float *expAvg,
                 float *expAvgSq, size_t n, double lr, int64_t step,
                 const AdamWConfig &config);

/// torch.optim.AdamW over a fixed list of fp32 parameters. Moments are created
/// (zero) on the first step and then bound to the parameter positions.
class AdamW {
public:
  explicit AdamW(AdamWConfig config = {}) : config_(config) {}

  /// Increments the step count and updates every parameter with its gradient.
  /// Throws std::invalid_argument on mismatched counts or sizes (nothing is
  /// modified then).
  void step(const std::vector<std::vector<float> *> &params,
            const std::vector<const std::vector<float> *> &grads, double lr);

  const AdamWConfig &config() const { return config_; }
  /// Optimizer steps taken so far (torch's state["step"]).
  int64_t stepCount() const { return stepCount_; }
  /// Parameters with state (0 before the first step or restore()).
  size_t numParams() const { return expAvg_.size(); }
  /// First and second moments of parameter i (torch's exp_avg/exp_avg_sq).
  const std::vector<float> &expAvg(size_t i) const { return expAvg_.at(i); }
  const std::vector<float> &expAvgSq(size_t i) const { return expAvgSq_.at(i); }
  std::vector<float> &expAvg(size_t i) { return expAvg_.at(i); }
  std::vector<float> &expAvgSq(size_t i) { return expAvgSq_.at(i); }

  /// Restores checkpointed state; the two moment lists must match in count
  /// and per-parameter size (std::invalid_argument otherwise).
  void restore(int64_t stepCount, std::vector<std::vector<float>> expAvg,
               std::vector<std::vector<float>> expAvgSq);
  /// Forgets all state.
  void reset();

private:
  AdamWConfig config_;
  int64_t stepCount_ = 0;
  std::vector<std::vector<float>> expAvg_;
  std::vector<std::vector<float>> expAvgSq_;
};

/// Global L2 norm of all gradients, accumulated in double.
double globalGradNorm(const std::vector<const std::vector<float> *> &grads);

/// torch.nn.utils.clip_grad_norm_: total = global L2 norm;
/// coef = maxNorm/(total + 1e-6); if coef < 1 every gradient is scaled by
/// coef. Returns the pre-clip norm. A non-finite norm leaves the gradients
/// untouched (torch would fill them with NaN); callers skip such steps.
double clipGradNorm(const std::vector<std::vector<float> *> &grads,
                    double maxNorm);

} // namespace mind::runtime

#endif // MIND_EXEC_OPTIMIZER_H
