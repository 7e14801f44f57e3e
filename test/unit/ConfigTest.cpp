//===- ConfigTest.cpp - MiniMind config parsing and parameter table -------===//

#include "mind/Frontend/Config.h"

#include <gtest/gtest.h>

#include <cmath>
#include <dirent.h>
#include <fstream>
#include <set>

using namespace mind;

namespace {

const char *kFile = "configs/x.json";

// Parses `text` expecting a ConfigError; returns its message.
std::string errorOf(const std::string &text) {
  try {
    parseConfig(text, kFile);
  } catch (const ConfigError &e) {
    return e.what();
  }
  ADD_FAILURE() << "expected ConfigError for " << text;
  return "";
}

#define EXPECT_CONFIG_ERROR(text, field, needle)                               \
  do {                                                                         \
    std::string msg = errorOf(text);                                           \
    EXPECT_EQ(msg.rfind(std::string(kFile) + ": field '" + field + "': ", 0),  \
              0u)                                                              \
        << msg;                                                                \
    EXPECT_NE(msg.find(needle), std::string::npos) << msg;                     \
  } while (0)

TEST(ConfigTest, Defaults) {
  ConfigParseResult r = parseConfig("{}", kFile);
  const MiniMindConfig &c = r.config;
  EXPECT_TRUE(r.warnings.empty());
  EXPECT_EQ(c.hiddenSize, 512);
  EXPECT_EQ(c.numHiddenLayers, 8);
  EXPECT_EQ(c.numAttentionHeads, 8);
  EXPECT_EQ(c.numKeyValueHeads, 2);
  EXPECT_EQ(c.vocabSize, 6400);
  EXPECT_FALSE(c.intermediateSize.has_value());
  EXPECT_EQ(c.resolvedIntermediateSize(), 1408);
  EXPECT_EQ(c.hiddenAct, "silu");
  EXPECT_DOUBLE_EQ(c.rmsNormEps, 1e-5);
  EXPECT_DOUBLE_EQ(c.ropeTheta, 1e6);
  EXPECT_EQ(c.maxPositionEmbeddings, 32768);
  EXPECT_FALSE(c.inferenceRopeScaling);
  EXPECT_FALSE(c.ropeScaling().has_value());
  EXPECT_DOUBLE_EQ(c.dropout, 0.0);
  EXPECT_TRUE(c.flashAttn);
  EXPECT_EQ(c.bosTokenId, 1);
  EXPECT_EQ(c.eosTokenId, 2);
  EXPECT_FALSE(c.useMoe);
  EXPECT_EQ(c.nRoutedExperts, 4);
  EXPECT_EQ(c.numExpertsPerTok, 2);
  EXPECT_EQ(c.nSharedExperts, 1);
  EXPECT_EQ(c.scoringFunc, "softmax");
  EXPECT_DOUBLE_EQ(c.auxLossAlpha, 0.01);
  EXPECT_TRUE(c.seqAux);
  EXPECT_TRUE(c.normTopkProb);
  EXPECT_EQ(c.headDim(), 64);
}

TEST(ConfigTest, IntermediateSizeRule) {
  MiniMindConfig c;
  for (auto [h, inter] : {std::pair<int64_t, int64_t>{512, 1408},
                          {768, 2048},
                          {64, 192},
                          {640, 1728}}) {
    c.hiddenSize = h;
    EXPECT_EQ(c.resolvedIntermediateSize(), inter) << h;
  }
  ConfigParseResult r = parseConfig(R"({"intermediate_size": 100})", kFile);
  EXPECT_EQ(r.config.resolvedIntermediateSize(), 100);
  r = parseConfig(R"({"intermediate_size": null})", kFile);
  EXPECT_EQ(r.config.resolvedIntermediateSize(), 1408);
}

TEST(ConfigTest, RopeScaling) {
  MiniMindConfig c =
      parseConfig(R"({"inference_rope_scaling": true})", kFile).config;
  ASSERT_TRUE(c.ropeScaling().has_value());
  RopeScaling s = *c.ropeScaling();
  EXPECT_EQ(s.type, "yarn");
  EXPECT_DOUBLE_EQ(s.factor, 16);
  EXPECT_EQ(s.originalMaxPositionEmbeddings, 2048);
  EXPECT_DOUBLE_EQ(s.betaFast, 32);
  EXPECT_DOUBLE_EQ(s.betaSlow, 1);
  EXPECT_DOUBLE_EQ(s.attentionFactor, 1.0);
  // Explicit overrides; a dict without the switch is ignored with a warning.
  c = parseConfig(R"({"inference_rope_scaling": true,
                      "rope_scaling": {"type": "yarn", "factor": 4}})",
                  kFile)
          .config;
  EXPECT_DOUBLE_EQ(c.ropeScaling()->factor, 4);
  ConfigParseResult r =
      parseConfig(R"({"rope_scaling": {"factor": 4}})", kFile);
  EXPECT_FALSE(r.config.ropeScaling().has_value());
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("'rope_scaling'"), std::string::npos);
  EXPECT_CONFIG_ERROR(R"({"rope_scaling": {"factor": -1}})",
                      "rope_scaling.factor", "must be positive");
  EXPECT_CONFIG_ERROR(R"({"rope_scaling": 3})", "rope_scaling",
                      "expected an object or null");
}

