//===- TrainerFlags.h - MiniMind's trainer flags, shared ---------*- C++ -*-===//
//
// The flags of MiniMind's train_pretrain.py (same names, same defaults; see
// MINIMIND-SPEC §5) plus this project's data, checkpoint and run knobs, as
// both trainers take them: `mind-train` (CPU interpreter) and the compiled
// GPU trainer (`mind-trainer`). Each tool adds its own device options.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_EXEC_TRAINERFLAGS_H
#define MIND_EXEC_TRAINERFLAGS_H

#include <cxxopts.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace mind::runtime {

struct TrainerFlags {
  std::string device, dtype, dataPath, saveDir, saveWeight, fromWeight,
      metrics, tokenizer;
  int64_t epochs = 1, batchSize = 0, accumulationSteps = 8, maxSeqLen = 0,
          logInterval = 100, saveInterval = 100, keepLast = 1,
          syntheticSamples = 256, maxSteps = 0, seed = 42;
  double learningRate = 5e-4, gradClip = 1.0;
  int fromResume = 0, shuffle = 1;
};

/// What differs between the trainers.
struct TrainerFlagDefaults {
  std::string device;     ///< the --device default ("cpu" or "cuda")
  std::string deviceHelp;
  /// 0 / empty: no default, the value comes from elsewhere (a bundle) and
  /// the field stays 0 / empty unless the flag is given.
  int64_t batchSize = 0, maxSeqLen = 0;
  std::string dtype;
  std::string dtypeHelp;
};

/// Adds the shared options to `opts`.
void addTrainerOptions(cxxopts::Options &opts, const TrainerFlagDefaults &d);

/// Reads the shared options (added with the same `d`) and checks their
/// ranges; throws std::invalid_argument naming the flag ("--keep_last must
/// be positive").
TrainerFlags readTrainerFlags(const cxxopts::ParseResult &r,
                              const TrainerFlagDefaults &d);

/// The settings that shape a run's trajectory, as resume files store them
/// (ResumeState::training): resuming with different ones warns.
nlohmann::json trainingSettings(const TrainerFlags &f, int64_t numSamples);

} // namespace mind::runtime

#endif // MIND_EXEC_TRAINERFLAGS_H
