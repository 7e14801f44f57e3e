//===- ShardFuzz.cpp - deterministic fuzzing of token shard loading -------===//
//
// Mutants of token shards written by ShardWriter (u16 and u32 tokens) fed to
// Shard::open (with verification) and to Dataset::open without it, reading
// every sample. Each must load, with every document inside the file, or
// throw DataError naming the file. Most mutants get their checksum fixed up
// so that the checks behind it (sizes, index, ids) are reached.
//
//===----------------------------------------------------------------------===//

#include "FuzzSupport.h"

#include "mind/data/Dataset.h"
#include "mind/data/Shard.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace mind::runtime;
using namespace mind::fuzz;

namespace {

constexpr size_t kHeader = ShardHeader::kSize;

uint64_t u64At(const Bytes &b, size_t at) {
  uint64_t v = 0;
  std::memcpy(&v, &b[at], 8);
  return v;
}

// Header fields, then the index entries of `seed` (8 bytes each).
std::vector<Field> fieldsOf(const Bytes &seed) {
  std::vector<Field> f = {
      {8, 4, "version"},         {12, 4, "header size"}, {16, 4, "vocab size"},
      {20, 4, "token bytes"},    {24, 8, "documents"},   {32, 8, "tokens"},
      {40, 8, "tokenizer hash"}, {48, 8, "checksum"},    {56, 8, "reserved"}};
  uint64_t docs = u64At(seed, 24);
  size_t index = seed.size() - 8 * (docs + 1);
  static const char *kIndex = "index entry";
  for (uint64_t i = 0; i <= docs; ++i)
    f.push_back({index + 8 * i, 8, kIndex});
  return f;
}

// The checksum a writer would store for these bytes.
void fixChecksum(Bytes &b) {
  if (b.size() < kHeader)
    return;
  uint64_t sum = fnv1a64(b.data() + kHeader, b.size() - kHeader);
  std::memcpy(&b[48], &sum, 8);
}

// One mutant of `seed`: raw bytes, a header or index field, a token id at
// the vocabulary's edge, or counts with the file resized to match them.
Bytes mutateShard(Mutator &m, const Bytes &seed, std::string &desc) {
  Bytes b = seed;
  std::vector<Field> fields = fieldsOf(seed);
  uint32_t vocab, width;
  std::memcpy(&vocab, &seed[16], 4);
  std::memcpy(&width, &seed[20], 4);
  uint64_t tokens = u64At(seed, 32);
  bool fix = true;
  switch (m.below(6)) {
  case 0:
  case 1:
    desc = m.havoc(b, fields);
    fix = m.chance(50);
    break;
  case 2:
  case 3: {
    const Field &f = m.pick(fields);
    desc = m.setField(b, f);
    fix = f.offset != 48 && m.chance(85);
    break;
  }
  case 4: {
    if (tokens == 0) {
      desc = m.havoc(b, fields);
      break;
    }
    size_t at = m.below(tokens);
    const uint32_t ids[] = {vocab, vocab - 1, vocab + 1, 0xFFFF, 0xFFFFFFFF};
    uint32_t id = ids[m.below(std::size(ids))];
    std::memcpy(&b[kHeader + width * at], &id, width);
    desc = "token " + std::to_string(at) + " := " + std::to_string(id);
    break;
  }
  default: {
    // Counts that agree with the file's size, so the index checks run.
    uint64_t docs = m.chance(50) ? u64At(seed, 24) : m.below(8);
    uint64_t toks = m.chance(50) ? tokens : m.below(64);
    const uint32_t widths[] = {2, 4, width};
    uint32_t w = widths[m.below(3)];
    uint64_t dataEnd = (kHeader + toks * w + 7) & ~uint64_t(7);
    b.resize(dataEnd + 8 * (docs + 1));
    std::memcpy(&b[20], &w, 4);
    std::memcpy(&b[24], &docs, 8);
    std::memcpy(&b[32], &toks, 8);
    std::string index;
    for (uint64_t i = 0; i <= docs; ++i) {
      const uint64_t choices[] = {
          toks * i / (docs ? docs : 1), i, toks, toks + 1, UINT64_MAX, 0};
      uint64_t v = i == 0 ? 0 : i == docs ? toks : choices[m.below(6)];
      std::memcpy(&b[dataEnd + 8 * i], &v, 8);
      index += (i ? "," : "") + std::to_string(v);
    }
    desc = "resize to " + std::to_string(docs) + " documents, " +
           std::to_string(toks) + " tokens of " + std::to_string(w) +
           " bytes, index [" + index.substr(0, 80) + "]";
  }
  }
  if (fix) {
    fixChecksum(b);
    desc += " (checksum fixed)";
  }
  return b;
}

void checkShard(const Shard &s) {
  uint64_t total = 0, prev = 0;
  for (uint64_t i = 0; i < s.numDocuments(); ++i) {
    uint64_t start = s.documentStart(i), len = s.documentLength(i);
    FUZZ_SANE(start == prev && start + len <= s.numTokens(),
              "document " + std::to_string(i) + " lies outside the tokens");
    for (int32_t id : s.document(i))
      FUZZ_SANE(static_cast<uint32_t>(id) < s.header().vocabSize,
                "a verified shard holds id " + std::to_string(id));
    total += len;
    prev = start + len;
  }
  FUZZ_SANE(total == s.numTokens(), "documents do not cover the tokens");
}

} // namespace

