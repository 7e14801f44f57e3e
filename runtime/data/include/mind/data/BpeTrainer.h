//===- BpeTrainer.h - learn a byte-level BPE tokenizer ----------*- C++ -*-===//
//
// Learns a byte-level BPE the way Hugging Face's BpeTrainer does for
// MiniMind (ByteLevel pre-tokenizer, the 256 byte characters as the initial
// alphabet, special tokens first): ids 0.. are the special tokens, then the
// byte alphabet sorted by code point, then one token per merge. Each step
// merges the most frequent adjacent pair (ties: the smallest pair of ids).
// The result is a tokenizer.json that Tokenizer and HF `tokenizers` load.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_DATA_BPETRAINER_H
#define MIND_DATA_BPETRAINER_H

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mind::runtime {

struct BpeTrainerOptions {
  /// Total vocabulary, special tokens and the 256 byte tokens included.
  int32_t vocabSize = 6400;
  /// Ids 0, 1, 2, ... (MiniMind: pad/eos, bos, eos of chat turns).
  std::vector<std::string> specialTokens = {"<|endoftext|>", "<|im_start|>",
                                            "<|im_end|>"};
  /// Pairs seen fewer times than this are never merged.
  int64_t minFrequency = 0;
  /// Word counting threads (0: hardware concurrency).
  unsigned threads = 0;
};

struct BpeTrainingResult {
  std::string json;      ///< the tokenizer.json text
  int32_t vocabSize = 0; ///< may be below the target on tiny corpora
  int64_t merges = 0;
  int64_t distinctWords = 0; ///< distinct pre-tokens counted
};

class BpeTrainer {
public:
  explicit BpeTrainer(BpeTrainerOptions options = {});
  ~BpeTrainer();
  BpeTrainer(const BpeTrainer &) = delete;
  BpeTrainer &operator=(const BpeTrainer &) = delete;

  /// Counts the pre-tokens of `text` (special tokens in it are not learned).
  /// Throws TokenizerError on invalid UTF-8.
  void addText(std::string_view text);
  /// Same for many texts, on `threads` threads (0: options.threads).
  void addTexts(const std::vector<std::string> &texts, unsigned threads = 0);

  /// Runs the merges; the counts are kept, so train() may be called again.
  BpeTrainingResult train() const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl;
};

} // namespace mind::runtime

#endif // MIND_DATA_BPETRAINER_H
