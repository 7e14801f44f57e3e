//===- TokenData.h - token samples for the trainers -------------*- C++ -*-===//
//
// Minimal pretraining data: fixed-length samples of token ids, padded with
// pad id 0, served as MiniMind's PretrainDataset does (X = ids[:-1],
// Y = ids[1:], mask = (ids != pad)[1:]), all held in memory. Dataset.h is
// the streaming loader over token shards (mind-data encode).
//
//===----------------------------------------------------------------------===//

#ifndef MIND_RUNTIME_TOKENDATA_H
#define MIND_RUNTIME_TOKENDATA_H

#include <cstdint>
#include <string>
#include <vector>

namespace mind::runtime {

/// One micro-step's inputs, each row-major [batch, seq].
struct TokenBatch {
  int64_t batch = 0, seq = 0;
  std::vector<int64_t> ids, targets, mask;
};

class TokenSamples {
public:
  TokenSamples(std::vector<std::vector<int64_t>> samples, int64_t length)
      : samples(std::move(samples)), length(length) {}

  int64_t numSamples() const { return static_cast<int64_t>(samples.size()); }
  int64_t sampleLength() const { return length; }

  /// The sample order of `epoch`: a permutation that depends only on
  /// (seed, epoch), so a run is reproducible.
  std::vector<int64_t> epochOrder(uint64_t seed, int64_t epoch) const;

  /// Samples order[first .. first+count) as one batch.
  TokenBatch batch(const std::vector<int64_t> &order, int64_t first,
                   int64_t count) const;

private:
  std::vector<std::vector<int64_t>> samples;
  int64_t length;
};

/// Learnable synthetic data: each sample is an arithmetic progression of
/// token ids modulo the vocabulary (ids >= 3, clear of the special tokens),
/// with a random start and stride per sample.
TokenSamples syntheticSamples(int64_t count, int64_t length, int64_t vocab,
                              uint64_t seed);

/// Samples from `path`:
///  - a token shard (*.mtok, or a directory of them; docs/Data.md): one
///    sample per document, truncated/padded to `length` (PretrainDataset);
///    a shard of another vocabulary size than `vocab` is rejected;
///  - a safetensors file with a 1-D integer tensor `tokens`, or a text file
///    of whitespace-separated ids: cut into samples of `length` tokens, the
///    last one padded with 0.
/// Throws std::runtime_error naming the file (and the line for text) on bad
/// input or ids >= vocab.
TokenSamples loadTokenSamples(const std::string &path, int64_t length,
                              int64_t vocab);

} // namespace mind::runtime

#endif // MIND_RUNTIME_TOKENDATA_H