TEST(LoaderFuzz, Shards) {
  TempDir dir;
  std::vector<std::pair<std::string, Bytes>> seeds;
  auto writeSeed = [&](const std::string &name, uint32_t vocab,
                       const std::vector<std::vector<int32_t>> &docs) {
    ShardWriter w(dir.file(name), vocab, 0x1234);
    for (const auto &d : docs)
      w.addDocument(d.data(), d.size());
    w.finish();
    seeds.push_back({name, readFile(dir.file(name))});
  };
  writeSeed("u16 seed", 300,
            {{5, 6, 7}, {}, {9}, {10, 11, 12, 13, 14, 15, 16, 17, 18, 299}});
  writeSeed("u32 seed", 70000, {{65535, 65536, 69999}, {0}, {1, 2}});
  std::vector<std::vector<size_t>> marks;
  for (const auto &[name, b] : seeds)
    marks.push_back({kHeader, b.size() - 8 * (u64At(b, 24) + 1)});

  std::string path = dir.file("mutant.mtok");
  Tally open("Shard::open (verify)"),
      dataset("Dataset::open (no verify) + every sample");
  forEachMutant(
      0x5A4D5EEDULL, seeds, marks, 80, 8000,
      [&](Mutator &m, std::string &desc) {
        const auto &[name, seed] = seeds[m.below(seeds.size())];
        Bytes b = mutateShard(m, seed, desc);
        desc = name + ": " + desc;
        return b;
      },
      [&](size_t index, uint64_t s, const std::string &desc, const Bytes &b) {
        writeFile(path, b);
        open.run<DataError>(index, s, desc, path, b.size(),
                            [&] { checkShard(Shard::open(path, true)); });
        // Unverified, the index alone must keep every read inside the file;
        // half the mutants are read packed (with a separator).
        dataset.run<DataError>(index, s, desc, path, b.size(), [&] {
          DatasetOptions o;
          o.maxLength = 5;
          o.verify = false;
          o.packing = index % 2 == 1;
          o.packSeparator = index % 4 == 1 ? 0 : -1;
          auto d = Dataset::open({path}, o);
          FUZZ_SANE(static_cast<uint64_t>(d->numSamples()) <= b.size(),
                    "more samples than bytes");
          for (int64_t i = 0; i < d->numSamples(); ++i)
            d->sample(i);
        });
      });
  open.print(30);
  dataset.print(20);
}
