//===- Optimizer.cpp - CPU AdamW, LR schedule, grad clipping --------------===//

#include "mind/exec/Optimizer.h"

#include <cmath>
#include <random>
#include <stdexcept>
#include <string>

namespace mind::runtime {

double minimindLr(int64_t step, int64_t totalSteps, double baseLr) {
  if (totalSteps <= 0)
    throw std::invalid_argument(
        "minimindLr: totalSteps must be positive (got " +
        std::to_string(totalSteps) + ")");
  // Same operation order as MiniMind's get_lr:
  // lr * (0.1 + 0.45 * (1 + math.cos(math.pi * current_step / total_steps))).
  const double pi = 3.14159265358979323846;
  return baseLr * (0.1 + 0.45 * (1 + std::cos(pi * static_cast<double>(step) /
                                              static_cast<double>(totalSteps))));
}

void adamwUpdate(float *param, const float *grad, float *expAvg,
                 float *expAvgSq, size_t n, double lr, int64_t step,
                 const AdamWConfig &c) {
  const double t = static_cast<double>(step);
  const double biasCorrection1 = 1 - std::pow(c.beta1, t);
  const double biasCorrection2Sqrt = std::sqrt(1 - std::pow(c.beta2, t));
  const double stepSize = lr / biasCorrection1;
  const double decay = 1 - lr * c.weightDecay;
  for (size_t i = 0; i < n; ++i) {
    double g = grad[i];
    // Decoupled weight decay first, on the pre-update parameter (torch
    // applies it before the moment update; the order matters for p only).
    double p = static_cast<double>(param[i]) * decay;
    double m = c.beta1 * expAvg[i] + (1 - c.beta1) * g;
    double v = c.beta2 * expAvgSq[i] + (1 - c.beta2) * g * g;
    double denom = std::sqrt(v) / biasCorrection2Sqrt + c.eps;
    p -= stepSize * m / denom;
    expAvg[i] = static_cast<float>(m);
    expAvgSq[i] = static_cast<float>(v);
    param[i] = static_cast<float>(p);
  }
}

void AdamW::step(const std::vector<std::vector<float> *> &params,
                 const std::vector<const std::vector<float> *> &grads,
                 double lr) {
  if (params.size() != grads.size())
    throw std::invalid_argument(
        "AdamW::step: " + std::to_string(params.size()) + " parameters but " +
        std::to_string(grads.size()) + " gradients");
  bool fresh = expAvg_.empty();
  if (!fresh && params.size() != expAvg_.size())
    throw std::invalid_argument(
        "AdamW::step: state holds " + std::to_string(expAvg_.size()) +
        " parameters but " + std::to_string(params.size()) + " were given");
  // Validate everything before touching anything, so a bad call is harmless.
  for (size_t i = 0; i < params.size(); ++i) {
    if (!params[i] || !grads[i])
      throw std::invalid_argument("AdamW::step: null parameter or gradient " +
                                  std::to_string(i));
    size_t n = params[i]->size();
    if (grads[i]->size() != n || (!fresh && expAvg_[i].size() != n))
      throw std::invalid_argument("AdamW::step: size mismatch for parameter " +
                                  std::to_string(i) + " (param " +
                                  std::to_string(n) + ", grad " +
                                  std::to_string(grads[i]->size()) + ")");
  }
  if (fresh) {
    for (const std::vector<float> *p : params) {
      expAvg_.emplace_back(p->size(), 0.0f);
      expAvgSq_.emplace_back(p->size(), 0.0f);
    }
  }
  ++stepCount_;
  for (size_t i = 0; i < params.size(); ++i)
    adamwUpdate(params[i]->data(), grads[i]->data(), expAvg_[i].data(),
                expAvgSq_[i].data(), params[i]->size(), lr, stepCount_,
                config_);
}

void AdamW::restore(int64_t stepCount, std::vector<std::vector<float>> expAvg,
                    std::vector<std::vector<float>> expAvgSq) {
  if (stepCount < 0)
    throw std::invalid_argument("AdamW::restore: negative step count");
  if (expAvg.size() != expAvgSq.size())
    throw std::invalid_argument(
        "AdamW::restore: " + std::to_string(expAvg.size()) + " exp_avg but " +
        std::to_string(expAvgSq.size()) + " exp_avg_sq tensors");
  for (size_t i = 0; i < expAvg.size(); ++i)
    if (expAvg[i].size() != expAvgSq[i].size())
      throw std::invalid_argument("AdamW::restore: moment sizes differ for "
                                  "parameter " +
                                  std::to_string(i));
  stepCount_ = stepCount;
  expAvg_ = std::move(expAvg);
  expAvgSq_ = std::move(expAvgSq);
}

void AdamW::reset() {
  stepCount_ = 0;
  expAvg_.clear();
  expAvgSq_.clear();
}

double globalGradNorm(const std::vector<const std::vector<float> *> &grads) {
  double sumSq = 0;
  for (const std::vector<float> *g : grads)
    for (float x : *g)
      sumSq += static_cast<double>(x) * x;
  return std::sqrt(sumSq);
}

double clipGradNorm(const std::vector<std::vector<float> *> &grads,
                    double maxNorm) {
  std::vector<const std::vector<float> *> view(grads.begin(), grads.end());
  double norm = globalGradNorm(view);
  if (!std::isfinite(norm))
    return norm;
  double coef = maxNorm / (norm + 1e-6);
  if (coef < 1.0) // torch clamps coef to 1.0; multiplying by 1 is a no-op
    for (std::vector<float> *g : grads)
      for (float &x : *g)
        x = static_cast<float>(x * coef);
  return norm;
}

} // namespace mind::runtime

std::vector<std::vector<float>>
mind::runtime::pytorchDefaultInit(const std::vector<std::vector<int64_t>> &shapes,
                                  uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::vector<float>> out;
  for (const std::vector<int64_t> &shape : shapes) {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    std::vector<float> w(static_cast<size_t>(n), 1.0f);
    if (shape.size() == 2) {
      double bound = 1.0 / std::sqrt(static_cast<double>(shape[1]));
      std::uniform_real_distribution<double> dist(-bound, bound);
      for (float &x : w)
        x = static_cast<float>(dist(rng));
    }
    out.push_back(std::move(w));
  }
  return out;
}
