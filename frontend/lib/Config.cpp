//===- Config.cpp - MiniMind model configuration --------------------------===//

#include "mind/Frontend/Config.h"

#include "mind/abi/Files.h"
#include "mind/abi/JsonDepth.h"

#include <cmath>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <variant>

using nlohmann::json;

namespace mind {

namespace {

// One table drives parsing, printing and the "known key" check, so a field
// added to MiniMindConfig needs one line here.
using IntMember = int64_t MiniMindConfig::*;
using DoubleMember = double MiniMindConfig::*;
using BoolMember = bool MiniMindConfig::*;
using StringMember = std::string MiniMindConfig::*;
struct Field {
  const char *key;
  std::variant<IntMember, DoubleMember, BoolMember, StringMember> member;
};

const Field kFields[] = {
    {"hidden_size", &MiniMindConfig::hiddenSize},
    {"num_hidden_layers", &MiniMindConfig::numHiddenLayers},
    {"num_attention_heads", &MiniMindConfig::numAttentionHeads},
    {"num_key_value_heads", &MiniMindConfig::numKeyValueHeads},
    {"vocab_size", &MiniMindConfig::vocabSize},
    // intermediate_size (nullable) and rope_scaling (dict) are handled apart.
    {"hidden_act", &MiniMindConfig::hiddenAct},
    {"rms_norm_eps", &MiniMindConfig::rmsNormEps},
    {"rope_theta", &MiniMindConfig::ropeTheta},
    {"max_position_embeddings", &MiniMindConfig::maxPositionEmbeddings},
    {"inference_rope_scaling", &MiniMindConfig::inferenceRopeScaling},
    {"dropout", &MiniMindConfig::dropout},
    {"flash_attn", &MiniMindConfig::flashAttn},
    {"bos_token_id", &MiniMindConfig::bosTokenId},
    {"eos_token_id", &MiniMindConfig::eosTokenId},
    {"use_moe", &MiniMindConfig::useMoe},
    {"n_routed_experts", &MiniMindConfig::nRoutedExperts},
    {"num_experts_per_tok", &MiniMindConfig::numExpertsPerTok},
    {"n_shared_experts", &MiniMindConfig::nSharedExperts},
    {"scoring_func", &MiniMindConfig::scoringFunc},
    {"aux_loss_alpha", &MiniMindConfig::auxLossAlpha},
    {"seq_aux", &MiniMindConfig::seqAux},
    {"norm_topk_prob", &MiniMindConfig::normTopkProb},
};

// Keys Hugging Face's PretrainedConfig writes into MiniMind's config.json;
// they carry no model semantics here, so they are accepted silently.
const std::set<std::string> kHfKeys = {
    "architectures",
    "auto_map",
    "model_type",
    "torch_dtype",
    "dtype",
    "transformers_version",
    "_name_or_path",
    "pad_token_id",
    "use_cache",
    "tokenizer_class",
    "initializer_range",
    "_attn_implementation_autoset",
    "return_dict",
    "output_attentions",
    "output_hidden_states",
};

// Sizes are capped so that every product the compiler forms from two of them
// (e.g. vocab * hidden) stays far from int64 overflow.
constexpr int64_t kMaxSize = std::numeric_limits<int32_t>::max();
// Far above any MiniMind model (8-16 layers, 4-8 experts); they keep the IR
// of a config (one argument per weight) to a size that builds in seconds.
constexpr int64_t kMaxLayers = 1024;
constexpr int64_t kMaxExperts = 256;

class Reporter {
public:
  explicit Reporter(const std::string &file) : file_(file) {}
  [[noreturn]] void fail(const std::string &field,
                         const std::string &problem) const {
    throw ConfigError(file_ + ": field '" + field + "': " + problem);
  }
  std::string warning(const std::string &field,
                      const std::string &problem) const {
    return file_ + ": field '" + field + "': " + problem;
  }

private:
  std::string file_;
};

std::string describe(const json &v) {
  std::string text = v.dump();
  if (text.size() > 40)
    text = text.substr(0, 37) + "...";
  return std::string(v.type_name()) + " " + text;
}

int64_t asInt(const json &v, const std::string &key, const Reporter &r) {
  if (v.is_number_unsigned() &&
      v.get<uint64_t>() >
          static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    r.fail(key, "integer " + v.dump() + " is out of range");
  if (!v.is_number_integer())
    r.fail(key, "expected an integer, got " + describe(v));
  return v.get<int64_t>();
}

double asDouble(const json &v, const std::string &key, const Reporter &r) {
  if (!v.is_number())
    r.fail(key, "expected a number, got " + describe(v));
  return v.get<double>();
}

bool asBool(const json &v, const std::string &key, const Reporter &r) {
  if (!v.is_boolean())
    r.fail(key, "expected a boolean, got " + describe(v));
  return v.get<bool>();
}

std::string asString(const json &v, const std::string &key, const Reporter &r) {
  if (!v.is_string())
    r.fail(key, "expected a string, got " + describe(v));
  return v.get<std::string>();
}

// JSON text -> value, with file:line:column on syntax errors and duplicate
// keys rejected (nlohmann would silently keep the last one).
json parseJson(const std::string &text, const std::string &file) {
  std::vector<std::set<std::string>> keys;
  std::string duplicate;
  auto callback = [&](int depth, json::parse_event_t event, json &parsed) {
    if (depth > runtime::kMaxJsonDepth) // values are copied recursively
      throw ConfigError(file + ": " + runtime::jsonTooDeepProblem());
    if (event == json::parse_event_t::object_start)
      keys.emplace_back();
    else if (event == json::parse_event_t::object_end)
      keys.pop_back();
    else if (event == json::parse_event_t::key && duplicate.empty() &&
             !keys.empty() &&
             !keys.back().insert(parsed.get<std::string>()).second)
      duplicate = parsed.get<std::string>();
    return true;
  };
  json root;
  try {
    root = json::parse(text, callback);
  } catch (const json::parse_error &e) {
    // e.byte counts the characters read, the offending one included.
    size_t at = std::min<size_t>(e.byte ? e.byte - 1 : 0, text.size());
    size_t line = 1, lineStart = 0;
    for (size_t i = 0; i < at; ++i)
      if (text[i] == '\n') {
        ++line;
        lineStart = i + 1;
      }
    std::string detail = e.what();
    size_t colon = detail.find(": ", detail.find("column"));
    if (detail.find("column") != std::string::npos &&
        colon != std::string::npos)
      detail = detail.substr(colon + 2);
    throw ConfigError(file + ":" + std::to_string(line) + ":" +
                      std::to_string(at - lineStart + 1) +
                      ": JSON syntax error: " + detail);
  } catch (const json::exception &e) {
    // Valid syntax nlohmann cannot hold, e.g. a number such as 1e400.
    std::string detail = e.what();
    size_t bracket = detail.find("] ");
    throw ConfigError(file + ": invalid JSON: " +
                      (bracket == std::string::npos ? detail
                                                    : detail.substr(bracket + 2)));
  }
  if (!duplicate.empty())
    throw ConfigError(file + ": field '" + duplicate +
                      "': appears more than once");
  if (!root.is_object())
    throw ConfigError(file + ": the config must be a JSON object, got " +
                      describe(root));
  return root;
}

void parseRopeScaling(const json &v, MiniMindConfig &c, const Reporter &r,
                      std::vector<std::string> &warnings) {
  if (v.is_null())
    return;
  if (!v.is_object())
    r.fail("rope_scaling", "expected an object or null, got " + describe(v));
  RopeScaling &s = c.ropeScalingParams;
  for (auto it = v.begin(); it != v.end(); ++it) {
    const std::string &k = it.key();
    std::string key = "rope_scaling." + k;
    if (k == "type" || k == "rope_type")
      s.type = asString(*it, key, r);
    else if (k == "factor")
      s.factor = asDouble(*it, key, r);
    else if (k == "original_max_position_embeddings")
      s.originalMaxPositionEmbeddings = asInt(*it, key, r);
    else if (k == "beta_fast")
      s.betaFast = asDouble(*it, key, r);
    else if (k == "beta_slow")
      s.betaSlow = asDouble(*it, key, r);
    else if (k == "attention_factor")
      s.attentionFactor = asDouble(*it, key, r);
    else
      warnings.push_back(r.warning(key, "unknown field, ignored"));
  }
}

void checkSize(int64_t value, const char *key, const Reporter &r,
               int64_t limit = kMaxSize, const char *why = nullptr) {
  if (value <= 0)
    r.fail(key, "must be positive (got " + std::to_string(value) + ")");
  if (value > limit)
    r.fail(key, "must be at most " + std::to_string(limit) + " (got " +
                    std::to_string(value) + ")" +
                    (why ? std::string(": ") + why : std::string()));
}

std::string num(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

} // namespace

int64_t MiniMindConfig::resolvedIntermediateSize() const {
  if (intermediateSize)
    return *intermediateSize;
  // Python: int(H * 8 / 3), then rounded up to a multiple of 64. Integer
  // division equals the float truncation for positive H.
  int64_t raw = hiddenSize * 8 / 3;
  return 64 * ((raw + 64 - 1) / 64);
}

std::optional<RopeScaling> MiniMindConfig::ropeScaling() const {
  if (!inferenceRopeScaling)
    return std::nullopt;
  return ropeScalingParams;
}

ConfigParseResult parseConfig(const std::string &jsonText,
                              const std::string &fileName) {
  Reporter r(fileName);
  json root = parseJson(jsonText, fileName);
  ConfigParseResult result;
  MiniMindConfig &c = result.config;
  bool ropeScalingGiven = false;
  for (auto it = root.begin(); it != root.end(); ++it) {
    const std::string &key = it.key();
    const json &v = *it;
    const Field *field = nullptr;
    for (const Field &f : kFields)
      if (key == f.key)
        field = &f;
    if (field) {
      std::visit(
          [&](auto member) {
            using T = std::decay_t<decltype(c.*member)>;
            if constexpr (std::is_same_v<T, int64_t>)
              c.*member = asInt(v, key, r);
            else if constexpr (std::is_same_v<T, double>)
              c.*member = asDouble(v, key, r);
            else if constexpr (std::is_same_v<T, bool>)
              c.*member = asBool(v, key, r);
            else
              c.*member = asString(v, key, r);
          },
          field->member);
    } else if (key == "intermediate_size") {
      if (!v.is_null())
        c.intermediateSize = asInt(v, key, r);
    } else if (key == "rope_scaling") {
      parseRopeScaling(v, c, r, result.warnings);
      ropeScalingGiven = !v.is_null();
    } else if (key == "tie_word_embeddings") {
      // MiniMind always ties lm_head to the embedding; an untied config
      // would describe a different model.
      if (!asBool(v, key, r))
        r.fail(key, "MiniMind ties lm_head to embed_tokens; false is not "
                    "supported");
    } else if (!kHfKeys.count(key)) {
      result.warnings.push_back(r.warning(key, "unknown field, ignored"));
    }
  }
  if (ropeScalingGiven && !c.inferenceRopeScaling)
    result.warnings.push_back(r.warning(
        "rope_scaling", "ignored because inference_rope_scaling is false"));
  validateConfig(c, fileName);
  return result;
}

ConfigParseResult loadConfig(const std::string &path) {
  if (std::string problem = runtime::regularFileProblem(path, "config");
      !problem.empty())
    throw ConfigError(problem);
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw ConfigError(path + ": cannot open config file");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad())
    throw ConfigError(path + ": read failed");
  return parseConfig(text.str(), path);
}

void validateConfig(const MiniMindConfig &c, const std::string &fileName) {
  Reporter r(fileName);
  // Sizes first: the divisibility rules below divide by them.
  checkSize(c.hiddenSize, "hidden_size", r);
  checkSize(c.numHiddenLayers, "num_hidden_layers", r, kMaxLayers,
            "a limit of mindc's, far above any MiniMind model");
  checkSize(c.numAttentionHeads, "num_attention_heads", r);
  checkSize(c.numKeyValueHeads, "num_key_value_heads", r);
  checkSize(c.vocabSize, "vocab_size", r);
  if (c.intermediateSize)
    checkSize(*c.intermediateSize, "intermediate_size", r);
  checkSize(c.maxPositionEmbeddings, "max_position_embeddings", r);
  // Checked even for dense configs so that flipping use_moe never turns a
  // valid file into an invalid one.
  checkSize(c.nRoutedExperts, "n_routed_experts", r, kMaxExperts,
            "mindc's routing kernels count experts in shared memory");
  checkSize(c.numExpertsPerTok, "num_experts_per_tok", r);

  if (c.hiddenSize % c.numAttentionHeads != 0)
    r.fail("num_attention_heads",
           "hidden_size (" + std::to_string(c.hiddenSize) +
               ") must be divisible by num_attention_heads (" +
               std::to_string(c.numAttentionHeads) + ")");
  if (c.numAttentionHeads % c.numKeyValueHeads != 0)
    r.fail("num_key_value_heads",
           "num_attention_heads (" + std::to_string(c.numAttentionHeads) +
               ") must be divisible by num_key_value_heads (" +
               std::to_string(c.numKeyValueHeads) + ")");
  if (c.headDim() % 2 != 0)
    r.fail("hidden_size", "head_dim = hidden_size / num_attention_heads = " +
                              std::to_string(c.headDim()) +
                              " must be even (RoPE rotates pairs of lanes)");
  if (c.numExpertsPerTok > c.nRoutedExperts)
    r.fail("num_experts_per_tok", "num_experts_per_tok (" +
                                      std::to_string(c.numExpertsPerTok) +
                                      ") must not exceed n_routed_experts (" +
                                      std::to_string(c.nRoutedExperts) + ")");
  if (c.nSharedExperts < 0)
    r.fail("n_shared_experts", "must be non-negative (got " +
                                   std::to_string(c.nSharedExperts) + ")");
  if (c.nSharedExperts > kMaxExperts)
    r.fail("n_shared_experts", "must be at most " +
                                   std::to_string(kMaxExperts));
  // `!(x > 0)` also rejects NaN, which a hand-built config could carry.
  if (!(c.rmsNormEps > 0) || !std::isfinite(c.rmsNormEps))
    r.fail("rms_norm_eps", "must be positive (got " + num(c.rmsNormEps) + ")");
  // RoPE frequencies theta^(-2j/D) must decrease with j (and YaRN divides by
  // ln(theta)), so theta must exceed 1, as mind.rope_table's verifier says.
  if (!(c.ropeTheta > 1) || !std::isfinite(c.ropeTheta))
    r.fail("rope_theta",
           "must be greater than 1 (got " + num(c.ropeTheta) + ")");
  if (!(c.dropout >= 0 && c.dropout < 1))
    r.fail("dropout", "must be in [0, 1) (got " + num(c.dropout) + ")");
  if (c.hiddenAct != "silu")
    r.fail("hidden_act",
           "only \"silu\" is supported (got \"" + c.hiddenAct + "\")");
  if (c.scoringFunc != "softmax")
    r.fail("scoring_func",
           "only \"softmax\" is supported (got \"" + c.scoringFunc + "\")");
  if (!(c.auxLossAlpha >= 0) || !std::isfinite(c.auxLossAlpha))
    r.fail("aux_loss_alpha",
           "must be non-negative (got " + num(c.auxLossAlpha) + ")");
  if (c.bosTokenId < 0 || c.bosTokenId >= c.vocabSize)
    r.fail("bos_token_id", "must be in [0, vocab_size) (got " +
                               std::to_string(c.bosTokenId) + ")");
  if (c.eosTokenId < 0 || c.eosTokenId >= c.vocabSize)
    r.fail("eos_token_id", "must be in [0, vocab_size) (got " +
                               std::to_string(c.eosTokenId) + ")");

  const RopeScaling &s = c.ropeScalingParams;
  if (s.type != "yarn")
    r.fail("rope_scaling.type",
           "only \"yarn\" is supported (got \"" + s.type + "\")");
  if (!(s.factor > 0) || !std::isfinite(s.factor))
    r.fail("rope_scaling.factor",
           "must be positive (got " + num(s.factor) + ")");
  checkSize(s.originalMaxPositionEmbeddings,
            "rope_scaling.original_max_position_embeddings", r);
  if (!(s.attentionFactor > 0) || !std::isfinite(s.attentionFactor))
    r.fail("rope_scaling.attention_factor",
           "must be positive (got " + num(s.attentionFactor) + ")");
  // YaRN takes log(original_max / (2 pi beta)): both must be positive.
  if (!(s.betaFast > 0) || !std::isfinite(s.betaFast))
    r.fail("rope_scaling.beta_fast",
           "must be positive and finite (got " + num(s.betaFast) + ")");
  if (!(s.betaSlow > 0) || !std::isfinite(s.betaSlow))
    r.fail("rope_scaling.beta_slow",
           "must be positive and finite (got " + num(s.betaSlow) + ")");
}

json toJson(const MiniMindConfig &c) {
  json j = json::object();
  for (const Field &f : kFields)
    std::visit([&](auto member) { j[f.key] = c.*member; }, f.member);
  j["intermediate_size"] = c.resolvedIntermediateSize();
  if (std::optional<RopeScaling> s = c.ropeScaling())
    j["rope_scaling"] = {
        {"type", s->type},
        {"factor", s->factor},
        {"original_max_position_embeddings", s->originalMaxPositionEmbeddings},
        {"beta_fast", s->betaFast},
        {"beta_slow", s->betaSlow},
        {"attention_factor", s->attentionFactor}};
  else
    j["rope_scaling"] = nullptr;
  return j;
}

std::vector<std::pair<std::string, std::vector<int64_t>>>
parameterShapes(const MiniMindConfig &c) {
  const int64_t h = c.hiddenSize, d = c.headDim();
  const int64_t q = c.numAttentionHeads * d, kv = c.numKeyValueHeads * d;
  const int64_t inter = c.resolvedIntermediateSize();
  std::vector<std::pair<std::string, std::vector<int64_t>>> out;
  out.push_back({"model.embed_tokens.weight", {c.vocabSize, h}});
  auto ffn = [&](const std::string &prefix) {
    out.push_back({prefix + "gate_proj.weight", {inter, h}});
    out.push_back({prefix + "up_proj.weight", {inter, h}});
    out.push_back({prefix + "down_proj.weight", {h, inter}});
  };
  for (int64_t i = 0; i < c.numHiddenLayers; ++i) {
    std::string p = "model.layers." + std::to_string(i) + ".";
    out.push_back({p + "input_layernorm.weight", {h}});
    out.push_back({p + "self_attn.q_proj.weight", {q, h}});
    out.push_back({p + "self_attn.k_proj.weight", {kv, h}});
    out.push_back({p + "self_attn.v_proj.weight", {kv, h}});
    out.push_back({p + "self_attn.o_proj.weight", {h, q}});
    out.push_back({p + "post_attention_layernorm.weight", {h}});
    if (!c.useMoe) {
      ffn(p + "mlp.");
      continue;
    }
    out.push_back({p + "mlp.gate.weight", {c.nRoutedExperts, h}});
    for (int64_t e = 0; e < c.nRoutedExperts; ++e)
      ffn(p + "mlp.experts." + std::to_string(e) + ".");
    for (int64_t s = 0; s < c.nSharedExperts; ++s)
      ffn(p + "mlp.shared_experts." + std::to_string(s) + ".");
  }
  out.push_back({"model.norm.weight", {h}});
  return out;
}

int64_t parameterCount(const MiniMindConfig &c) {
  int64_t total = 0;
  for (const auto &[name, shape] : parameterShapes(c)) {
    int64_t n = 1;
    for (int64_t dim : shape)
      if (__builtin_mul_overflow(n, dim, &n))
        throw ConfigError("parameter '" + name + "' overflows int64");
    if (__builtin_add_overflow(total, n, &total))
      throw ConfigError("the parameter count overflows int64");
  }
  return total;
}

} // namespace mind
