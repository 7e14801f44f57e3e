//===- BpeTrainer.cpp - learn a byte-level BPE tokenizer ------------------===//

#include "mind/data/BpeTrainer.h"

#include "ByteLevel.h"
#include "mind/data/Tokenizer.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <queue>
#include <system_error>
#include <thread>
#include <unordered_map>

using namespace mind::runtime;

namespace {
using WordCounts = std::unordered_map<std::string, int64_t>;

uint64_t pairKey(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) |
         static_cast<uint32_t>(b);
}
int32_t pairLeft(uint64_t k) { return static_cast<int32_t>(k >> 32); }
int32_t pairRight(uint64_t k) { return static_cast<int32_t>(k & 0xffffffffu); }

struct HeapEntry {
  int64_t count;
  uint64_t pair;
  // Max-heap on count; on ties the smaller pair wins (HF's Merge ordering).
  bool operator<(const HeapEntry &o) const {
    return count != o.count ? count < o.count : pair > o.pair;
  }
};
} // namespace

struct BpeTrainer::Impl {
  BpeTrainerOptions opts;
  std::mutex mu;
  WordCounts words; // raw bytes of a pre-token -> occurrences

  void count(std::string_view text, WordCounts &into) const;
};

void BpeTrainer::Impl::count(std::string_view text, WordCounts &into) const {
  size_t bad;
  if (!isValidUtf8(text, &bad))
    throw TokenizerError("invalid UTF-8 at byte " + std::to_string(bad));
  std::vector<std::pair<size_t, size_t>> pieces;
  auto countSegment = [&](std::string_view seg) {
    pieces.clear();
    bytelevel::splitGpt2(seg, pieces);
    for (auto [b, e] : pieces)
      ++into[std::string(seg.substr(b, e - b))];
  };
  // Special tokens are cut out, like the added tokens when encoding.
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    for (const std::string &s : opts.specialTokens) {
      if (!s.empty() && text.compare(i, s.size(), s) == 0) {
        countSegment(text.substr(start, i - start));
        start = i + s.size();
        i = start - 1;
        break;
      }
    }
  }
  countSegment(text.substr(start));
}

BpeTrainer::BpeTrainer(BpeTrainerOptions options)
    : impl(std::make_unique<Impl>()) {
  impl->opts = std::move(options);
}
BpeTrainer::~BpeTrainer() = default;

void BpeTrainer::addText(std::string_view text) {
  WordCounts local;
  impl->count(text, local);
  std::lock_guard<std::mutex> lock(impl->mu);
  for (auto &[w, c] : local)
    impl->words[w] += c;
}

void BpeTrainer::addTexts(const std::vector<std::string> &texts,
                          unsigned threads) {
  if (threads == 0)
    threads = impl->opts.threads;
  if (threads == 0)
    threads = std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<size_t>(threads, texts.size()));
  std::atomic<size_t> next{0};
  std::exception_ptr error;
  std::mutex errorMu;
  auto work = [&] {
    WordCounts local;
    try {
      for (size_t i; (i = next++) < texts.size();)
        impl->count(texts[i], local);
    } catch (...) {
      std::lock_guard<std::mutex> lock(errorMu);
      if (!error)
        error = std::current_exception();
      return;
    }
    std::lock_guard<std::mutex> lock(impl->mu);
    for (auto &[w, c] : local)
      impl->words[w] += c;
  };
  std::vector<std::thread> pool;
  try {
    for (unsigned t = 1; t < threads; ++t)
      pool.emplace_back(work);
  } catch (const std::system_error &e) {
    // The threads already started stop at their next text and are joined
    // (not std::terminate on a joinable std::thread); what they counted
    // stays counted, as when a text is not valid UTF-8.
    next = texts.size();
    for (std::thread &t : pool)
      t.join();
    throw TokenizerError("cannot start " + std::to_string(threads) +
                         " threads: " + e.what());
  }
  work();
  for (std::thread &t : pool)
    t.join();
  if (error)
    std::rethrow_exception(error);
}

