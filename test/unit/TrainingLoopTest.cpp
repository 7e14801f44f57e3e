//===- TrainingLoopTest.cpp - the one training loop, with a fake device ---===//
//
// The loop's own decisions (schedule, accumulation, logging, saving,
// resuming) checked against a backend that records what it is asked to do.
//
//===----------------------------------------------------------------------===//

#include "mind/exec/Optimizer.h"
#include "mind/exec/TrainingLoop.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

using namespace mind::runtime;
namespace fs = std::filesystem;

namespace {

/// Two parameters; a micro-step's "loss" is its batch's first token id, so
/// a run's data order shows in the losses; weights move by the LR.
class FakeBackend : public TrainingBackend {
public:
  std::vector<double> losses;            // per micro-step
  std::vector<int64_t> stepAt;           // micro-step index of each optimizer step
  std::vector<double> stepLr;
  TensorList w;
  OptimizerSnapshot state;
  double nanAt = -1;                     // micro-step whose loss is NaN
  int64_t micro = 0;

  std::string deviceDescription() const override { return "device fake"; }
  std::vector<TensorSpec> parameters() const override {
    return {{"a.weight", {2, 3}}, {"b.weight", {4}}};
  }
  void setWeights(const TensorList &weights) override { w = weights; }
  TensorList weights() override { return w; }
  MicroStepLosses microStep(const TokenBatch &b) override {
    double loss = static_cast<double>(b.ids.at(0));
    if (micro == nanAt)
      loss = std::nan("");
    losses.push_back(loss);
    ++micro;
    return {loss, 0.25};
  }
  void optimizerStep(double lr) override {
    stepAt.push_back(micro - 1);
    stepLr.push_back(lr);
    for (auto &t : w)
      for (float &x : t)
        x -= static_cast<float>(lr);
    ++state.step;
  }
  OptimizerSnapshot optimizerState() override {
    OptimizerSnapshot s = state;
    s.expAvg.clear();
    s.expAvgSq.clear();
    for (const auto &t : w) {
      s.expAvg.emplace_back(t.size(), 0.5f);
      s.expAvgSq.emplace_back(t.size(), 0.25f);
    }
    return s;
  }
  void restoreOptimizer(const OptimizerSnapshot &s) override {
    state.step = s.step;
    ASSERT_EQ(s.expAvg.size(), 2u);
    EXPECT_EQ(s.expAvg[0][0], 0.5f);
  }
  void writeMetrics(std::ostream &line) override { line << ",\"fake\":1"; }
};

class TrainingLoopTest : public ::testing::Test {
protected:
  fs::path dir;
  void SetUp() override {
    dir = fs::temp_directory_path() /
          ("mind-loop-" + std::to_string(::testing::UnitTest::GetInstance()
                                             ->random_seed()) +
           "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }

  TrainingOptions options() {
    TrainingOptions o;
    o.tool = "loop-test";
    o.sourceName = "fake";
    o.config = {{"vocab_size", 64}, {"hidden_size", 8}, {"use_moe", false}};
    TrainerFlags &f = o.flags;
    f.epochs = 2;
    f.batchSize = 2;
    f.maxSeqLen = 9;
    f.accumulationSteps = 3;
    f.syntheticSamples = 10; // 5 micro-steps per epoch
    f.learningRate = 1e-2;
    f.logInterval = 1;
    f.saveInterval = 0;
    f.saveDir = dir.string();
    f.saveWeight = "loop";
    f.fromWeight = "none";
    f.tokenizer = "none";
    f.dtype = "float32";
    f.metrics = (dir / "m.jsonl").string();
    return o;
  }
};

TEST_F(TrainingLoopTest, StepsEveryAccumulationWindowWithTheScheduleLr) {
  FakeBackend b;
  TrainingOptions o = options();
  testing::internal::CaptureStdout();
  runTraining(b, o);
  std::string out = testing::internal::GetCapturedStdout();
  // 2 epochs x 5 micro-steps; a window of 3 runs across the epoch boundary.
  EXPECT_EQ(b.losses.size(), 10u);
  ASSERT_EQ(b.stepAt, (std::vector<int64_t>{2, 5, 8}));
  for (size_t i = 0; i < b.stepAt.size(); ++i)
    EXPECT_DOUBLE_EQ(b.stepLr[i], minimindLr(b.stepAt[i], 10, 1e-2));
  // The default initialisation, then the three updates.
  TensorList init = pytorchDefaultInit({{2, 3}, {4}}, 42);
  double moved = minimindLr(2, 10, 1e-2) + minimindLr(5, 10, 1e-2) +
                 minimindLr(8, 10, 1e-2);
  EXPECT_NEAR(b.w[1][0], init[1][0] - moved, 1e-6);
  EXPECT_NE(out.find("loop-test: fake, 0.000M parameters, device fake, 10 "
                     "samples x 8 tokens, 5 micro-steps per epoch"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("Epoch:[2/2](5/5) loss:"), std::string::npos) << out;
  // The run stops one micro-step into a window: no resume file update.
  EXPECT_NE(out.find("resume file not updated: the run stopped 1 "
                     "micro-step(s) into an accumulation window"),
            std::string::npos)
      << out;
  std::ifstream m(o.flags.metrics);
  std::string line;
  int lines = 0;
  while (std::getline(m, line)) {
    ++lines;
    EXPECT_NE(line.find("\"aux_loss\":0.25"), std::string::npos) << line;
    EXPECT_NE(line.find(",\"fake\":1}"), std::string::npos) << line;
  }
  EXPECT_EQ(lines, 10);
}

// A run interrupted at an optimizer step and resumed trains the same
// batches with the same schedule as an uninterrupted one.
TEST_F(TrainingLoopTest, ResumeContinuesWhereTheRunStopped) {
  TrainingOptions o = options();
  o.flags.metrics.clear();
  o.flags.shuffle = 1;
  FakeBackend straight;
  testing::internal::CaptureStdout();
  runTraining(straight, o);

  o.flags.saveDir = (dir / "resumed").string();
  o.flags.saveInterval = 1;
  o.flags.maxSteps = 6; // stops right after the second optimizer step
  FakeBackend part1;
  runTraining(part1, o);
  o.flags.maxSteps = 0;
  o.flags.fromResume = 1;
  FakeBackend part2;
  runTraining(part2, o);
  std::string out = testing::internal::GetCapturedStdout();
  EXPECT_NE(out.find("resumed from"), std::string::npos) << out;
  EXPECT_NE(out.find("epoch 2, micro-step 1/5, optimizer step 2"),
            std::string::npos)
      << out;

  std::vector<double> joined = part1.losses;
  joined.insert(joined.end(), part2.losses.begin(), part2.losses.end());
  EXPECT_EQ(joined, straight.losses);
  ASSERT_EQ(part2.stepLr.size(), 1u);
  EXPECT_DOUBLE_EQ(part2.stepLr[0], straight.stepLr[2]);
  EXPECT_EQ(part2.state.step, 3);
  // The weights came back from the resume file (fp32 masters).
  for (size_t i = 0; i < straight.w.size(); ++i)
    EXPECT_EQ(part2.w[i], straight.w[i]);
}

TEST_F(TrainingLoopTest, NonFiniteLossStopsTheRunNamingTheStep) {
  FakeBackend b;
  b.nanAt = 6;
  TrainingOptions o = options();
  testing::internal::CaptureStdout();
  try {
    runTraining(b, o);
    testing::internal::GetCapturedStdout();
    ADD_FAILURE() << "a NaN loss did not stop the run";
  } catch (const std::runtime_error &e) {
    testing::internal::GetCapturedStdout();
    EXPECT_STREQ(e.what(), "loss is nan at epoch 2 step 1 (micro-step 6)");
  }
}

TEST_F(TrainingLoopTest, TooLittleDataIsRefused) {
  FakeBackend b;
  TrainingOptions o = options();
  o.flags.syntheticSamples = 1;
  try {
    runTraining(b, o);
    ADD_FAILURE() << "one sample trained with batch size 2";
  } catch (const std::runtime_error &e) {
    EXPECT_NE(std::string(e.what()).find("fewer than one batch of 2"),
              std::string::npos)
        << e.what();
  }
}

} // namespace
