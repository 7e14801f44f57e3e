//===- OptimizerTest.cpp - device clip, AdamW, loss scaling ---------------===//
//
// The device optimizer (Executor::optimizerStep over kernels/optimizer.cuh)
// against runtime::clipGradNorm + runtime::AdamW on random gradients, over
// several steps. Both compute the update in double from the same fp32
// values and round once, so results agree to an fp32 ulp or two (the norm's
// summation order differs, which moves the clip coefficient by ~1e-16):
// rtol 1e-6, atol 1e-7 on values of order 1. Ragged parameter sizes leave
// alignment padding in the flat regions, which must stay zero. From its
// second step on the optimizer replays a captured CUDA graph; replays with a
// changing lr are bitwise identical to the eager path (cudaGraph = false).
//
//===----------------------------------------------------------------------===//

#include "GpuTest.h"
#include "PlanTestUtil.h"

#include "mind/exec/Executor.h"
#include "mind/exec/Optimizer.h"

#include <cmath>
#include <cstring>

using namespace mind;
using namespace mind::gputest;
using runtime::BufferKind;
using runtime::DType;

namespace {

const std::vector<int64_t> kSizes = {1, 37, 1000, 4099, 64};

std::vector<float> randomVec(size_t n, std::mt19937 &rng, float lo, float hi) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float &x : v)
    x = d(rng);
  return v;
}

ref::Tensor asTensor(const std::vector<float> &v) {
  return ref::Tensor::fromData({static_cast<int64_t>(v.size())},
                               {v.begin(), v.end()});
}

void expectVecClose(const std::vector<float> &got,
                    const std::vector<float> &want, const std::string &what) {
  expectClose(asTensor(got), asTensor(want), 1e-7, 1e-6, what);
}

// Host mirror of the device state: params, grads, moments, scale.
struct CpuModel {
  std::vector<std::vector<float>> params;
  runtime::AdamW adamw;
};

struct Fixture {
  runtime::Bundle bundle;
  std::unique_ptr<runtime::Executor> ex;
  CpuModel cpu;
  std::mt19937 rng;

  explicit Fixture(uint32_t seed, bool withGradScale,
                   runtime::ExecutorOptions options = {})
      : rng(seed) {
    PlanBuilder pb;
    pb.addParams(kSizes);
    if (withGradScale)
      pb.add("grad_scale", BufferKind::Input, DType::F32, {});
    bundle = pb.build();
    ex = std::make_unique<runtime::Executor>(bundle, options);
    for (size_t i = 0; i < kSizes.size(); ++i) {
      cpu.params.push_back(randomVec(kSizes[i], rng, -1, 1));
      ex->uploadParam(name(i), cpu.params.back());
    }
  }
  static std::string name(size_t i) { return "p" + std::to_string(i); }

  // Uploads fresh random gradients times `scale`; returns them unscaled as
  // torch's GradScaler.unscale_ computes them (fp32 multiply by 1/scale).
  std::vector<std::vector<float>> uploadGrads(float scale, float lo = -1,
                                              float hi = 1) {
    std::vector<std::vector<float>> unscaled;
    float inv = static_cast<float>(1.0 / scale);
    for (size_t i = 0; i < kSizes.size(); ++i) {
      std::vector<float> g = randomVec(kSizes[i], rng, lo, hi);
      for (float &x : g)
        x *= scale;
      ex->uploadGrad(name(i), g);
      for (float &x : g)
        x *= inv;
      unscaled.push_back(std::move(g));
    }
    return unscaled;
  }

  // The CPU reference step; returns the pre-clip norm.
  double cpuStep(std::vector<std::vector<float>> grads, double maxNorm,
                 double lr) {
    std::vector<std::vector<float> *> g, p;
    for (auto &x : grads)
      g.push_back(&x);
    for (auto &x : cpu.params)
      p.push_back(&x);
    double norm = runtime::clipGradNorm(g, maxNorm);
    cpu.adamw.step(p, {g.begin(), g.end()}, lr);
    return norm;
  }

  void expectMatchesCpu(const std::string &what) {
    for (size_t i = 0; i < kSizes.size(); ++i) {
      expectVecClose(ex->downloadParam(name(i)), cpu.params[i],
                     what + " param " + name(i));
      if (cpu.adamw.numParams()) {
        expectVecClose(ex->downloadExpAvg(name(i)), cpu.adamw.expAvg(i),
                       what + " exp_avg " + name(i));
        expectVecClose(ex->downloadExpAvgSq(name(i)), cpu.adamw.expAvgSq(i),
                       what + " exp_avg_sq " + name(i));
      }
    }
  }

