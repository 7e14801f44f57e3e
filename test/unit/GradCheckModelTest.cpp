//===- GradCheckModelTest.cpp - whole-model finite-difference checks ------===//
//
// Tiny dense and MoE MiniMinds from buildMiniMindForward, differentiated by
// mind-autodiff: every parameter's gradient (>= 20 random entries of each,
// all entries of the small ones) must match central differences of
// loss + aux_loss, the sum @train_step differentiates (grad_scale = 1).
//
// The model is built in f32; the interpreter's Float64 precision keeps every
// value (arguments, op results) in double whatever the IR element type
// (Interpreter::run rounds only in AsTyped; the kernels compute in double),
// so the f32 IR is evaluated as an f64 program. h = 1e-6.
//
// Tolerance: |autodiff - fd| <= 1e-5 * max|grad of that tensor|. The FD
// error is ~eps |L| / h ~ 2.2e-16 * 4 / 1e-6 ~ 1e-9 (L = CE over 40 classes
// ~ log 40 plus a small aux), amplified a little by the two layers' rounding,
// plus h^2 |f'''| ~ 1e-12; the gradient tensors' maxima are >= 1e-3, so the
// bound is >= 1e-8, several times the FD noise, while a wrong rule is off by
// O(max|grad|) (measured: every error <= 2e-3 of the bound, every tensor's
// max |grad| >= 0.05). Scaling by the tensor's max (rather than by each
// entry) keeps entries that are nearly zero from demanding impossible
// relative accuracy.
//
// MoE: top-k selection is piecewise constant in the parameters, so FD is only
// valid away from score ties. The test taps the router scores and requires
// the gap between each token's k-th and (k+1)-th score to exceed 1e-4
// (a 1e-6 step moves a score by ~1e-6); with the fixed seeds below it does,
// so the check passes for these seeds by construction, not by luck. The
// seeds also give every expert of both layers some tokens (checkGradients
// requires every gradient to be nonzero somewhere; seed 13 for MoeBatchAux
// left layer 1's expert 3 idle, hence 17).
//
//===----------------------------------------------------------------------===//

#include "GradCheck.h"

#include "mind/Dialect/Mind/IR/MindOps.h"
#include "mind/Frontend/MiniMind.h"
#include "mind/Interpreter/CpuTrainer.h"

using namespace mind::gradcheck;
using mind::InterpreterPrecision;

namespace {

struct ModelCase {
  std::string name;
  bool useMoe;
  bool seqAux;
  uint32_t seed;
};

mind::MiniMindConfig tinyConfig(const ModelCase &c) {
  mind::MiniMindConfig cfg;
  cfg.hiddenSize = 16;
  cfg.numHiddenLayers = 2;
  cfg.numAttentionHeads = 4;
  cfg.numKeyValueHeads = 2;
  cfg.vocabSize = 40;
  cfg.intermediateSize = 24;
  cfg.maxPositionEmbeddings = 64;
  cfg.useMoe = c.useMoe;
  cfg.nRoutedExperts = 4;
  cfg.numExpertsPerTok = 2;
  cfg.nSharedExperts = 1;
  cfg.seqAux = c.seqAux;
  return cfg;
}

/// Random parameters: RMSNorm weights near 1, matrices N(0, 1/in), the
/// (tied) embedding N(0, 0.5^2) so the logits have O(1) spread.
std::vector<Tensor> randomParameters(const std::vector<mind::ParamInfo> &ps,
                                     std::mt19937 &rng) {
  std::vector<Tensor> out;
  for (const auto &p : ps) {
    bool isNorm = p.name.find("norm") != std::string::npos;
    if (isNorm)
      out.push_back(normal(p.shape, rng, 1.0, 0.1));
    else if (p.name == "model.embed_tokens.weight")
      out.push_back(normal(p.shape, rng, 0.0, 0.5));
    else
      out.push_back(normal(p.shape, rng, 0.0,
                           1.0 / std::sqrt(static_cast<double>(p.shape[1]))));
  }
  return out;
}

class GradCheckModel : public ::testing::TestWithParam<ModelCase> {};

TEST_P(GradCheckModel, EveryParameterGradientMatchesCentralDifferences) {
  const ModelCase &c = GetParam();
  auto ctx = makeContext();
  mind::TrainShape shape{2, 6};
  mind::MiniMindConfig cfg = tinyConfig(c);
  auto module = mind::buildMiniMindForward(*ctx, cfg, shape);
  ASSERT_TRUE(module);
  ASSERT_TRUE(differentiate(*module));
  auto forward = lookupFunc(*module, "forward");
  auto step = lookupFunc(*module, "train_step");
  ASSERT_TRUE(forward && step);

  auto params = mind::CpuTrainer::parameters(step);
  ASSERT_EQ(params.size(), mind::parameterShapes(cfg).size());
  std::mt19937 rng(c.seed);
  std::vector<Tensor> args = randomParameters(params, rng);
  int64_t b = shape.batch, s = shape.seqLen;
  args.push_back(randomInts({b, s}, cfg.vocabSize, rng)); // ids
  args.push_back(randomInts({b, s}, cfg.vocabSize, rng)); // targets
  args.push_back(mask({b, s}, 5));                        // mask

  // Router score gaps (MoE): the selection must be stable under the FD step.
  std::vector<mlir::Value> scores;
  std::vector<int64_t> ks;
  forward.walk([&](mind::TopKOp op) {
    scores.push_back(op.getScores());
    ks.push_back(op.getK());
  });
  EXPECT_EQ(scores.size(), c.useMoe ? 2u : 0u);
  {
    std::vector<Tensor> tapped;
    mind::Interpreter interp({InterpreterPrecision::Float64});
    auto losses = interp.run(forward, args, scores, &tapped);
    if (c.useMoe) {
      EXPECT_GT(losses[1].data[0], 0.0) << "the MoE aux loss takes part";
    }
    for (size_t l = 0; l < tapped.size(); ++l) {
      int64_t e = tapped[l].shape[1], k = ks[l];
      for (int64_t t = 0; t < tapped[l].shape[0]; ++t) {
        std::vector<double> row(&tapped[l].data[t * e],
                                &tapped[l].data[t * e] + e);
        std::sort(row.rbegin(), row.rend());
        EXPECT_GT(row[k - 1] - row[k], 1e-4)
            << "near tie in layer " << l << " token " << t
            << ": pick another seed";
      }
    }
  }

  CheckOptions opts;
  opts.precision = InterpreterPrecision::Float64;
  opts.h = 1e-6;
  opts.scale = CheckOptions::Scale::TensorMax;
  opts.rtol = 1e-5;
  opts.checkAllUpTo = 24;
  opts.samples = 24;
  opts.sampleSeed = c.seed + 1;
  int64_t compared = checkGradients(*module, args, opts);
  EXPECT_GE(compared, static_cast<int64_t>(20 * params.size()));
}

INSTANTIATE_TEST_SUITE_P(
    TinyMiniMind, GradCheckModel,
    ::testing::Values(ModelCase{"Dense", false, true, 7},
                      ModelCase{"MoeSeqAux", true, true, 11},
                      ModelCase{"MoeBatchAux", true, false, 17}),
    [](const ::testing::TestParamInfo<ModelCase> &info) {
      return info.param.name;
    });

} // namespace
