//===- OptimizerTest.cpp - LR schedule, AdamW and clipping tests ----------===//

#include "mind/exec/Optimizer.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <stdexcept>

using namespace mind::runtime;

namespace {

TEST(MinimindLrTest, MatchesGoldenSchedule) {
  std::ifstream in(std::string(MIND_SHARED_DATA_DIR) +
                   "/golden/golden_tiny_dense.json");
  ASSERT_TRUE(in) << "golden json not found";
  nlohmann::json golden = nlohmann::json::parse(in);
  double base = golden.at("learning_rate").get<double>();
  int64_t total = golden.at("micro_steps").get<int64_t>();
  const nlohmann::json &steps = golden.at("steps");
  ASSERT_EQ(steps.size(), 6u);
  for (const nlohmann::json &s : steps) {
    int64_t step = s.at("micro_step").get<int64_t>();
    EXPECT_NEAR(minimindLr(step, total, base), s.at("lr").get<double>(), 1e-12)
        << "micro_step " << step;
  }
}

TEST(MinimindLrTest, EndpointsAndErrors) {
  // MiniMind's get_lr starts at exactly base and ends (step == total) at
  // base / 10; the cosine midpoint is 0.1 + 0.45 = 0.55 of base.
  EXPECT_DOUBLE_EQ(minimindLr(0, 100, 5e-4), 5e-4);
  EXPECT_DOUBLE_EQ(minimindLr(0, 7, 3e-3), 3e-3);
  EXPECT_DOUBLE_EQ(minimindLr(50, 100, 5e-4), 0.55 * 5e-4);
  EXPECT_NEAR(minimindLr(100, 100, 5e-4), 5e-5, 1e-18);
  // The last micro-step a trainer runs is total - 1: just above base / 10.
  EXPECT_GT(minimindLr(99, 100, 5e-4), 5e-5);
  EXPECT_LT(minimindLr(99, 100, 5e-4), 5e-5 * 1.003);
  // Epoch e, micro-step s of `iters`: step = e*iters + s.
  EXPECT_DOUBLE_EQ(minimindLr(1 * 10 + 3, 2 * 10, 1.0),
                   0.1 + 0.45 * (1 + std::cos(3.14159265358979323846 * 13 /
                                              20)));
  EXPECT_THROW(minimindLr(0, 0, 1.0), std::invalid_argument);
}

// Two AdamW steps on a 4-element parameter. Expected values computed by hand
// from torch.optim.AdamW's update (double arithmetic, fp32 storage):
//   step 1: p*(1 - lr*wd) - lr * g / (|g| + eps)   (bias corrections cancel)
//   step 2: m = .9 m + .1 g, v = .999 v + .001 g^2,
//           p*(1 - lr*wd) - lr/(1-.9^2) * m / (sqrt(v)/sqrt(1-.999^2) + eps).
TEST(AdamWTest, TwoStepsMatchHandComputedValues) {
  const std::vector<float> p0 = {1.0f, -2.0f, 0.5f, 0.0f};
  std::vector<float> p = p0;
  std::vector<float> g1 = {0.1f, -0.2f, 0.3f, 0.0f};
  std::vector<float> g2 = {-0.05f, 0.4f, 0.0f, 1e-3f};
  AdamW opt; // torch defaults: 0.9, 0.999, 1e-8, wd 0.01
  opt.step({&p}, {&g1}, 0.01);
  EXPECT_EQ(opt.stepCount(), 1);
  std::vector<float> p1 = {0.989899993f, -1.98979998f, 0.489950001f, 0.0f};
  for (size_t i = 0; i < p.size(); ++i) {
    EXPECT_FLOAT_EQ(p[i], p1[i]) << i;
    // The closed form of the first step.
    double expected =
        p0[i] * (1 - 0.01 * 0.01) - 0.01 * g1[i] / (std::fabs(g1[i]) + 1e-8);
    EXPECT_NEAR(p[i], expected, 1e-7) << i;
  }
  EXPECT_FLOAT_EQ(opt.expAvg(0)[2], 0.03f);
  EXPECT_FLOAT_EQ(opt.expAvgSq(0)[1], 4e-5f);

  opt.step({&p}, {&g2}, 0.005);
  EXPECT_EQ(opt.stepCount(), 2);
  std::vector<float> p2 = {0.988518834f, -1.99153101f, 0.486575216f,
                           -0.00372063159f};
  std::vector<float> m2 = {0.00399999972f, 0.0220000017f, 0.0270000007f,
                           0.000100000005f};
  std::vector<float> v2 = {1.24900007e-05f, 0.000199960006f, 8.9910005e-05f,
                           1.00000008e-09f};
  // What torch 2.11's torch.optim.AdamW (fp32 on CPU) gives for the same
  // inputs: within 1 ulp of the double-internal result above.
  std::vector<float> torchP2 = {0.988518775f, -1.9915309f, 0.486575216f,
                                -0.00372063136f};
  for (size_t i = 0; i < p.size(); ++i) {
    EXPECT_FLOAT_EQ(p[i], p2[i]) << i;
    EXPECT_FLOAT_EQ(p[i], torchP2[i]) << i;
    EXPECT_FLOAT_EQ(opt.expAvg(0)[i], m2[i]) << i;
    EXPECT_FLOAT_EQ(opt.expAvgSq(0)[i], v2[i]) << i;
  }
  // Element 3 by hand: m = 1e-4, v = 1e-9, bc1 = 0.19, bc2 = 1 - 0.999^2.
  double denom = std::sqrt(1e-9) / std::sqrt(1 - 0.999 * 0.999) + 1e-8;
  EXPECT_NEAR(p[3], -0.005 / 0.19 * 1e-4 / denom, 1e-8);
}

TEST(AdamWTest, WeightDecayIsDecoupled) {
  // Zero gradient: Adam's term is 0/(0+eps) = 0, only the decay acts.
  std::vector<float> p = {2.0f}, g = {0.0f};
  AdamW opt(AdamWConfig{0.9, 0.999, 1e-8, 0.1});
  opt.step({&p}, {&g}, 0.5);
  EXPECT_FLOAT_EQ(p[0], 2.0f * (1 - 0.5 * 0.1));
}

TEST(AdamWTest, SeveralParametersAndRestore) {
  std::vector<float> a = {1, 2}, b = {3};
  std::vector<float> ga = {0.5f, -0.5f}, gb = {1.0f};
  AdamW opt;
  opt.step({&a, &b}, {&ga, &gb}, 1e-3);
  ASSERT_EQ(opt.numParams(), 2u);

  // A restored optimizer continues exactly like the original.
  AdamW copy;
  copy.restore(opt.stepCount(), {opt.expAvg(0), opt.expAvg(1)},
               {opt.expAvgSq(0), opt.expAvgSq(1)});
  std::vector<float> a2 = a, b2 = b;
  opt.step({&a, &b}, {&ga, &gb}, 1e-3);
  copy.step({&a2, &b2}, {&ga, &gb}, 1e-3);
  EXPECT_EQ(a, a2);
  EXPECT_EQ(b, b2);
  EXPECT_EQ(copy.stepCount(), 2);

  // Mismatches are rejected without touching anything.
  std::vector<float> wrong = {1, 2, 3};
  std::vector<float> before = a;
  EXPECT_THROW(opt.step({&a, &b}, {&wrong, &gb}, 1e-3), std::invalid_argument);
  EXPECT_THROW(opt.step({&a}, {&ga}, 1e-3), std::invalid_argument);
  EXPECT_THROW(opt.step({&a, &b}, {&ga}, 1e-3), std::invalid_argument);
  EXPECT_EQ(a, before);
  EXPECT_EQ(opt.stepCount(), 2);
  EXPECT_THROW(copy.restore(1, {{1.0f}}, {}), std::invalid_argument);
  opt.reset();
  EXPECT_EQ(opt.numParams(), 0u);
  EXPECT_EQ(opt.stepCount(), 0);
}

TEST(ClipGradNormTest, ScalesWhenAboveMax) {
  std::vector<float> a = {3.0f}, b = {0.0f, 4.0f}; // norm 5
  double norm = clipGradNorm({&a, &b}, 1.0);
  EXPECT_DOUBLE_EQ(norm, 5.0);
  double coef = 1.0 / (5.0 + 1e-6); // torch: max_norm / (total + 1e-6)
  EXPECT_FLOAT_EQ(a[0], static_cast<float>(3.0 * coef));
  EXPECT_FLOAT_EQ(b[1], static_cast<float>(4.0 * coef));
  EXPECT_EQ(b[0], 0.0f);
  std::vector<const std::vector<float> *> view = {&a, &b};
  EXPECT_LT(globalGradNorm(view), 1.0);
}

TEST(ClipGradNormTest, LeavesSmallGradientsAlone) {
  std::vector<float> a = {0.3f, -0.4f}; // norm 0.5
  double norm = clipGradNorm({&a}, 1.0);
  EXPECT_NEAR(norm, 0.5, 1e-7);
  EXPECT_EQ(a, (std::vector<float>{0.3f, -0.4f}));
  // Exactly at the limit the coefficient is 1/(1+1e-6) < 1: torch scales.
  std::vector<float> c = {1.0f};
  EXPECT_DOUBLE_EQ(clipGradNorm({&c}, 1.0), 1.0);
  EXPECT_FLOAT_EQ(c[0], static_cast<float>(1.0 / (1.0 + 1e-6)));
}

TEST(ClipGradNormTest, NormIsAccumulatedInDouble) {
  // 1e6 elements of 1e-3: fp32 accumulation would drift; double is exact-ish.
  std::vector<float> g(1000000, 1e-3f);
  double norm = clipGradNorm({&g}, 10.0);
  EXPECT_NEAR(norm, std::sqrt(1e6) * static_cast<double>(1e-3f), 1e-9);
  EXPECT_EQ(g[0], 1e-3f); // norm 1.0 < 10: untouched
}

TEST(ClipGradNormTest, NonFiniteNormLeavesGradients) {
  std::vector<float> g = {1.0f, INFINITY};
  double norm = clipGradNorm({&g}, 1.0);
  EXPECT_TRUE(std::isinf(norm));
  EXPECT_EQ(g[0], 1.0f);
  std::vector<float> n = {NAN};
  EXPECT_TRUE(std::isnan(clipGradNorm({&n}, 1.0)));
}

} // namespace