MiniMindConfig withSize(int64_t hidden, int64_t layers, int64_t heads,
                        int64_t kv, bool moe) {
  MiniMindConfig c;
  c.hiddenSize = hidden;
  c.numHiddenLayers = layers;
  c.numAttentionHeads = heads;
  c.numKeyValueHeads = kv;
  c.useMoe = moe;
  return c;
}

TEST(ConfigTest, ParameterCounts) {
  EXPECT_EQ(parameterCount(MiniMindConfig{}), 25829888);
  EXPECT_EQ(parameterCount(withSize(768, 16, 8, 2, false)), 104030976);
  EXPECT_EQ(parameterCount(withSize(64, 2, 4, 2, false)), 508224);
  EXPECT_EQ(parameterCount(withSize(64, 2, 4, 2, true)), 803648);
}

TEST(ConfigTest, ParameterShapesDense) {
  auto shapes = parameterShapes(withSize(64, 2, 4, 2, false));
  ASSERT_EQ(shapes.size(), 1u + 2 * 9 + 1);
  EXPECT_EQ(shapes.front().first, "model.embed_tokens.weight");
  EXPECT_EQ(shapes.front().second, (std::vector<int64_t>{6400, 64}));
  const char *layer[] = {
      "input_layernorm",  "self_attn.q_proj", "self_attn.k_proj",
      "self_attn.v_proj", "self_attn.o_proj", "post_attention_layernorm",
      "mlp.gate_proj",    "mlp.up_proj",      "mlp.down_proj"};
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 9; ++j)
      EXPECT_EQ(shapes[1 + 9 * i + j].first, "model.layers." +
                                                 std::to_string(i) + "." +
                                                 layer[j] + ".weight");
  EXPECT_EQ(shapes[2].second, (std::vector<int64_t>{64, 64}));  // q
  EXPECT_EQ(shapes[3].second, (std::vector<int64_t>{32, 64}));  // k: kv*D
  EXPECT_EQ(shapes[7].second, (std::vector<int64_t>{192, 64})); // gate
  EXPECT_EQ(shapes[9].second, (std::vector<int64_t>{64, 192})); // down
  EXPECT_EQ(shapes.back().first, "model.norm.weight");
}

TEST(ConfigTest, ParameterShapesMoe) {
  auto shapes = parameterShapes(withSize(64, 1, 4, 2, true));
  std::vector<std::string> names;
  for (auto &s : shapes)
    names.push_back(s.first);
  // Embedding, 6 attention/norm tensors, gate, 4 experts * 3, 1 shared * 3,
  // final norm.
  ASSERT_EQ(names.size(), 1u + 6 + 1 + 12 + 3 + 1);
  EXPECT_EQ(names[7], "model.layers.0.mlp.gate.weight");
  EXPECT_EQ(shapes[7].second, (std::vector<int64_t>{4, 64}));
  EXPECT_EQ(names[8], "model.layers.0.mlp.experts.0.gate_proj.weight");
  EXPECT_EQ(names[9], "model.layers.0.mlp.experts.0.up_proj.weight");
  EXPECT_EQ(names[10], "model.layers.0.mlp.experts.0.down_proj.weight");
  EXPECT_EQ(names[19], "model.layers.0.mlp.experts.3.down_proj.weight");
  EXPECT_EQ(names[20], "model.layers.0.mlp.shared_experts.0.gate_proj.weight");
  EXPECT_EQ(names[22], "model.layers.0.mlp.shared_experts.0.down_proj.weight");
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(),
            names.size());
}

