//===- ConfigFuzz.cpp - deterministic fuzzing of model config loading -----===//
//
// Mutants of the shipped configs (configs/*.json) fed to loadConfig. Each
// must load — and then survive validateConfig and a toJson round trip — or
// throw ConfigError naming the file. Built only with the compiler
// (MindFrontendConfig is part of it).
//
//===----------------------------------------------------------------------===//

#include "FuzzSupport.h"

#include "mind/Frontend/Config.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

using namespace mind;
using namespace mind::fuzz;
using nlohmann::json;

namespace {

const std::vector<std::string> kConfigWords = {
    "silu",
    "gelu",
    "softmax",
    "sigmoid",
    "yarn",
    "linear",
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "vocab_size",
    "intermediate_size",
    "rope_scaling",
    "rope_theta",
    "use_moe",
    "n_routed_experts",
    "num_experts_per_tok",
    "tie_word_embeddings",
    "model_type",
    "torch_dtype",
    "factor",
    "original_max_position_embeddings",
    "beta_fast",
    "attention_factor"};

} // namespace

TEST(LoaderFuzz, Config) {
  TempDir dir;
  std::vector<std::pair<std::string, Bytes>> seeds;
  std::vector<json> docs;
  std::vector<std::filesystem::path> files;
  for (const auto &e : std::filesystem::directory_iterator(
           std::string(MIND_SOURCE_DIR) + "/configs"))
    if (e.path().extension() == ".json")
      files.push_back(e.path());
  std::sort(files.begin(), files.end()); // directory order is not stable
  for (const auto &f : files) {
    seeds.push_back({f.filename().string(), readFile(f.string())});
    docs.push_back(json::parse(seeds.back().second));
  }
  ASSERT_GE(seeds.size(), 5u);

  std::string path = dir.file("config.json");
  Tally tally("loadConfig (configs/*.json)");
  forEachMutant(
      0xC0F16F022ULL, seeds, {}, 24, 10000,
      [&](Mutator &m, std::string &desc) {
        size_t i = m.below(seeds.size());
        Bytes b = seeds[i].second;
        if (m.chance(20))
          desc = m.havoc(b, {});
        else
          b = toBytes(m.mutateJson(docs[i], kConfigWords, desc, m.chance(70)));
        desc = seeds[i].first + ": " + desc;
        return b;
      },
      [&](size_t index, uint64_t s, const std::string &desc, const Bytes &b) {
        writeFile(path, b);
        tally.run<ConfigError>(index, s, desc, path, b.size(), [&] {
          MiniMindConfig c = loadConfig(path).config;
          // A loaded config is valid, and prints as one that loads the same.
          try {
            validateConfig(c, "loaded");
            json j = toJson(c);
            FUZZ_SANE(toJson(parseConfig(j.dump(), "printed").config) == j,
                      "toJson does not round-trip");
          } catch (const ConfigError &e) {
            throw SanityError(std::string("it is not valid: ") + e.what());
          }
        });
      });
  tally.print(60);
}
