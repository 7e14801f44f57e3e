//===- TokenData.h - token samples for the trainers -------------*- C++ -*-===//
//
// What the trainers read: a SampleSource of fixed-length samples of token
// ids (padded with pad id 0), served as MiniMind's PretrainDataset does
// (X = ids[:-1], Y = ids[1:], mask = (ids != pad)[1:]) by the DataLoader of
// Dataset.h. Token shards stream from disk (Dataset); synthetic data and the
// small safetensors / text id files are held in memory (TokenSamples).
//
//===----------------------------------------------------------------------===//

#ifndef MIND_DATA_TOKENDATA_H
#define MIND_DATA_TOKENDATA_H

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mind::runtime {

/// One micro-step's inputs, each row-major [batch, seq].
struct TokenBatch {
  int64_t batch = 0, seq = 0;
  std::vector<int64_t> ids, targets, mask;
  /// The pinned slot holding a copy (PinnedBatches.h), or -1.
  int64_t stagedSlot = -1;
};

/// Samples of a fixed length, addressed by index: what the DataLoader
/// batches. Implementations are immutable and safe to read from several
/// threads.
class SampleSource {
public:
  virtual ~SampleSource() = default;
  virtual int64_t numSamples() const = 0;
  /// Tokens per sample (max_length; a batch row holds one fewer).
  virtual int64_t maxLength() const = 0;
  /// Writes sample i's maxLength() ids to `out`.
  virtual void sample(int64_t i, int64_t *out) const = 0;
};

/// Samples held in memory.
class TokenSamples : public SampleSource {
public:
  TokenSamples(std::vector<std::vector<int64_t>> samples, int64_t length);

  int64_t numSamples() const override {
    return static_cast<int64_t>(samples.size());
  }
  int64_t maxLength() const override { return length; }
  void sample(int64_t i, int64_t *out) const override;

private:
  std::vector<std::vector<int64_t>> samples;
  int64_t length;
};

/// Learnable synthetic data: each sample is an arithmetic progression of
/// token ids modulo the vocabulary (ids >= 3, clear of the special tokens),
/// with a random start and stride per sample.
std::shared_ptr<const TokenSamples>
syntheticSamples(int64_t count, int64_t length, int64_t vocab, uint64_t seed);

/// Samples from `path`:
///  - a token shard (*.mtok, or a directory of them; docs/Data.md): a
///    Dataset streaming from the shards, one sample per document,
///    truncated/padded to `length` (PretrainDataset); a shard of another
///    vocabulary size than `vocab` is rejected;
///  - a safetensors file with a 1-D integer tensor `tokens`, or a text file
///    of whitespace-separated ids: cut into samples of `length` tokens, the
///    last one padded with 0.
/// Throws std::runtime_error naming the file (and the line for text) on bad
/// input or ids >= vocab.
std::shared_ptr<const SampleSource>
openTokenSamples(const std::string &path, int64_t length, int64_t vocab);

} // namespace mind::runtime

#endif // MIND_DATA_TOKENDATA_H