TEST(ConfigTest, ValidationRulesNameTheField) {
  for (const char *f :
       {"hidden_size", "num_hidden_layers", "num_attention_heads",
        "num_key_value_heads", "vocab_size", "intermediate_size",
        "max_position_embeddings", "n_routed_experts", "num_experts_per_tok"}) {
    EXPECT_CONFIG_ERROR("{\"" + std::string(f) + "\": 0}", f,
                        "must be positive (got 0)");
    EXPECT_CONFIG_ERROR("{\"" + std::string(f) + "\": -3}", f,
                        "must be positive (got -3)");
  }
  EXPECT_CONFIG_ERROR(R"({"hidden_size": 4294967296})", "hidden_size",
                      "must be at most");
  EXPECT_CONFIG_ERROR(R"({"hidden_size": 500})", "num_attention_heads",
                      "hidden_size (500) must be divisible by "
                      "num_attention_heads (8)");
  EXPECT_EQ(errorOf(R"({"num_key_value_heads": 3})"),
            "configs/x.json: field 'num_key_value_heads': num_attention_heads "
            "(8) must be divisible by num_key_value_heads (3)");
  EXPECT_CONFIG_ERROR(R"({"hidden_size": 72})", "hidden_size",
                      "head_dim = hidden_size / num_attention_heads = 9 must "
                      "be even");
  EXPECT_CONFIG_ERROR(R"({"num_experts_per_tok": 5})", "num_experts_per_tok",
                      "num_experts_per_tok (5) must not exceed "
                      "n_routed_experts (4)");
  EXPECT_CONFIG_ERROR(R"({"n_shared_experts": -1})", "n_shared_experts",
                      "must be non-negative");
  EXPECT_CONFIG_ERROR(R"({"rms_norm_eps": 0})", "rms_norm_eps",
                      "must be positive");
  EXPECT_CONFIG_ERROR(R"({"rope_theta": -10000.0})", "rope_theta",
                      "must be greater than 1");
  EXPECT_CONFIG_ERROR(R"({"rope_theta": 1.0})", "rope_theta",
                      "must be greater than 1");
  EXPECT_CONFIG_ERROR(R"({"dropout": 1.0})", "dropout", "must be in [0, 1)");
  EXPECT_CONFIG_ERROR(R"({"dropout": -0.1})", "dropout", "must be in [0, 1)");
  EXPECT_CONFIG_ERROR(R"({"hidden_act": "gelu"})", "hidden_act",
                      "only \"silu\" is supported (got \"gelu\")");
  EXPECT_CONFIG_ERROR(R"({"scoring_func": "sigmoid"})", "scoring_func",
                      "only \"softmax\" is supported");
  EXPECT_CONFIG_ERROR(R"({"aux_loss_alpha": -0.5})", "aux_loss_alpha",
                      "must be non-negative");
  EXPECT_CONFIG_ERROR(R"({"bos_token_id": 6400})", "bos_token_id",
                      "must be in [0, vocab_size)");
  EXPECT_CONFIG_ERROR(R"({"tie_word_embeddings": false})",
                      "tie_word_embeddings", "ties lm_head");
  // Sizes mindc refuses up front (the IR has an argument per weight).
  EXPECT_CONFIG_ERROR(R"({"num_hidden_layers": 1025})", "num_hidden_layers",
                      "must be at most 1024 (got 1025): a limit of mindc's");
  EXPECT_CONFIG_ERROR(R"({"use_moe": true, "n_routed_experts": 100000})",
                      "n_routed_experts",
                      "must be at most 256 (got 100000): mindc's routing "
                      "kernels");
  EXPECT_CONFIG_ERROR(R"({"n_shared_experts": 257})", "n_shared_experts",
                      "must be at most 256");
  // YaRN's logarithms need positive betas.
  EXPECT_CONFIG_ERROR(
      R"({"inference_rope_scaling": true, "rope_scaling": {"type": "yarn", "factor": 16, "original_max_position_embeddings": 2048, "beta_fast": -5, "beta_slow": 1}})",
      "rope_scaling.beta_fast", "must be positive and finite (got -5)");
  EXPECT_CONFIG_ERROR(
      R"({"inference_rope_scaling": true, "rope_scaling": {"type": "yarn", "factor": 16, "original_max_position_embeddings": 2048, "beta_fast": 32, "beta_slow": 0}})",
      "rope_scaling.beta_slow", "must be positive and finite (got 0)");
  // Valid edge cases.
  EXPECT_NO_THROW(parseConfig(R"({"num_hidden_layers": 1024})", kFile));
  EXPECT_NO_THROW(parseConfig(R"({"n_shared_experts": 0, "dropout": 0.5,
                                  "num_experts_per_tok": 4})",
                              kFile));
}

