//===- Config.h - MiniMind model configuration ------------------*- C++ -*-===//
//
// JSON -> validated MiniMindConfig (MINIMIND-SPEC section 1) and the parameter
// table it implies (section 2). Pure C++17 + nlohmann::json: no MLIR, so the
// runtime-side tools and tests can use it too.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_FRONTEND_CONFIG_H
#define MIND_FRONTEND_CONFIG_H

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace mind {

/// A rejected config. what() is "<file>: <problem>", and names the field:
/// "configs/x.json: field 'num_key_value_heads': num_attention_heads (8) must
/// be divisible by num_key_value_heads (3)"; syntax errors are
/// "<file>:<line>:<column>: ...".
class ConfigError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// YaRN RoPE scaling (MiniMind's rope_scaling dict), used when
/// inference_rope_scaling is true.
struct RopeScaling {
  std::string type = "yarn";
  double factor = 16.0;
  int64_t originalMaxPositionEmbeddings = 2048;
  double betaFast = 32.0;
  double betaSlow = 1.0;
  double attentionFactor = 1.0;
};

/// Every field of MiniMind's config (JSON key in the comment), with its
/// defaults. Build one by hand or with parseConfig(); validateConfig() checks
/// a hand-built one.
struct MiniMindConfig {
  int64_t hiddenSize = 512;                // hidden_size
  int64_t numHiddenLayers = 8;             // num_hidden_layers
  int64_t numAttentionHeads = 8;           // num_attention_heads
  int64_t numKeyValueHeads = 2;            // num_key_value_heads
  int64_t vocabSize = 6400;                // vocab_size
  std::optional<int64_t> intermediateSize; // intermediate_size (null: derived)
  std::string hiddenAct = "silu";          // hidden_act
  double rmsNormEps = 1e-5;                // rms_norm_eps
  double ropeTheta = 1e6;                  // rope_theta
  int64_t maxPositionEmbeddings = 32768;   // max_position_embeddings
  bool inferenceRopeScaling = false;       // inference_rope_scaling
  double dropout = 0.0;                    // dropout
  bool flashAttn = true;                   // flash_attn
  int64_t bosTokenId = 1;                  // bos_token_id
  int64_t eosTokenId = 2;                  // eos_token_id
  bool useMoe = false;                     // use_moe
  int64_t nRoutedExperts = 4;              // n_routed_experts
  int64_t numExpertsPerTok = 2;            // num_experts_per_tok
  int64_t nSharedExperts = 1;              // n_shared_experts
  std::string scoringFunc = "softmax";     // scoring_func
  double auxLossAlpha = 0.01;              // aux_loss_alpha
  bool seqAux = true;                      // seq_aux
  bool normTopkProb = true;                // norm_topk_prob
  /// rope_scaling overrides; the YaRN defaults apply when absent.
  RopeScaling ropeScalingParams;

  /// D = hidden_size / num_attention_heads.
  int64_t headDim() const { return hiddenSize / numAttentionHeads; }
  /// intermediate_size, or 64 * ceil(int(H*8/3) / 64) when null.
  int64_t resolvedIntermediateSize() const;
  /// The YaRN parameters when inference_rope_scaling is on, else nullopt
  /// (MiniMind's rope_scaling = {...} if inference_rope_scaling else None).
  std::optional<RopeScaling> ropeScaling() const;
};

/// Result of parsing: the config plus non-fatal warnings (unknown fields,
/// ignored settings), each "<file>: field '<name>': ...".
struct ConfigParseResult {
  MiniMindConfig config;
  std::vector<std::string> warnings;
};

/// Parses and validates a config. Missing fields take the defaults; unknown
/// fields are warnings, except well-known Hugging Face keys (model_type,
/// architectures, torch_dtype, ...) which are accepted silently. Throws
/// ConfigError on syntax, type or validation errors.
ConfigParseResult parseConfig(const std::string &jsonText,
                              const std::string &fileName);
/// Reads `path` and calls parseConfig (ConfigError if unreadable).
ConfigParseResult loadConfig(const std::string &path);

/// Checks every rule of the spec; throws ConfigError naming `fileName` and
/// the first offending field.
void validateConfig(const MiniMindConfig &config, const std::string &fileName);

/// The full config as MiniMind's JSON keys, intermediate_size resolved and
/// rope_scaling null or the YaRN dict. parseConfig(toJson(c)) == c.
nlohmann::json toJson(const MiniMindConfig &config);

/// Every parameter as (PyTorch state_dict name, shape), in model order:
/// model.embed_tokens.weight (tied to lm_head, listed once), per layer
/// input_layernorm, self_attn.{q,k,v,o}_proj, post_attention_layernorm, the
/// mlp (dense: gate/up/down_proj; MoE: gate, experts.e.*, shared_experts.s.*),
/// then model.norm.weight.
std::vector<std::pair<std::string, std::vector<int64_t>>>
parameterShapes(const MiniMindConfig &config);

/// Sum of the element counts of parameterShapes() (25,829,888 for the
/// defaults). Throws ConfigError on int64 overflow.
int64_t parameterCount(const MiniMindConfig &config);

} // namespace mind

#endif // MIND_FRONTEND_CONFIG_H
