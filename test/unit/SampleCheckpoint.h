//===- SampleCheckpoint.h - a small model's resume state for tests -*- C++ -*-===//
//
// Shared by CheckpointTest and the loader fuzz test (whose resume mutants
// start from a checkpoint of this model).
//
//===----------------------------------------------------------------------===//

#ifndef MIND_TEST_UNIT_SAMPLECHECKPOINT_H
#define MIND_TEST_UNIT_SAMPLECHECKPOINT_H

#include "mind/io/Checkpoint.h"
#include "mind/io/Sha256.h"

namespace mind::runtime::samples {

/// A one-layer model: embedding 4x3, one norm, the final norm.
inline std::vector<TensorSpec> sampleSpecs() {
  return {{"model.embed_tokens.weight", {4, 3}},
          {"model.layers.0.input_layernorm.weight", {3}},
          {"model.norm.weight", {3}}};
}

inline nlohmann::json sampleConfig() {
  return {{"hidden_size", 3},
          {"vocab_size", 4},
          {"num_hidden_layers", 1},
          {"rope_scaling", {{"factor", 16.0}, {"type", "yarn"}}}};
}

/// Mid-run state of a 2-rank run: every field away from its default.
inline ResumeState sampleResumeState(const nlohmann::json &config) {
  ResumeState s;
  s.step = 12;
  s.microStep = 96;
  s.epoch = 1;
  s.worldSize = 2;
  s.cursor = {1, 8, 4, 44};
  s.rng.seed = 42;
  s.rng.counters = {{"data_order_epoch", 1}, {"dropout", 1234}};
  s.lossScaler = {true, 32768.0, 7};
  s.runId = "0123456789abcdef";
  s.config = config;
  s.tokenizerSha256 = sha256Hex("tokenizer");
  s.training = {{"batch_size", 4}, {"learning_rate", 5e-4}};
  return s;
}

} // namespace mind::runtime::samples

#endif // MIND_TEST_UNIT_SAMPLECHECKPOINT_H
