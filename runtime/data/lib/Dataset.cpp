//===- Dataset.cpp - pretraining samples and loader over shards -----------===//

#include "mind/data/Dataset.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

using namespace mind::runtime;

namespace {
uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}
} // namespace

std::shared_ptr<const Dataset>
Dataset::open(const std::vector<std::string> &paths,
              const DatasetOptions &options) {
  if (options.maxLength < 2)
    throw DataError("max_length must be at least 2 (X and Y are shifted)");
  std::shared_ptr<Dataset> d(new Dataset());
  d->opts = options;
  for (const std::string &p : paths)
    for (const std::string &f : listShards(p))
      d->shardList.push_back(Shard::open(f, options.verify));
  if (d->shardList.empty())
    throw DataError("no shards given");
  const Shard &first = d->shardList.front();
  d->vocab = first.header().vocabSize;
  d->tokHash = first.header().tokenizerHash;
  for (const Shard &s : d->shardList) {
    if (s.header().vocabSize != d->vocab)
      throw DataError(s.path() + ": vocabulary size " +
                      std::to_string(s.header().vocabSize) + " differs from " +
                      first.path() + " (" + std::to_string(d->vocab) + ")");
    if (s.header().tokenizerHash != d->tokHash)
      throw DataError(s.path() + ": encoded with another tokenizer than " +
                      first.path());
    bool sep = options.packing && options.packSeparator >= 0;
    d->docBase.push_back(d->docBase.back() + s.numDocuments());
    d->tokenBase.push_back(d->tokenBase.back() + s.numTokens());
    d->streamBase.push_back(d->streamBase.back() + s.numTokens() +
                            (sep ? s.numDocuments() : 0));
  }
  if (options.expectVocab > 0 &&
      static_cast<int64_t>(d->vocab) != options.expectVocab)
    throw DataError(first.path() +
                    ": the data was tokenized with a "
                    "vocabulary of " +
                    std::to_string(d->vocab) + " tokens but the model has " +
                    std::to_string(options.expectVocab));
  if (options.packSeparator >= static_cast<int64_t>(d->vocab))
    throw DataError("the packing separator id is outside the vocabulary");
  uint64_t L = static_cast<uint64_t>(options.maxLength);
  d->samples = static_cast<int64_t>(
      options.packing ? (d->streamBase.back() + L - 1) / L : d->docBase.back());
  return d;
}

void Dataset::copyStream(uint64_t pos, int64_t count, int64_t *out) const {
  bool sep = opts.packing && opts.packSeparator >= 0;
  while (count > 0) {
    size_t s = std::upper_bound(streamBase.begin(), streamBase.end(), pos) -
               streamBase.begin() - 1;
    const Shard &sh = shardList[s];
    uint64_t local = pos - streamBase[s];
    int64_t n;
    if (!sep) {
      n = std::min<int64_t>(count, sh.numTokens() - local);
      sh.copyTokens(local, n, out);
    } else {
      // Document d occupies stream [start(d) + d, start(d + 1) + d + 1).
      uint64_t lo = 0, hi = sh.numDocuments();
      while (hi - lo > 1) {
        uint64_t mid = (lo + hi) / 2;
        if (sh.documentStart(mid) + mid <= local)
          lo = mid;
        else
          hi = mid;
      }
      uint64_t off = local - (sh.documentStart(lo) + lo);
      uint64_t len = sh.documentLength(lo);
      if (off < len) {
        n = std::min<int64_t>(count, len - off);
        sh.copyTokens(sh.documentStart(lo) + off, n, out);
      } else {
        n = 1;
        *out = opts.packSeparator;
      }
    }
    out += n;
    pos += n;
    count -= n;
  }
}