  // Every gradient, padding included, is zero after a step.
  void expectGradRegionZero(const std::string &what) {
    const auto &l = ex->layout();
    std::vector<float> all(l.numElements());
    MIND_CUDA_CHECK(cudaMemcpy(all.data(), ex->gradRegion(), l.regionBytes,
                               cudaMemcpyDeviceToHost),
                    what);
    size_t nonzero = 0;
    for (float x : all)
      nonzero += x != 0.0f;
    EXPECT_EQ(nonzero, 0u) << what << ": gradients not zeroed";
  }
};

// Also checked without a GPU: NVRTC needs none.
TEST(OptimizerKernels, CompileForSm90a) {
  auto out = runtime::compileKernels(runtime::kernelLibrarySource(),
                                     runtime::kernels::optimizerKernelNames(),
                                     "sm_90a");
  EXPECT_FALSE(out.cubin.empty());
  EXPECT_EQ(out.loweredNames.size(), 3u);
}

TEST(Optimizer, AdamWWithClippingMatchesCpuOverSteps) {
  MIND_REQUIRE_GPU();
  Fixture f(21, /*withGradScale=*/false);
  runtime::DeviceOptimizerConfig cfg;
  cfg.maxGradNorm = 1.0; // random grads have norm ~40: clipped
  f.ex->initOptimizer(cfg);
  for (int step = 1; step <= 4; ++step) {
    std::string what = "step " + std::to_string(step);
    double lr = 1e-3 * step;
    auto grads = f.uploadGrads(1.0f);
    double norm = f.cpuStep(grads, cfg.maxGradNorm, lr);
    f.ex->optimizerStep(lr);
    runtime::OptimizerState st = f.ex->optimizerState();
    EXPECT_NEAR(st.norm, norm, 1e-9 * norm) << what;
    EXPECT_LT(st.coef, 1.0) << what;
    EXPECT_EQ(st.step, step) << what;
    EXPECT_EQ(st.skipped, 0) << what;
    f.expectMatchesCpu(what);
    f.expectGradRegionZero(what);
  }
}

TEST(Optimizer, NoClippingBelowMaxNorm) {
  MIND_REQUIRE_GPU();
  Fixture f(22, false);
  runtime::DeviceOptimizerConfig cfg;
  cfg.maxGradNorm = 1e4;
  cfg.adamw.weightDecay = 0.1;
  cfg.adamw.beta2 = 0.95;
  f.cpu.adamw = runtime::AdamW(cfg.adamw);
  f.ex->initOptimizer(cfg);
  for (int step = 1; step <= 3; ++step) {
    auto grads = f.uploadGrads(1.0f, 0.5f, 2.0f);
    f.cpuStep(grads, cfg.maxGradNorm, 5e-4);
    f.ex->optimizerStep(5e-4);
    EXPECT_EQ(f.ex->optimizerState().coef, 1.0);
    f.expectMatchesCpu("step " + std::to_string(step));
  }
}

