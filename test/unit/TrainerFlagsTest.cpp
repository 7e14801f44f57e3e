//===- TrainerFlagsTest.cpp - the trainers' shared MiniMind flags ---------===//

#include "mind/exec/TrainerFlags.h"

#include <gtest/gtest.h>

#include <vector>

using namespace mind::runtime;

namespace {
TrainerFlagDefaults cpuDefaults() {
  TrainerFlagDefaults d;
  d.device = "cpu";
  d.batchSize = 32;
  d.maxSeqLen = 512;
  d.dtype = "float32";
  return d;
}
TrainerFlagDefaults bundleDefaults() { // batch, length, dtype: the bundle's
  TrainerFlagDefaults d;
  d.device = "cuda";
  return d;
}

TrainerFlags parse(const TrainerFlagDefaults &d,
                   std::vector<std::string> args) {
  cxxopts::Options opts("t", "");
  addTrainerOptions(opts, d);
  std::vector<char *> argv{const_cast<char *>("t")};
  for (std::string &a : args)
    argv.push_back(a.data());
  auto r = opts.parse(static_cast<int>(argv.size()), argv.data());
  return readTrainerFlags(r, d);
}

std::string errorOf(const TrainerFlagDefaults &d,
                    std::vector<std::string> args) {
  try {
    parse(d, std::move(args));
  } catch (const std::invalid_argument &e) {
    return e.what();
  }
  return "";
}
} // namespace

// MiniMind's defaults (MINIMIND-SPEC §5).
TEST(TrainerFlags, MiniMindDefaults) {
  TrainerFlags f = parse(cpuDefaults(), {});
  EXPECT_EQ(f.device, "cpu");
  EXPECT_EQ(f.epochs, 1);
  EXPECT_EQ(f.batchSize, 32);
  EXPECT_DOUBLE_EQ(f.learningRate, 5e-4);
  EXPECT_EQ(f.accumulationSteps, 8);
  EXPECT_DOUBLE_EQ(f.gradClip, 1.0);
  EXPECT_EQ(f.maxSeqLen, 512);
  EXPECT_EQ(f.logInterval, 100);
  EXPECT_EQ(f.saveInterval, 100);
  EXPECT_EQ(f.seed, 42);
  EXPECT_EQ(f.saveDir, "out");
  EXPECT_EQ(f.saveWeight, "pretrain");
  EXPECT_EQ(f.dtype, "float32");
  EXPECT_EQ(f.shuffle, 1);
}

// Without defaults the shape flags stay unset until given (the bundle
// decides), and given values are read.
TEST(TrainerFlags, BundleShapedFlagsStayUnsetUntilGiven) {
  TrainerFlags f = parse(bundleDefaults(), {});
  EXPECT_EQ(f.batchSize, 0);
  EXPECT_EQ(f.maxSeqLen, 0);
  EXPECT_EQ(f.dtype, "");
  f = parse(bundleDefaults(),
            {"--batch_size", "4", "--max_seq_len", "65", "--dtype", "float16",
             "--from_resume", "1", "--shuffle", "0"});
  EXPECT_EQ(f.batchSize, 4);
  EXPECT_EQ(f.maxSeqLen, 65);
  EXPECT_EQ(f.dtype, "float16");
  EXPECT_EQ(f.fromResume, 1);
  EXPECT_EQ(f.shuffle, 0);
}

TEST(TrainerFlags, OutOfRangeValuesNameTheFlag) {
  auto d = cpuDefaults();
  EXPECT_EQ(errorOf(d, {"--batch_size", "0"}), "--batch_size must be positive");
  EXPECT_EQ(errorOf(bundleDefaults(), {"--batch_size", "-2"}),
            "--batch_size must be positive");
  EXPECT_EQ(errorOf(d, {"--max_seq_len", "1"}),
            "--max_seq_len must be at least 2");
  EXPECT_EQ(errorOf(d, {"--from_resume", "2"}), "--from_resume must be 0 or 1");
  EXPECT_EQ(errorOf(d, {"--shuffle", "3"}), "--shuffle must be 0 or 1");
  EXPECT_EQ(errorOf(d, {"--save_interval", "-1"}),
            "--save_interval must not be negative");
  EXPECT_EQ(errorOf(d, {"--max_steps", "-1"}),
            "--max_steps must not be negative");
  EXPECT_EQ(errorOf(d, {"--keep_last", "0"}), "--keep_last must be positive");
  EXPECT_EQ(errorOf(d, {"--learning_rate", "0"}),
            "--learning_rate must be positive");
  EXPECT_EQ(errorOf(d, {"--grad_clip", "-1"}), "--grad_clip must be positive");
  EXPECT_EQ(errorOf(d, {"--epochs", "0"}), "--epochs must be positive");
}