void Dataset::sample(int64_t i, int64_t *out) const {
  if (i < 0 || i >= samples)
    throw DataError("sample " + std::to_string(i) + " is outside [0, " +
                    std::to_string(samples) + ")");
  const int64_t L = opts.maxLength;
  int64_t n;
  if (opts.packing) {
    uint64_t pos = static_cast<uint64_t>(i) * L;
    n = std::min<int64_t>(L, streamBase.back() - pos);
    copyStream(pos, n, out);
  } else {
    size_t s = std::upper_bound(docBase.begin(), docBase.end(),
                                static_cast<uint64_t>(i)) -
               docBase.begin() - 1;
    const Shard &sh = shardList[s];
    uint64_t doc = i - docBase[s];
    n = std::min<int64_t>(L, sh.documentLength(doc));
    sh.copyTokens(sh.documentStart(doc), n, out);
  }
  std::fill(out + n, out + L, 0); // pad id 0
}

std::vector<int64_t> Dataset::sample(int64_t i) const {
  std::vector<int64_t> out(opts.maxLength);
  sample(i, out.data());
  return out;
}

int64_t mind::runtime::shuffledIndex(uint64_t seed, int64_t epoch,
                                     int64_t position, int64_t n) {
  if (n <= 1)
    return position;
  // A 6-round Feistel network on 2h >= log2(n) bits, cycle-walked into
  // [0, n): a bijection, so each epoch visits every sample exactly once.
  int bits = 64 - __builtin_clzll(static_cast<uint64_t>(n - 1));
  int half = (bits + 1) / 2;
  uint64_t mask = (uint64_t(1) << half) - 1;
  uint64_t key = splitmix64(
      seed ^ splitmix64(static_cast<uint64_t>(epoch) + 0x5EED5EED5EED5EEDULL));
  uint64_t x = static_cast<uint64_t>(position);
  do {
    uint64_t l = x >> half, r = x & mask;
    for (uint64_t round = 0; round < 6; ++round) {
      uint64_t f = splitmix64(r ^ key ^ (round * 0xD1B54A32D192ED03ULL)) & mask;
      uint64_t t = r;
      r = l ^ f;
      l = t;
    }
    x = (l << half) | r;
  } while (x >= static_cast<uint64_t>(n));
  return static_cast<int64_t>(x);
}

DistributedSampler::DistributedSampler(int64_t numSamples,
                                       SamplerOptions options)
    : n(numSamples), opts(options) {
  if (opts.worldSize < 1 || opts.rank < 0 || opts.rank >= opts.worldSize)
    throw DataError("rank " + std::to_string(opts.rank) +
                    " is outside world size " + std::to_string(opts.worldSize));
  int64_t w = opts.worldSize;
  perRank = opts.dropLast ? n / w : (n + w - 1) / w;
}

int64_t DistributedSampler::index(int64_t epoch, int64_t j) const {
  int64_t k = opts.rank + j * opts.worldSize;
  if (k >= n)
    k %= n; // torch pads by repeating the start of the order
  return opts.shuffle ? shuffledIndex(opts.seed, epoch, k, n) : k;
}

DataCursor mind::runtime::rescaleCursor(DataCursor c, int64_t fromWorld,
                                        int64_t toWorld) {
  return {c.epoch, c.sample * fromWorld / toWorld};
}

struct DataLoader::Prefetcher {
  struct Item {
    TokenBatch batch;
    bool endOfEpoch = false;
    DataCursor after;
  };
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Item> queue;
  bool stop = false;
  std::exception_ptr error;
  std::thread thread;
};