TEST(ConfigTest, HandBuiltConfigsAreValidatedToo) {
  MiniMindConfig c;
  c.rmsNormEps = std::nan("");
  EXPECT_THROW(validateConfig(c, "<cli>"), ConfigError);
  try {
    validateConfig(withSize(64, 2, 4, 3, false), "<cli>");
    FAIL();
  } catch (const ConfigError &e) {
    EXPECT_EQ(
        std::string(e.what()).rfind("<cli>: field 'num_key_value_heads'", 0),
        0u);
  }
}

TEST(ConfigTest, TypeErrorsNameFieldAndExpectedType) {
  EXPECT_CONFIG_ERROR(R"({"hidden_size": "512"})", "hidden_size",
                      "expected an integer, got string \"512\"");
  EXPECT_CONFIG_ERROR(R"({"hidden_size": 512.0})", "hidden_size",
                      "expected an integer");
  EXPECT_CONFIG_ERROR(R"({"hidden_size": null})", "hidden_size",
                      "expected an integer, got null");
  EXPECT_CONFIG_ERROR(R"({"rope_theta": "big"})", "rope_theta",
                      "expected a number");
  EXPECT_CONFIG_ERROR(R"({"use_moe": 1})", "use_moe", "expected a boolean");
  EXPECT_CONFIG_ERROR(R"({"hidden_act": ["silu"]})", "hidden_act",
                      "expected a string");
  EXPECT_CONFIG_ERROR(R"({"vocab_size": 18446744073709551615})", "vocab_size",
                      "out of range");
  EXPECT_CONFIG_ERROR(R"({"use_moe": true, "use_moe": false})", "use_moe",
                      "appears more than once");
  // Integers are fine where a float is expected.
  EXPECT_DOUBLE_EQ(
      parseConfig(R"({"rope_theta": 10000})", kFile).config.ropeTheta, 10000.0);
  std::string msg = errorOf("[1, 2]");
  EXPECT_NE(msg.find("must be a JSON object"), std::string::npos) << msg;
}

TEST(ConfigTest, UnknownFieldsWarnHfKeysDoNot) {
  ConfigParseResult r = parseConfig(R"({
    "hidden_sise": 64,
    "model_type": "minimind",
    "architectures": ["MiniMindForCausalLM"],
    "torch_dtype": "float32",
    "transformers_version": "4.44.0",
    "auto_map": {"AutoModelForCausalLM": "model.MiniMindForCausalLM"},
    "pad_token_id": 0,
    "tie_word_embeddings": true,
    "rope_scaling": null
  })",
                                    kFile);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0],
            "configs/x.json: field 'hidden_sise': unknown field, ignored");
  EXPECT_EQ(r.config.hiddenSize, 512);
}

TEST(ConfigTest, SyntaxErrorLocation) {
  std::string msg = errorOf("{\n  \"hidden_size\": 64,\n  \"dropout\": ,\n}");
  EXPECT_EQ(msg.rfind("configs/x.json:3:14: JSON syntax error: ", 0), 0u)
      << msg;
  msg = errorOf("{\"hidden_size\": 64");
  EXPECT_EQ(msg.rfind("configs/x.json:1:", 0), 0u) << msg;
  EXPECT_NE(msg.find("JSON syntax error"), std::string::npos) << msg;
  msg = errorOf("");
  EXPECT_EQ(msg.rfind("configs/x.json:1:1: JSON syntax error", 0), 0u) << msg;
}