TEST(Optimizer, Fp16LossScalingSkipsAndAdjusts) {
  MIND_REQUIRE_GPU();
  Fixture f(24, /*withGradScale=*/true);
  // Poison grad_scale: initOptimizer must write it.
  int64_t gs = f.ex->bufferId("grad_scale");
  MIND_CUDA_CHECK(cudaMemset(f.ex->bufferPointer(gs), 0xFF, 4), "poison");
  runtime::DeviceOptimizerConfig cfg;
  cfg.dynamicLossScale = true;
  cfg.initialScale = 1024.0f;
  cfg.growthInterval = 3;
  cfg.accumulationSteps = 4;
  f.ex->initOptimizer(cfg);
  auto gradScale = [&] {
    float v = 0;
    MIND_CUDA_CHECK(
        cudaMemcpy(&v, f.ex->bufferPointer(gs), 4, cudaMemcpyDeviceToHost),
        "read grad_scale");
    return v;
  };
  EXPECT_EQ(gradScale(), 256.0f);

  // A finite step at scale 1024: unscale, clip, AdamW.
  auto grads = f.uploadGrads(1024.0f);
  f.cpuStep(grads, cfg.maxGradNorm, 1e-3);
  f.ex->optimizerStep(1e-3);
  runtime::OptimizerState st = f.ex->optimizerState();
  EXPECT_EQ(st.step, 1);
  EXPECT_EQ(st.scale, 1024.0f);
  EXPECT_EQ(st.goodSteps, 1);
  f.expectMatchesCpu("finite step");

  // inf, then NaN: skipped, nothing but the grads and the scale changes.
  for (float bad : {INFINITY, NAN}) {
    std::string what = std::isnan(bad) ? "NaN step" : "inf step";
    f.uploadGrads(st.scale);
    f.ex->uploadGrad("p3", std::vector<float>(4099, bad));
    f.ex->optimizerStep(1e-3);
    runtime::OptimizerState s2 = f.ex->optimizerState();
    EXPECT_EQ(s2.skipped, 1) << what;
    EXPECT_EQ(s2.step, 1) << what;
    EXPECT_EQ(s2.scale, st.scale / 2) << what;
    EXPECT_EQ(s2.goodSteps, 0) << what;
    EXPECT_EQ(gradScale(), s2.scale / 4) << what;
    f.expectMatchesCpu(what); // unchanged
    f.expectGradRegionZero(what);
    st = s2;
  }
  EXPECT_EQ(st.skippedSteps, 2);

  // Three finite steps in a row double the scale (growthInterval 3).
  for (int i = 0; i < 3; ++i) {
    std::string what = "good step " + std::to_string(i);
    auto g = f.uploadGrads(st.scale);
    f.cpuStep(g, cfg.maxGradNorm, 2e-3);
    f.ex->optimizerStep(2e-3);
    st = f.ex->optimizerState();
    f.expectMatchesCpu(what);
  }
  EXPECT_EQ(st.step, 4);
  EXPECT_EQ(st.scale, 512.0f);
  EXPECT_EQ(st.goodSteps, 0);
  EXPECT_EQ(gradScale(), 128.0f);
}

TEST(Optimizer, ResumedStateContinuesBitwise) {
  MIND_REQUIRE_GPU();
  // Two steps on one executor; then a second executor restored from its
  // params, moments and state takes the same third step: the optimizer is
  // deterministic (fixed reduction order), so results are identical.
  runtime::DeviceOptimizerConfig cfg;
  cfg.dynamicLossScale = true;
  cfg.initialScale = 64.0f;
  cfg.growthInterval = 2; // the scale grows on the second step
  Fixture a(25, true), b(26, true);
  a.ex->initOptimizer(cfg);
  for (int i = 0; i < 2; ++i) {
    a.uploadGrads(a.ex->optimizerState().scale);
    a.ex->optimizerStep(1e-3);
  }
  b.ex->initOptimizer(cfg);
  for (size_t i = 0; i < kSizes.size(); ++i) {
    std::string n = Fixture::name(i);
    b.ex->uploadParam(n, a.ex->downloadParam(n));
    b.ex->uploadExpAvg(n, a.ex->downloadExpAvg(n));
    b.ex->uploadExpAvgSq(n, a.ex->downloadExpAvgSq(n));
  }
  runtime::OptimizerState sa = a.ex->optimizerState();
  EXPECT_EQ(sa.scale, 128.0f);
  b.ex->setOptimizerState(sa);
  float gsA = a.ex->readOutput("grad_scale"),
        gsB = b.ex->readOutput("grad_scale");
  EXPECT_EQ(gsA, gsB);
  for (size_t i = 0; i < kSizes.size(); ++i) {
    std::vector<float> g(kSizes[i]);
    for (size_t j = 0; j < g.size(); ++j)
      g[j] = 128.0f * std::sin(0.1f * static_cast<float>(i * 7 + j));
    a.ex->uploadGrad(Fixture::name(i), g);
    b.ex->uploadGrad(Fixture::name(i), g);
  }
  a.ex->optimizerStep(2e-3);
  b.ex->optimizerStep(2e-3);
  runtime::OptimizerState sb = b.ex->optimizerState();
  sa = a.ex->optimizerState();
  EXPECT_EQ(sb.step, 3);
  EXPECT_EQ(sa.norm, sb.norm);
  EXPECT_EQ(sa.scale, sb.scale);
  for (size_t i = 0; i < kSizes.size(); ++i) {
    std::string n = Fixture::name(i);
    EXPECT_EQ(a.ex->downloadParam(n), b.ex->downloadParam(n)) << n;
    EXPECT_EQ(a.ex->downloadExpAvgSq(n), b.ex->downloadExpAvgSq(n)) << n;
  }
}

