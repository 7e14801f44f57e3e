//===- TokenizerImpl.h - tokenizer internals (not installed) ----*- C++ -*-===//
//
// Shared by Tokenizer.cpp (encode/decode) and TokenizerLoad.cpp (reading
// tokenizer.json).
//
//===----------------------------------------------------------------------===//

#ifndef MIND_RUNTIME_SRC_TOKENIZERIMPL_H
#define MIND_RUNTIME_SRC_TOKENIZERIMPL_H

#include "mind/data/Tokenizer.h"

#include <nlohmann/json.hpp>

#include <climits>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace mind::runtime {
namespace tokenizer_detail {
constexpr int32_t kNoRank = INT32_MAX;

// (left id, right id) -> (rank, merged id): the hottest lookup of encoding,
// so a flat open-addressing table rather than std::unordered_map.
class MergeTable {
public:
  void reserve(size_t n) {
    size_t cap = 16;
    while (cap < 2 * n)
      cap *= 2;
    keys.assign(cap, kEmpty);
    vals.assign(cap, {kNoRank, -1});
    mask = cap - 1;
  }
  // A pair set twice keeps the last value (as HF's HashMap built from the
  // merges list).
  void set(int32_t a, int32_t b, int32_t rank, int32_t id) {
    uint64_t k = key(a, b);
    size_t i = slot(k);
    while (keys[i] != kEmpty && keys[i] != k)
      i = (i + 1) & mask;
    keys[i] = k;
    vals[i] = {rank, id};
  }
  // Rank and result of merging (a, b), or kNoRank.
  std::pair<int32_t, int32_t> get(int32_t a, int32_t b) const {
    uint64_t k = key(a, b);
    for (size_t i = slot(k);; i = (i + 1) & mask) {
      if (keys[i] == k)
        return vals[i];
      if (keys[i] == kEmpty)
        return {kNoRank, -1};
    }
  }

private:
  static constexpr uint64_t kEmpty = ~0ULL;
  static uint64_t key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) |
           static_cast<uint32_t>(b);
  }
  size_t slot(uint64_t k) const {
    return static_cast<size_t>((k * 0x9E3779B97F4A7C15ULL) >> 20) & mask;
  }
  std::vector<uint64_t> keys;
  std::vector<std::pair<int32_t, int32_t>> vals;
  size_t mask = 0;
};
} // namespace tokenizer_detail

struct Tokenizer::Impl {
  std::string name, emptyToken;
  uint64_t instanceId = 0, jsonHash = 0;
  std::unordered_map<std::string, int32_t> vocab; // model + added tokens
  std::vector<std::string> tokens;                // id -> spelling
  std::vector<std::string> tokenBytes;            // id -> decoded bytes
  std::vector<uint8_t> special;
  tokenizer_detail::MergeTable merges;
  int32_t byteIds[256];
  std::vector<AddedToken> added;
  std::vector<std::vector<int>> addedByFirstByte; // longest first
  bool addPrefixSpace = false, byteLevelDecoder = true;

  void load(const nlohmann::json &j);
  void encodeSegment(std::string_view text, std::vector<int32_t> &out) const;
  void encodeWord(std::string_view bytes, std::vector<int32_t> &out) const;
  void mergeNaive(std::vector<int32_t> &s) const;
  void mergeHeap(std::vector<int32_t> &s) const;
};

} // namespace mind::runtime

#endif // MIND_RUNTIME_SRC_TOKENIZERIMPL_H