DataLoader::DataLoader(std::shared_ptr<const SampleSource> source,
                       LoaderOptions options, DataCursor start)
    : data(std::move(source)), opts(std::move(options)),
      sampler(data->numSamples(), opts.sampler), position(start),
      prefetcher(std::make_unique<Prefetcher>()) {
  if (opts.batchSize < 1)
    throw DataError("batch size must be positive");
  if (start.epoch < 0 || start.sample < 0)
    throw DataError("bad data cursor");
  size_t depth = std::max<size_t>(1, opts.prefetch);
  Prefetcher *p = prefetcher.get();
  p->thread = std::thread([this, p, depth, start] {
    DataCursor cur = start;
    const int64_t per = sampler.samplesPerRank(), B = opts.batchSize;
    try {
      for (;;) {
        Prefetcher::Item item;
        int64_t left = per - cur.sample;
        if (left <= 0 || (opts.dropLastBatch && left < B)) {
          item.endOfEpoch = true;
          cur = {cur.epoch + 1, 0};
        } else {
          item.batch = batchAt(cur);
          if (opts.stage)
            opts.stage(item.batch);
          cur.sample += item.batch.batch;
        }
        item.after = cur;
        std::unique_lock<std::mutex> lock(p->mu);
        p->cv.wait(lock, [&] { return p->stop || p->queue.size() < depth; });
        if (p->stop)
          return;
        p->queue.push_back(std::move(item));
        p->cv.notify_all();
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(p->mu);
      p->error = std::current_exception();
      p->cv.notify_all();
    }
  });
}

DataLoader::~DataLoader() {
  {
    std::lock_guard<std::mutex> lock(prefetcher->mu);
    prefetcher->stop = true;
    prefetcher->cv.notify_all();
  }
  prefetcher->thread.join();
}

int64_t DataLoader::batchesPerEpoch() const {
  int64_t per = sampler.samplesPerRank(), B = opts.batchSize;
  return opts.dropLastBatch ? per / B : (per + B - 1) / B;
}

bool DataLoader::next(TokenBatch &out) {
  Prefetcher &p = *prefetcher;
  std::unique_lock<std::mutex> lock(p.mu);
  p.cv.wait(lock, [&] { return p.error || !p.queue.empty(); });
  if (p.queue.empty())
    std::rethrow_exception(p.error);
  Prefetcher::Item item = std::move(p.queue.front());
  p.queue.pop_front();
  p.cv.notify_all();
  position = item.after;
  if (item.endOfEpoch)
    return false;
  out = std::move(item.batch);
  return true;
}

TokenBatch DataLoader::batchAt(DataCursor c) const {
  TokenBatch b;
  const int64_t L = data->maxLength();
  b.seq = L - 1;
  b.batch = std::max<int64_t>(
      0, std::min(opts.batchSize, sampler.samplesPerRank() - c.sample));
  b.ids.resize(b.batch * b.seq);
  b.targets.resize(b.batch * b.seq);
  b.mask.resize(b.batch * b.seq);
  std::vector<int64_t> s(L);
  for (int64_t r = 0; r < b.batch; ++r) {
    data->sample(sampler.index(c.epoch, c.sample + r), s.data());
    std::copy(s.begin(), s.end() - 1, b.ids.begin() + r * b.seq);
    std::copy(s.begin() + 1, s.end(), b.targets.begin() + r * b.seq);
    for (int64_t t = 1; t < L; ++t)
      b.mask[r * b.seq + t - 1] = s[t] != 0 ? 1 : 0;
  }
  return b;
}

LoaderOptions mind::runtime::trainerLoaderOptions(int64_t batchSize,
                                                  uint64_t seed, bool shuffle) {
  LoaderOptions o;
  o.batchSize = batchSize;
  o.sampler.seed = seed;
  o.sampler.shuffle = shuffle;
  o.dropLastBatch = true;
  o.prefetch = 4;
  return o;
}

void mind::runtime::nextTrainingBatch(DataLoader &loader, TokenBatch &out,
                                      int64_t epoch, int64_t sample) {
  auto where = [](DataCursor c) {
    return "epoch " + std::to_string(c.epoch) + " sample " +
           std::to_string(c.sample);
  };
  const DataCursor want{epoch, sample};
  DataCursor at = loader.cursor();
  if (!(at == want) && sample == 0 && at.epoch + 1 == epoch &&
      !loader.next(out))
    at = loader.cursor(); // stepped over the end of the previous epoch
  if (!(at == want))
    throw DataError("data loader at " + where(at) + ", the trainer expects " +
                    where(want));
  if (!loader.next(out))
    throw DataError("data loader: epoch " + std::to_string(epoch) +
                    " ended before sample " + std::to_string(sample));
}