TEST(ConfigTest, ToJsonRoundTrips) {
  MiniMindConfig c = withSize(768, 16, 8, 2, true);
  c.inferenceRopeScaling = true;
  c.dropout = 0.1;
  nlohmann::json j = toJson(c);
  EXPECT_EQ(j["intermediate_size"], 2048);
  EXPECT_EQ(j["rope_scaling"]["factor"], 16.0);
  EXPECT_EQ(j.size(),
            24u); // 23 spec fields (with intermediate_size) + rope_scaling
  ConfigParseResult r = parseConfig(j.dump(), "<json>");
  EXPECT_TRUE(r.warnings.empty());
  EXPECT_EQ(toJson(r.config), j);
  EXPECT_EQ(toJson(MiniMindConfig{})["rope_scaling"], nullptr);
}

TEST(ConfigTest, LoadConfigErrors) {
  auto messageOf = [](const std::string &path) {
    try {
      loadConfig(path);
    } catch (const ConfigError &e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(messageOf("/nonexistent/c.json"), "/nonexistent/c.json: no such file");
  std::string dir = std::string(MIND_SOURCE_DIR) + "/configs";
  EXPECT_EQ(messageOf(dir), dir + ": is a directory, expected a config file");
}

TEST(ConfigTest, NumbersJsonCannotHoldNameTheFile) {
  std::string msg = errorOf(R"({"rope_theta": 1e400})");
  EXPECT_EQ(msg.rfind("configs/x.json: invalid JSON: ", 0), 0u) << msg;
}

// 100,000 nested arrays parsed, then overflowed the stack when the value
// was printed into the type error (found by LoaderFuzzTest).
TEST(ConfigTest, DeepNestingIsRejected) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_EQ(errorOf(R"({"hidden_size": )" + deep + "}"),
            "configs/x.json: JSON nested deeper than 128 levels");
  EXPECT_CONFIG_ERROR(R"({"hidden_size": [[[[]]]]})", "hidden_size",
                      "expected an integer, got array [[[[]]]]");
}

TEST(ConfigTest, EveryShippedConfigParses) {
  std::string dir = std::string(MIND_SOURCE_DIR) + "/configs";
  DIR *d = opendir(dir.c_str());
  ASSERT_NE(d, nullptr) << dir;
  std::set<std::string> files;
  while (dirent *e = readdir(d)) {
    std::string n = e->d_name;
    if (n.size() > 5 && n.substr(n.size() - 5) == ".json")
      files.insert(n);
  }
  closedir(d);
  for (const char *expected :
       {"minimind-26m.json", "minimind-104m.json", "minimind-moe.json",
        "tiny-dense.json", "tiny-moe.json"})
    EXPECT_TRUE(files.count(expected)) << expected;
  for (const std::string &f : files) {
    ConfigParseResult r;
    ASSERT_NO_THROW(r = loadConfig(dir + "/" + f)) << f;
    EXPECT_TRUE(r.warnings.empty()) << f << ": " << r.warnings.front();
  }
  auto count = [&](const char *f) {
    return parameterCount(loadConfig(dir + "/" + f).config);
  };
  EXPECT_EQ(count("minimind-26m.json"), 25829888);
  EXPECT_EQ(count("minimind-104m.json"), 104030976);
  EXPECT_EQ(count("tiny-dense.json"), 508224);
  EXPECT_EQ(count("tiny-moe.json"), 803648);
  EXPECT_TRUE(loadConfig(dir + "/minimind-moe.json").config.useMoe);
  // The tiny configs are the golden data's configs.
  std::ifstream in(std::string(MIND_SHARED_DATA_DIR) +
                   "/golden/golden_tiny_moe.json");
  ASSERT_TRUE(in);
  nlohmann::json golden = nlohmann::json::parse(in);
  MiniMindConfig g = parseConfig(golden["config"].dump(), "golden").config;
  EXPECT_EQ(toJson(g), toJson(loadConfig(dir + "/tiny-moe.json").config));
  EXPECT_EQ(parameterCount(g), golden["param_count"].get<int64_t>());
}

} // namespace
