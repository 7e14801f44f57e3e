//===- EndToEndTest.cpp - compiled train steps against PyTorch MiniMind ---===//
//
// The bundles mindc compiled for the golden tiny configs (build/test/gpu/
// bundles, made at build time) run on the GPU from the golden initial
// weights and inputs (../shared/data/golden, the original PyTorch MiniMind
// in fp32): in float32 they must reproduce the golden losses, gradients and
// trained weights as the interpreter does; in bfloat16 the losses must be
// within 1e-2 and every gradient's cosine similarity >= 0.999.
//
//===----------------------------------------------------------------------===//

#include "GpuTest.h"

#include "mind/abi/Bundle.h"
#include "mind/exec/Executor.h"
#include "mind/exec/Optimizer.h"
#include "mind/io/Safetensors.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <fstream>

using namespace mind;
using namespace mind::runtime;

namespace {
std::string envOr(const char *name, const std::string &fallback) {
  const char *v = std::getenv(name);
  return v && *v ? v : fallback;
}

std::string goldenDir() {
  return envOr("MIND_SHARED_DATA_DIR", MIND_SHARED_DATA_DIR) + "/golden/";
}
std::string bundleDir() {
  return envOr("MIND_TEST_BUNDLE_DIR", MIND_TEST_BUNDLE_DIR);
}

double relMaxError(const std::vector<float> &got,
                   const std::vector<float> &want) {
  double num = 0, den = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    num = std::max(num, std::abs(static_cast<double>(got[i]) - want[i]));
    den = std::max(den, std::abs(static_cast<double>(want[i])));
  }
  return num / std::max(den, 1e-30);
}

double relL2Error(const std::vector<float> &got,
                  const std::vector<float> &want) {
  double num = 0, den = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    double d = static_cast<double>(got[i]) - want[i];
    num += d * d;
    den += static_cast<double>(want[i]) * want[i];
  }
  return std::sqrt(num / std::max(den, 1e-30));
}

double cosine(const std::vector<float> &a, const std::vector<float> &b) {
  double dot = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    dot += static_cast<double>(a[i]) * b[i];
    aa += static_cast<double>(a[i]) * a[i];
    bb += static_cast<double>(b[i]) * b[i];
  }
  return dot / std::sqrt(aa * bb);
}

struct Case {
  std::string golden; // golden_tiny_dense / golden_tiny_moe
  std::string bundle; // tiny-dense-float32 ...
  bool fp32;
};

class EndToEnd : public ::testing::TestWithParam<Case> {
protected:
  void SetUp() override {
    MIND_REQUIRE_GPU();
    std::ifstream in(goldenDir() + GetParam().golden + ".json");
    ASSERT_TRUE(in) << "missing " << goldenDir() << GetParam().golden
                    << ".json (set MIND_SHARED_DATA_DIR)";
    meta = nlohmann::json::parse(in);
    golden = std::make_unique<SafetensorsFile>(
        SafetensorsFile::load(goldenDir() + GetParam().golden + ".safetensors"));
    std::string path = bundleDir() + "/" + GetParam().bundle + ".bundle";
    bundle = readBundle(path);
    exec = std::make_unique<Executor>(bundle);
    for (const BufferDesc &b : bundle.plan.buffers)
      if (b.kind == BufferKind::Param) {
        params.push_back(b.name);
        exec->uploadParam(b.name, golden->toFloat32("init." + b.name));
      }
    exec->zeroGrads();
    batch = meta["batch"];
    seq = meta["seq"];
  }

  void setInputs(int64_t k) {
    for (const char *name : {"ids", "targets", "mask"}) {
      auto all = golden->toInt64(std::string("input.") + name);
      int64_t n = batch * seq;
      exec->setInput(name, std::vector<int64_t>(all.begin() + k * n,
                                                all.begin() + (k + 1) * n));
    }
    exec->setInput("grad_scale",
                   1.0f / static_cast<float>(meta["accumulation_steps"]));
  }

  nlohmann::json meta;
  std::unique_ptr<SafetensorsFile> golden;
  Bundle bundle;
  std::unique_ptr<Executor> exec;
  std::vector<std::string> params;
  int64_t batch = 0, seq = 0;
};

TEST_P(EndToEnd, MicroStepZeroMatchesGolden) {
  setInputs(0);
  exec->runMicroStep();
  double loss = exec->readOutput("loss");
  double aux = exec->readOutput("aux_loss");
  double ce = meta["steps"][0]["ce_loss"], goldAux = meta["steps"][0]["aux_loss"];
  double tol = GetParam().fp32 ? 1e-5 : 1e-2;
  EXPECT_NEAR(loss, ce, tol * ce);
  EXPECT_NEAR(aux, goldAux, tol * goldAux + 1e-7);
  for (const std::string &p : params) {
    auto got = exec->downloadGrad(p);
    auto want = golden->toFloat32("grad." + p);
    if (GetParam().fp32)
      EXPECT_LT(relMaxError(got, want), 1e-4) << "grad of " << p;
    else
      EXPECT_GE(cosine(got, want), 0.999) << "grad of " << p;
  }
}

TEST_P(EndToEnd, SixMicroStepsOfTrainingMatchGolden) {
  DeviceOptimizerConfig opt;
  opt.adamw.beta1 = meta["adamw"]["betas"][0];
  opt.adamw.beta2 = meta["adamw"]["betas"][1];
  opt.adamw.eps = meta["adamw"]["eps"];
  opt.adamw.weightDecay = meta["adamw"]["weight_decay"];
  opt.maxGradNorm = meta["grad_clip"];
  int64_t accum = meta["accumulation_steps"];
  opt.accumulationSteps = accum;
  exec->initOptimizer(opt);
  int64_t micro = meta["micro_steps"];
  double base = meta["learning_rate"];
  double tol = GetParam().fp32 ? 1e-4 : 1e-2;
  for (int64_t k = 0; k < micro; ++k) {
    setInputs(k);
    exec->runMicroStep();
    double ce = meta["steps"][k]["ce_loss"];
    EXPECT_NEAR(exec->readOutput("loss"), ce, tol * ce) << "micro-step " << k;
    if ((k + 1) % accum == 0) {
      exec->optimizerStep(minimindLr(k, micro, base));
      double norm = meta["steps"][k]["grad_norm"];
      EXPECT_NEAR(exec->optimizerState().norm, norm,
                  (GetParam().fp32 ? 1e-4 : 2e-2) * norm)
          << "micro-step " << k;
    }
  }
  if (!GetParam().fp32)
    return; // bf16 training drifts from fp32 weights by design.
  for (const std::string &p : params)
    EXPECT_LT(relL2Error(exec->downloadParam(p),
                         golden->toFloat32("final." + p)),
              1e-4)
        << "final " << p;
}

INSTANTIATE_TEST_SUITE_P(
    TinyModels, EndToEnd,
    ::testing::Values(Case{"golden_tiny_dense", "tiny-dense-float32", true},
                      Case{"golden_tiny_dense", "tiny-dense-bfloat16", false},
                      Case{"golden_tiny_moe", "tiny-moe-float32", true},
                      Case{"golden_tiny_moe", "tiny-moe-bfloat16", false}),
    [](const auto &info) {
      std::string n = info.param.bundle;
      for (char &c : n)
        if (c == '-')
          c = '_';
      return n;
    });
} // namespace