// Everything the optimizer leaves on the device, compared bit for bit.
void expectSameDeviceState(Fixture &a, Fixture &b, const std::string &what) {
  runtime::OptimizerState sa = a.ex->optimizerState(),
                          sb = b.ex->optimizerState();
  EXPECT_EQ(std::memcmp(&sa, &sb, sizeof(sa)), 0)
      << what << ": optimizer state differs (step " << sa.step << " vs "
      << sb.step << ", norm " << sa.norm << " vs " << sb.norm << ", stepSize "
      << sa.stepSize << " vs " << sb.stepSize << ")";
  EXPECT_EQ(a.ex->readOutput("grad_scale"), b.ex->readOutput("grad_scale"))
      << what;
  for (size_t i = 0; i < kSizes.size(); ++i) {
    std::string n = Fixture::name(i);
    EXPECT_EQ(a.ex->downloadParam(n), b.ex->downloadParam(n)) << what << n;
    EXPECT_EQ(a.ex->downloadExpAvg(n), b.ex->downloadExpAvg(n)) << what << n;
    EXPECT_EQ(a.ex->downloadExpAvgSq(n), b.ex->downloadExpAvgSq(n))
        << what << n;
    EXPECT_EQ(a.ex->downloadGrad(n), b.ex->downloadGrad(n)) << what << n;
  }
}

// The same gradients (times the current scale) into both executors.
void uploadSameGrads(Fixture &a, Fixture &b, float scale, int step,
                     bool poison = false) {
  for (size_t i = 0; i < kSizes.size(); ++i) {
    std::vector<float> g(kSizes[i]);
    for (size_t j = 0; j < g.size(); ++j)
      g[j] = scale *
             std::sin(0.37f * static_cast<float>(step * 13 + i * 7 + j) + 1);
    if (poison && i == 3)
      g[17] = INFINITY;
    a.ex->uploadGrad(Fixture::name(i), g);
    b.ex->uploadGrad(Fixture::name(i), g);
  }
}