BpeTrainingResult BpeTrainer::train() const {
  const BpeTrainerOptions &opts = impl->opts;
  std::lock_guard<std::mutex> lock(impl->mu);

  // Vocabulary: specials, then the byte alphabet sorted by code point.
  std::vector<std::string> idToTok;
  std::unordered_map<std::string, int32_t> tokToId;
  auto addToken = [&](const std::string &t) {
    auto [it, inserted] =
        tokToId.emplace(t, static_cast<int32_t>(idToTok.size()));
    if (inserted)
      idToTok.push_back(t);
    return it->second;
  };
  for (const std::string &s : opts.specialTokens)
    addToken(s);
  std::vector<std::pair<uint32_t, int>> alphabet; // (code point, byte)
  for (int b = 0; b < 256; ++b) {
    std::vector<uint32_t> cp;
    bytelevel::decodeUtf8(bytelevel::byteToChar()[b], cp);
    alphabet.emplace_back(cp[0], b);
  }
  std::sort(alphabet.begin(), alphabet.end());
  int32_t byteId[256];
  for (auto [cp, b] : alphabet)
    byteId[b] = addToken(bytelevel::byteToChar()[b]);

  // Words sorted, so ids (and the result) do not depend on hash-map order.
  std::vector<std::pair<std::string, int64_t>> sorted(impl->words.begin(),
                                                      impl->words.end());
  std::sort(sorted.begin(), sorted.end());
  // Every word's symbols live in one array as a doubly linked list per word
  // (a merge unlinks the right symbol), and each pair keeps the positions
  // where it occurs: a merge then touches only the positions of its pair,
  // not whole words, so a long word costs as much as many short ones (a
  // rescan of each word per merge made a 2 MB word take close to a minute).
  constexpr uint32_t kNone = UINT32_MAX;
  size_t totalSymbols = 0;
  for (const auto &[w, c] : sorted)
    totalSymbols += w.size();
  if (totalSymbols >= kNone)
    throw TokenizerError("too many distinct words to train on (" +
                         std::to_string(totalSymbols) + " bytes in all)");
  std::vector<int32_t> sym(totalSymbols); // -1: merged into its left neighbour
  std::vector<uint32_t> prev(totalSymbols), next(totalSymbols),
      wordOf(totalSymbols);
  std::vector<int64_t> counts(sorted.size());
  struct PairInfo {
    int64_t count = 0;
    // Where the pair starts (left symbol), in no particular order; entries
    // go stale when a neighbouring merge changes the pair, and are checked
    // when used.
    std::vector<uint32_t> positions;
  };
  std::unordered_map<uint64_t, PairInfo> pairs;
  size_t at = 0;
  for (size_t i = 0; i < sorted.size(); ++i) {
    counts[i] = sorted[i].second;
    size_t n = sorted[i].first.size();
    for (size_t k = 0; k < n; ++k, ++at) {
      sym[at] = byteId[static_cast<unsigned char>(sorted[i].first[k])];
      prev[at] = k > 0 ? static_cast<uint32_t>(at - 1) : kNone;
      next[at] = k + 1 < n ? static_cast<uint32_t>(at + 1) : kNone;
      wordOf[at] = static_cast<uint32_t>(i);
      if (k > 0) {
        PairInfo &info = pairs[pairKey(sym[at - 1], sym[at])];
        info.count += counts[i];
        info.positions.push_back(static_cast<uint32_t>(at - 1));
      }
    }
  }
  std::priority_queue<HeapEntry> heap;
  for (auto &[p, info] : pairs)
    heap.push({info.count, p});

  std::vector<std::pair<int32_t, int32_t>> merges;
  std::unordered_map<uint64_t, int64_t> delta;
  while (static_cast<int32_t>(tokToId.size()) < opts.vocabSize &&
         !heap.empty()) {
    HeapEntry top = heap.top();
    heap.pop();
    auto pc = pairs.find(top.pair);
    int64_t current = pc == pairs.end() ? 0 : pc->second.count;
    if (current != top.count) { // stale entry
      if (current > 0)
        heap.push({current, top.pair});
      continue;
    }
    if (current < 1 || current < opts.minFrequency)
      break;
    int32_t a = pairLeft(top.pair), b = pairRight(top.pair);
    int32_t merged = addToken(idToTok[a] + idToTok[b]);
    merges.emplace_back(a, b);

    // Merge every occurrence, left to right in each word (positions follow
    // word order, so sorting them gives it: it matters when a == b, where
    // "aaa" becomes (aa)a), and record the pair count changes.
    delta.clear();
    std::vector<uint32_t> occurrences = std::move(pc->second.positions);
    pairs.erase(pc);
    std::sort(occurrences.begin(), occurrences.end());
    auto note = [&](int32_t x, int32_t y, int64_t d, uint32_t pos) {
      uint64_t p = pairKey(x, y);
      delta[p] += d;
      if (d > 0)
        pairs[p].positions.push_back(pos);
    };
    for (uint32_t i : occurrences) {
      uint32_t j = next[i];
      if (sym[i] != a || j == kNone || sym[j] != b)
        continue; // stale: a merge since changed this position
      int64_t c = counts[wordOf[i]];
      uint32_t before = prev[i], after = next[j];
      if (before != kNone) {
        note(sym[before], a, -c, before);
        note(sym[before], merged, c, before);
      }
      note(a, b, -c, i);
      if (after != kNone) {
        note(b, sym[after], -c, j);
        note(merged, sym[after], c, i);
        prev[after] = i;
      }
      sym[i] = merged;
      sym[j] = -1;
      next[i] = after;
    }
    for (auto &[p, d] : delta) {
      auto it = pairs.find(p);
      if (it == pairs.end()) // the merged pair itself, erased above
        continue;
      int64_t &cnt = it->second.count;
      cnt += d;
      if (cnt <= 0)
        pairs.erase(it);
      else if (d > 0)
        heap.push({cnt, p});
    }
  }

  // tokenizer.json in the layout `tokenizers` writes (and MiniMind ships).
  nlohmann::ordered_json j;
  j["version"] = "1.0";
  j["truncation"] = nullptr;
  j["padding"] = nullptr;
  j["added_tokens"] = nlohmann::ordered_json::array();
  for (const std::string &s : opts.specialTokens)
    j["added_tokens"].push_back({{"id", tokToId[s]},
                                 {"content", s},
                                 {"single_word", false},
                                 {"lstrip", false},
                                 {"rstrip", false},
                                 {"normalized", false},
                                 {"special", true}});
  j["normalizer"] = nullptr;
  j["pre_tokenizer"] = {{"type", "ByteLevel"},
                        {"add_prefix_space", false},
                        {"trim_offsets", true},
                        {"use_regex", true}};
  j["post_processor"] = nullptr;
  j["decoder"] = {{"type", "ByteLevel"},
                  {"add_prefix_space", true},
                  {"trim_offsets", true},
                  {"use_regex", true}};
  nlohmann::ordered_json model;
  model["type"] = "BPE";
  model["dropout"] = nullptr;
  model["unk_token"] = nullptr;
  model["continuing_subword_prefix"] = nullptr;
  model["end_of_word_suffix"] = nullptr;
  model["fuse_unk"] = false;
  model["byte_fallback"] = false;
  model["ignore_merges"] = false;
  nlohmann::ordered_json vocab = nlohmann::ordered_json::object();
  for (size_t id = 0; id < idToTok.size(); ++id)
    vocab[idToTok[id]] = id;
  model["vocab"] = std::move(vocab);
  nlohmann::ordered_json ms = nlohmann::ordered_json::array();
  for (auto [x, y] : merges)
    ms.push_back({idToTok[x], idToTok[y]});
  model["merges"] = std::move(ms);
  j["model"] = std::move(model);

  BpeTrainingResult r;
  r.json = j.dump(2, ' ', false);
  r.vocabSize = static_cast<int32_t>(idToTok.size());
  r.merges = static_cast<int64_t>(merges.size());
  r.distinctWords = static_cast<int64_t>(sorted.size());
  return r;
}
