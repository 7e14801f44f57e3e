//===- Tokenizer.h - byte-level BPE tokenizer (HF tokenizer.json) -*- C++ -*-=//
//
// Loads a Hugging Face `tokenizer.json` whose model is BPE with a ByteLevel
// pre-tokenizer and decoder (GPT-2 style, as MiniMind's tokenizer) and
// encodes/decodes exactly as the `tokenizers` library does:
//   1. added tokens (e.g. <|im_start|>) are matched first, leftmost-longest;
//   2. the text between them is split by the GPT-2 regex (PCRE2, Unicode);
//   3. each piece's bytes become byte-level characters and BPE merges apply
//      by rank (lowest first, leftmost on ties).
// Decoding maps byte-level characters back to bytes and returns UTF-8 with
// ill-formed sequences replaced by U+FFFD (Rust's from_utf8_lossy).
//
// encode() is thread-safe; each thread keeps its own cache of word -> ids.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_DATA_TOKENIZER_H
#define MIND_DATA_TOKENIZER_H

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace mind::runtime {

/// Load errors (message starts with the file name) and invalid input.
class TokenizerError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// An entry of tokenizer.json's "added_tokens".
struct AddedToken {
  int32_t id = 0;
  std::string content;
  bool special = false, lstrip = false, rstrip = false;
};

class Tokenizer {
public:
  /// Reads and validates a tokenizer.json; throws TokenizerError naming the
  /// file and the unsupported or malformed field.
  static Tokenizer fromFile(const std::string &path);
  /// Same from JSON text; `name` is used in messages.
  static Tokenizer fromJson(std::string_view json,
                            const std::string &name = "<memory>");

  Tokenizer(Tokenizer &&) noexcept;
  Tokenizer &operator=(Tokenizer &&) noexcept;
  ~Tokenizer();

  /// Token ids of `text` (no BOS/EOS added, as MiniMind's pretraining).
  /// Throws TokenizerError if `text` is not valid UTF-8.
  std::vector<int32_t> encode(std::string_view text) const;
  /// Appends the ids of `text` to `out`.
  void encodeInto(std::string_view text, std::vector<int32_t> &out) const;
  /// Encodes many texts on `threads` threads (0: hardware concurrency).
  std::vector<std::vector<int32_t>>
  encodeBatch(const std::vector<std::string> &texts,
              unsigned threads = 0) const;

  /// The text of `ids`; unknown ids are skipped, special tokens are kept
  /// unless `skipSpecial`.
  std::string decode(const std::vector<int32_t> &ids,
                     bool skipSpecial = false) const;

  /// One past the largest id (6400 for MiniMind).
  int32_t vocabSize() const;
  std::optional<int32_t> tokenToId(std::string_view token) const;
  /// The token's spelling in tokenizer.json ("" for an unused id).
  const std::string &idToToken(int32_t id) const;
  const std::vector<AddedToken> &addedTokens() const;
  /// FNV-1a 64 of the JSON text: identifies the tokenizer in shard headers
  /// and checkpoints.
  uint64_t hash() const;
  /// The file it was loaded from (or the name given to fromJson).
  const std::string &source() const;

private:
  struct Impl;
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl;
};

/// True if `text` is valid UTF-8; otherwise `badOffset` (if given) receives
/// the offset of the first ill-formed byte.
bool isValidUtf8(std::string_view text, size_t *badOffset = nullptr);

} // namespace mind::runtime

#endif // MIND_DATA_TOKENIZER_H
