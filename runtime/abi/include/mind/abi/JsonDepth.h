//===- JsonDepth.h - how deep read JSON may nest ----------------*- C++ -*-===//
//
// nlohmann::json parses any nesting (its parser keeps its own stack) but
// copies, compares and prints values recursively: a 200 KB file of 100,000
// nested arrays, parsed fine, overflows the stack as soon as a reader copies
// or quotes the value. Every reader of a JSON file (configs, safetensors
// headers, checkpoint metadata, tokenizer.json, bundle plans) therefore
// parses with a callback that rejects values nested deeper than this.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_ABI_JSONDEPTH_H
#define MIND_ABI_JSONDEPTH_H

#include <string>

namespace mind::runtime {

/// The deepest nesting accepted: serde_json's default, so the reference
/// (Rust) safetensors and tokenizers readers refuse such files too. The
/// files of this project nest at most 5 levels.
inline constexpr int kMaxJsonDepth = 128;

/// The problem, for messages: "JSON nested deeper than 128 levels".
inline std::string jsonTooDeepProblem() {
  return "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels";
}

/// A parser callback for nlohmann::json::parse that calls `tooDeep()` (it
/// must throw) at the first value nested deeper than kMaxJsonDepth.
template <typename Json, typename TooDeep>
auto depthLimitedCallback(TooDeep tooDeep) {
  return [tooDeep](int depth, typename Json::parse_event_t, Json &) {
    if (depth > kMaxJsonDepth)
      tooDeep();
    return true;
  };
}

} // namespace mind::runtime

#endif // MIND_ABI_JSONDEPTH_H
