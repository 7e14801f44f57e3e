//===- Dataset.h - pretraining samples and loader over shards ----*- C++
//-*-===//
//
// MiniMind's PretrainDataset over token shards (MINIMIND-SPEC §4): sample i
// is document i truncated / padded with pad id 0 to max_length; a batch
// holds X = ids[:-1], Y = ids[1:], mask = (ids != pad)[1:]. Packing mode
// instead concatenates all documents (optionally with a separator id) and
// cuts the stream into max_length chunks, so nothing is padded but the last.
//
// Order: sample position p of epoch e is a pure function of (seed, e, p) (a
// keyed permutation, no state). DistributedSampler semantics: rank r of W
// takes positions r, r+W, r+2W, ... of the epoch's order, padded like
// torch by wrapping to the beginning when W does not divide the count.
//
// DataLoader prefetches batches on a background thread into a bounded
// queue; its cursor (epoch, samples consumed) is saved with checkpoints and
// restores the exact next batch.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_DATA_DATASET_H
#define MIND_DATA_DATASET_H

#include "mind/data/Shard.h"
#include "mind/data/TokenData.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mind::runtime {

struct DatasetOptions {
  int64_t maxLength = 512;
  /// Concatenate documents and cut into max_length chunks.
  bool packing = false;
  /// Packing only: id appended after each document (-1: none).
  int32_t packSeparator = -1;
  /// Verify each shard's checksum and ids at open (one pass over the data).
  bool verify = true;
  /// If > 0, shards of another vocabulary size are rejected (the model's).
  int64_t expectVocab = 0;
};

class Dataset : public SampleSource {
public:
  /// `paths`: shard files or directories of *.mtok files. All shards must
  /// share the vocabulary size and tokenizer hash.
  static std::shared_ptr<const Dataset>
  open(const std::vector<std::string> &paths, const DatasetOptions &options);

  int64_t numSamples() const override { return samples; }
  int64_t maxLength() const override { return opts.maxLength; }
  const DatasetOptions &options() const { return opts; }
  uint32_t vocabSize() const { return vocab; }
  uint64_t tokenizerHash() const { return tokHash; }
  uint64_t numDocuments() const { return docBase.back(); }
  uint64_t numTokens() const { return tokenBase.back(); }
  const std::vector<Shard> &shards() const { return shardList; }

  /// Writes sample i's maxLength() ids to `out`.
  void sample(int64_t i, int64_t *out) const override;
  std::vector<int64_t> sample(int64_t i) const;

private:
  Dataset() = default;
  void copyStream(uint64_t pos, int64_t count, int64_t *out) const;
  DatasetOptions opts;
  std::vector<Shard> shardList;
  std::vector<uint64_t> docBase{0}, tokenBase{0}, streamBase{0};
  uint32_t vocab = 0;
  uint64_t tokHash = 0;
  int64_t samples = 0;
};

/// Position -> index under a keyed pseudo-random permutation of [0, n):
/// a pure function of (seed, epoch, position).
int64_t shuffledIndex(uint64_t seed, int64_t epoch, int64_t position,
                      int64_t n);

struct SamplerOptions {
  uint64_t seed = 42;
  bool shuffle = true;
  int64_t rank = 0, worldSize = 1;
  /// torch's drop_last: drop the tail instead of wrapping.
  bool dropLast = false;
};

/// torch.utils.data.DistributedSampler's partition of an epoch's order.
class DistributedSampler {
public:
  DistributedSampler(int64_t numSamples, SamplerOptions options);
  /// Samples each rank sees per epoch (torch's num_samples).
  int64_t samplesPerRank() const { return perRank; }
  /// Dataset index of this rank's j-th sample of `epoch`.
  int64_t index(int64_t epoch, int64_t j) const;
  const SamplerOptions &options() const { return opts; }

private:
  int64_t n, perRank;
  SamplerOptions opts;
};

/// The loader's position: the epoch and how many samples this rank has
/// taken from it. The global position is sample * worldSize.
struct DataCursor {
  int64_t epoch = 0;
  int64_t sample = 0;
  bool operator==(const DataCursor &o) const {
    return epoch == o.epoch && sample == o.sample;
  }
};

/// The cursor for another world size at the same global position (rounded
/// down), as MiniMind rescales its step: sample * from / to.
DataCursor rescaleCursor(DataCursor c, int64_t fromWorld, int64_t toWorld);

struct LoaderOptions {
  int64_t batchSize = 32;
  SamplerOptions sampler;
  /// Drop an epoch's last partial batch (torch DataLoader drop_last).
  bool dropLastBatch = false;
  /// Batches prepared ahead by the background thread.
  size_t prefetch = 4;
  /// Runs on the prefetch thread on each finished batch: the hook where the
  /// CUDA backend copies into pinned memory and starts the upload.
  std::function<void(TokenBatch &)> stage;
};

class DataLoader {
public:
  /// Batches of `source` (a Dataset, or TokenSamples in memory).
  DataLoader(std::shared_ptr<const SampleSource> source, LoaderOptions options,
             DataCursor start = {});
  ~DataLoader();
  DataLoader(const DataLoader &) = delete;
  DataLoader &operator=(const DataLoader &) = delete;

  int64_t batchesPerEpoch() const;
  /// The next batch of the current epoch, or false when the epoch is over;
  /// the cursor then moves to the start of the next epoch.
  bool next(TokenBatch &out);
  /// Where the next batch starts (save this; restore by passing it back).
  DataCursor cursor() const { return position; }

  /// The batch starting at `c` without the prefetcher (for checks).
  TokenBatch batchAt(DataCursor c) const;

private:
  struct Prefetcher;
  std::shared_ptr<const SampleSource> data;
  LoaderOptions opts;
  DistributedSampler sampler;
  DataCursor position;
  std::unique_ptr<Prefetcher> prefetcher;
};

/// The trainers' loader settings: one rank of one, shuffled by `seed`
/// unless `shuffle` is false, and the last partial batch of each epoch
/// dropped (a compiled plan has one batch shape; MiniMind's loader would
/// train it). Prefetch depth 4; `stage` unset.
LoaderOptions trainerLoaderOptions(int64_t batchSize, uint64_t seed,
                                   bool shuffle);

/// The trainers' read: the batch starting at sample `sample` of `epoch`,
/// stepping over the end of the previous epoch if the loader is there.
/// Throws DataError when the loader is anywhere else (a trainer bug).
void nextTrainingBatch(DataLoader &loader, TokenBatch &out, int64_t epoch,
                       int64_t sample);

} // namespace mind::runtime

#endif // MIND_DATA_DATASET_H