TEST(Optimizer, GraphReplayMatchesEagerBitwise) {
  MIND_REQUIRE_GPU();
  runtime::ExecutorOptions eager;
  eager.cudaGraph = false;
  // Same seed: the same initial params.
  Fixture g(27, /*withGradScale=*/true), e(27, true, eager);
  runtime::DeviceOptimizerConfig cfg;
  cfg.dynamicLossScale = true;
  cfg.initialScale = 256.0f;
  cfg.growthInterval = 3;
  cfg.accumulationSteps = 2;
  cfg.adamw.weightDecay = 0.1;
  g.ex->initOptimizer(cfg);
  e.ex->initOptimizer(cfg);
  EXPECT_FALSE(g.ex->optimizerUsingGraph());

  // Steps with a new lr each (a cosine-like schedule), an inf step (skipped
  // inside the graph) and a scale growth; several steps are enqueued
  // back-to-back before the host looks.
  auto lrAt = [](int step) {
    return 1e-4 + 5e-4 * (1.0 + std::cos(0.3 * step));
  };
  int step = 0;
  for (int round = 0; round < 3; ++round) {
    for (int k = 0; k < 3; ++k, ++step) {
      float scale = g.ex->optimizerState().scale;
      uploadSameGrads(g, e, scale, step, /*poison=*/step == 4);
      double lr = lrAt(step);
      g.ex->optimizerStep(lr);
      e.ex->optimizerStep(lr);
      EXPECT_EQ(g.ex->optimizerUsingGraph(), step >= 1) << "step " << step;
      EXPECT_FALSE(e.ex->optimizerUsingGraph());
    }
    expectSameDeviceState(g, e, "round " + std::to_string(round) + ": ");
  }
  runtime::OptimizerState st = g.ex->optimizerState();
  EXPECT_EQ(st.skippedSteps, 1);
  EXPECT_EQ(st.step, step - 1);
  // The replayed step used this step's lr, not the captured step's.
  double lastLr = lrAt(step - 1);
  double t = static_cast<double>(st.step);
  EXPECT_NEAR(st.stepSize, lastLr / (1.0 - std::pow(cfg.adamw.beta1, t)),
              1e-12 * lastLr);
  EXPECT_NEAR(st.decay, 1.0 - lastLr * cfg.adamw.weightDecay, 1e-15);

  // Steps queued without reading anything in between (more than one trip
  // around the pinned lr slots), then compared.
  for (int k = 0; k < 40; ++k, ++step) {
    double lr = lrAt(step);
    g.ex->optimizerStep(lr); // zero gradients after the first: norm 0
    e.ex->optimizerStep(lr);
  }
  expectSameDeviceState(g, e, "queued steps: ");
  st = g.ex->optimizerState();
  double lr = lrAt(step - 1);
  EXPECT_NEAR(st.stepSize,
              lr / (1.0 - std::pow(cfg.adamw.beta1,
                                   static_cast<double>(st.step))),
              1e-12 * lr);

  // setOptimizerState drops the graph; the next steps recapture it.
  runtime::OptimizerState resumed = st;
  resumed.step = 100;
  resumed.scale = 32.0f;
  resumed.goodSteps = 1;
  g.ex->setOptimizerState(resumed);
  e.ex->setOptimizerState(resumed);
  EXPECT_FALSE(g.ex->optimizerUsingGraph());
  for (int k = 0; k < 3; ++k, ++step) {
    uploadSameGrads(g, e, 32.0f, step);
    g.ex->optimizerStep(lrAt(step));
    e.ex->optimizerStep(lrAt(step));
  }
  EXPECT_TRUE(g.ex->optimizerUsingGraph());
  expectSameDeviceState(g, e, "after setOptimizerState: ");

  // Moment uploads drop it too.
  for (size_t i = 0; i < kSizes.size(); ++i) {
    std::vector<float> m(kSizes[i], 0.25f), v(kSizes[i], 0.5f);
    g.ex->uploadExpAvg(Fixture::name(i), m);
    e.ex->uploadExpAvg(Fixture::name(i), m);
    g.ex->uploadExpAvgSq(Fixture::name(i), v);
    e.ex->uploadExpAvgSq(Fixture::name(i), v);
  }
  EXPECT_FALSE(g.ex->optimizerUsingGraph());
  for (int k = 0; k < 3; ++k, ++step) {
    uploadSameGrads(g, e, g.ex->optimizerState().scale, step);
    g.ex->optimizerStep(lrAt(step));
    e.ex->optimizerStep(lrAt(step));
  }
  expectSameDeviceState(g, e, "after moment uploads: ");

  // A new initOptimizer (new buffers, new captured scalars) recaptures.
  runtime::DeviceOptimizerConfig cfg2;
  cfg2.maxGradNorm = 0.5;
  cfg2.adamw.beta1 = 0.8;
  cfg2.adamw.beta2 = 0.99;
  cfg2.adamw.weightDecay = 0.01;
  g.ex->initOptimizer(cfg2);
  e.ex->initOptimizer(cfg2);
  EXPECT_FALSE(g.ex->optimizerUsingGraph());
  for (int k = 0; k < 4; ++k, ++step) {
    uploadSameGrads(g, e, 1.0f, step);
    g.ex->optimizerStep(lrAt(step));
    e.ex->optimizerStep(lrAt(step));
  }
  EXPECT_TRUE(g.ex->optimizerUsingGraph());
  expectSameDeviceState(g, e, "after a new initOptimizer: ");
  EXPECT_EQ(g.ex->optimizerState().step, 4);
}

TEST(Optimizer, NoGraphWithSyncEachStep) {
  MIND_REQUIRE_GPU();
  runtime::ExecutorOptions opts;
  opts.syncEachStep = true;
  Fixture f(28, false, opts);
  runtime::DeviceOptimizerConfig cfg;
  f.ex->initOptimizer(cfg);
  for (int step = 1; step <= 3; ++step) {
    auto grads = f.uploadGrads(1.0f);
    f.cpuStep(grads, cfg.maxGradNorm, 1e-3 * step);
    f.ex->optimizerStep(1e-3 * step);
    EXPECT_FALSE(f.ex->optimizerUsingGraph());
    f.expectMatchesCpu("step " + std::to_string(step));
  }
}

TEST(Optimizer, RequiresTheKernelsInThePlan) {
  MIND_REQUIRE_GPU();
  PlanBuilder pb;
  pb.addParams({8});
  runtime::Bundle b = pb.build();
  b.plan.kernels.clear();
  b.cubin.clear();
  runtime::Executor ex(b);
  EXPECT_THROW(ex.initOptimizer({}), runtime::BundleError);
}

} // namespace
