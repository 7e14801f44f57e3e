//===- Tokenizer.cpp - byte-level BPE tokenizer ---------------------------===//

#include "mind/data/Tokenizer.h"

#include "ByteLevel.h"
#include "TokenizerImpl.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <queue>
#include <system_error>
#include <thread>

using namespace mind::runtime;
using namespace mind::runtime::tokenizer_detail;

namespace {
// Words longer than this (in bytes) merge with a heap instead of rescanning.
constexpr size_t kHeapMergeThreshold = 48;
// The per-thread word cache: direct-mapped, one 64-byte line per word, so a
// lookup costs one memory access (a node-based map costs several misses,
// more than merging a short word). Longer words are not cached.
constexpr size_t kCacheEntries = 1 << 13; // 512 KiB per thread
struct alignas(64) CacheEntry {
  uint32_t tag = 0; // 0: empty
  uint8_t keyLen = 0, count = 0;
  char key[26];
  int32_t ids[8];
};
static_assert(sizeof(CacheEntry) == 64, "one cache line per word");

uint64_t hashWord(std::string_view w) {
  uint64_t h = 0x9E3779B97F4A7C15ULL ^ w.size();
  for (size_t i = 0; i < w.size(); i += 8) {
    uint64_t chunk = 0;
    std::memcpy(&chunk, w.data() + i, std::min<size_t>(8, w.size() - i));
    h = (h ^ chunk) * 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 31;
  }
  return h;
}

struct Scratch {
  uint64_t owner = 0;
  std::vector<CacheEntry> cache;
  std::vector<std::pair<size_t, size_t>> pieces;
  std::vector<int32_t> syms;
  void reset(uint64_t id) {
    owner = id;
    cache.assign(kCacheEntries, CacheEntry());
  }
};
thread_local Scratch tls;

bool isWhitespaceByte(unsigned char c) {
  return c == ' ' || (c >= '\t' && c <= '\r');
}
} // namespace

// Keeps the rank of each adjacent pair and rescans for the minimum: for short
// words this beats a heap, and only the two pairs next to a merge change.
void Tokenizer::Impl::mergeNaive(std::vector<int32_t> &s) const {
  size_t n = s.size();
  if (n < 2)
    return;
  int32_t rank[kHeapMergeThreshold], result[kHeapMergeThreshold];
  auto look = [&](size_t i) {
    auto [r, id] = merges.get(s[i], s[i + 1]);
    rank[i] = r;
    result[i] = id;
  };
  for (size_t i = 0; i + 1 < n; ++i)
    look(i);
  while (n > 1) {
    size_t at = 0;
    for (size_t i = 1; i + 1 < n; ++i)
      if (rank[i] < rank[at])
        at = i;
    if (rank[at] == kNoRank)
      break;
    s[at] = result[at];
    for (size_t i = at + 1; i + 1 < n; ++i) {
      s[i] = s[i + 1];
      rank[i] = rank[i + 1];
      result[i] = result[i + 1];
    }
    --n;
    if (at > 0)
      look(at - 1);
    if (at + 1 < n)
      look(at);
  }
  s.resize(n);
}

// HF's Word::merge_all: a min-heap of (rank, position) over a linked list;
// stale entries are skipped when popped.
void Tokenizer::Impl::mergeHeap(std::vector<int32_t> &s) const {
  size_t n = s.size();
  std::vector<int32_t> prev(n), next(n);
  std::vector<uint8_t> alive(n, 1);
  for (size_t i = 0; i < n; ++i) {
    prev[i] = static_cast<int32_t>(i) - 1;
    next[i] = i + 1 < n ? static_cast<int32_t>(i + 1) : -1;
  }
  struct Entry {
    int32_t rank, pos, id;
    bool operator>(const Entry &o) const {
      return rank != o.rank ? rank > o.rank : pos > o.pos;
    }
  };
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap;
  auto push = [&](int32_t pos) {
    if (pos < 0 || next[pos] < 0)
      return;
    auto [r, id] = merges.get(s[pos], s[next[pos]]);
    if (r != kNoRank)
      heap.push({r, pos, id});
  };
  for (size_t i = 0; i + 1 < n; ++i)
    push(static_cast<int32_t>(i));
  while (!heap.empty()) {
    Entry e = heap.top();
    heap.pop();
    if (!alive[e.pos] || next[e.pos] < 0)
      continue;
    int32_t right = next[e.pos];
    auto [r, id] = merges.get(s[e.pos], s[right]);
    if (r != e.rank || id != e.id)
      continue; // the pair changed since this entry was pushed
    s[e.pos] = id;
    alive[right] = 0;
    next[e.pos] = next[right];
    if (next[right] >= 0)
      prev[next[right]] = e.pos;
    push(prev[e.pos]);
    push(e.pos);
  }
  size_t w = 0;
  for (size_t i = 0; i < n; ++i)
    if (alive[i])
      s[w++] = s[i];
  s.resize(w);
}

void Tokenizer::Impl::encodeWord(std::string_view bytes,
                                 std::vector<int32_t> &out) const {
  if (bytes.size() == 1 && byteIds[static_cast<unsigned char>(bytes[0])] >= 0) {
    out.push_back(byteIds[static_cast<unsigned char>(bytes[0])]);
    return;
  }
  Scratch &sc = tls;
  CacheEntry *slot = nullptr;
  uint32_t tag = 0;
  if (bytes.size() <= sizeof(CacheEntry::key)) {
    uint64_t h = hashWord(bytes);
    slot = &sc.cache[h & (kCacheEntries - 1)];
    tag = static_cast<uint32_t>(h >> 32) | 1;
    if (slot->tag == tag && slot->keyLen == bytes.size() &&
        std::memcmp(slot->key, bytes.data(), bytes.size()) == 0) {
      out.insert(out.end(), slot->ids, slot->ids + slot->count);
      return;
    }
  }
  std::vector<int32_t> &s = sc.syms;
  s.clear();
  for (unsigned char b : bytes)
    if (byteIds[b] >= 0) // HF drops chars missing from the vocab (no unk)
      s.push_back(byteIds[b]);
  if (s.size() <= kHeapMergeThreshold)
    mergeNaive(s);
  else
    mergeHeap(s);
  out.insert(out.end(), s.begin(), s.end());
  if (slot && s.size() <= sizeof(CacheEntry::ids) / sizeof(int32_t)) {
    slot->tag = tag;
    slot->keyLen = static_cast<uint8_t>(bytes.size());
    slot->count = static_cast<uint8_t>(s.size());
    std::memcpy(slot->key, bytes.data(), bytes.size());
    std::copy(s.begin(), s.end(), slot->ids);
  }
}

void Tokenizer::Impl::encodeSegment(std::string_view text,
                                    std::vector<int32_t> &out) const {
  if (text.empty())
    return;
  std::string withSpace;
  if (addPrefixSpace && text[0] != ' ') {
    withSpace = " " + std::string(text);
    text = withSpace;
  }
  std::vector<std::pair<size_t, size_t>> &pieces = tls.pieces;
  pieces.clear();
  bytelevel::splitGpt2(text, pieces);
  for (size_t i = 0; i < pieces.size(); ++i)
    encodeWord(text.substr(pieces[i].first, pieces[i].second - pieces[i].first),
               out);
}

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer &&) noexcept = default;
Tokenizer &Tokenizer::operator=(Tokenizer &&) noexcept = default;
Tokenizer::~Tokenizer() = default;

void Tokenizer::encodeInto(std::string_view text,
                           std::vector<int32_t> &out) const {
  size_t bad;
  if (!isValidUtf8(text, &bad))
    throw TokenizerError("invalid UTF-8 at byte " + std::to_string(bad));
  if (tls.owner != impl->instanceId)
    tls.reset(impl->instanceId);
  const Impl &im = *impl;
  size_t segStart = 0, i = 0;
  while (i < text.size()) {
    const auto &cands =
        im.addedByFirstByte[static_cast<unsigned char>(text[i])];
    const AddedToken *hit = nullptr;
    for (int c : cands) {
      const std::string &t = im.added[c].content;
      if (text.compare(i, t.size(), t) == 0) {
        hit = &im.added[c];
        break;
      }
    }
    if (!hit) {
      ++i;
      continue;
    }
    size_t segEnd = i, after = i + hit->content.size();
    if (hit->lstrip)
      while (segEnd > segStart &&
             isWhitespaceByte(static_cast<unsigned char>(text[segEnd - 1])))
        --segEnd;
    if (hit->rstrip)
      while (after < text.size() &&
             isWhitespaceByte(static_cast<unsigned char>(text[after])))
        ++after;
    im.encodeSegment(text.substr(segStart, segEnd - segStart), out);
    out.push_back(hit->id);
    segStart = i = after;
  }
  im.encodeSegment(text.substr(segStart), out);
}

std::vector<int32_t> Tokenizer::encode(std::string_view text) const {
  std::vector<int32_t> out;
  encodeInto(text, out);
  return out;
}

std::vector<std::vector<int32_t>>
Tokenizer::encodeBatch(const std::vector<std::string> &texts,
                       unsigned threads) const {
  std::vector<std::vector<int32_t>> out(texts.size());
  if (threads == 0)
    threads = std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(
      std::min<size_t>(threads, std::max<size_t>(1, texts.size() / 16)));
  std::atomic<size_t> next{0};
  std::exception_ptr error;
  std::atomic<bool> failed{false};
  auto work = [&] {
    constexpr size_t kChunk =
        16; // small enough to balance, big enough to amortize
    try {
      for (size_t b; !failed && (b = next.fetch_add(kChunk)) < texts.size();)
        for (size_t i = b; i < std::min(b + kChunk, texts.size()); ++i)
          encodeInto(texts[i], out[i]);
    } catch (...) {
      if (!failed.exchange(true))
        error = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  try {
    for (unsigned t = 1; t < threads; ++t)
      pool.emplace_back(work);
  } catch (const std::system_error &e) {
    // The threads already started stop at their next chunk; joining them
    // (not std::terminate on a joinable std::thread) before reporting.
    failed = true;
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
  return out;
}

std::string Tokenizer::decode(const std::vector<int32_t> &ids,
                              bool skipSpecial) const {
  const Impl &im = *impl;
  std::string bytes;
  bool first = true;
  for (int32_t id : ids) {
    if (id < 0 || id >= static_cast<int32_t>(im.tokens.size()) ||
        (im.tokens[id].empty()) || (skipSpecial && im.special[id]))
      continue;
    if (!im.byteLevelDecoder && !first)
      bytes += ' '; // HF joins tokens with spaces when there is no decoder
    bytes += im.tokenBytes[id];
    first = false;
  }
  return bytelevel::lossyUtf8(bytes);
}

int32_t Tokenizer::vocabSize() const {
  return static_cast<int32_t>(impl->tokens.size());
}

std::optional<int32_t> Tokenizer::tokenToId(std::string_view token) const {
  auto it = impl->vocab.find(std::string(token));
  if (it == impl->vocab.end())
    return std::nullopt;
  return it->second;
}

const std::string &Tokenizer::idToToken(int32_t id) const {
  if (id < 0 || id >= static_cast<int32_t>(impl->tokens.size()))
    return impl->emptyToken;
  return impl->tokens[id];
}

const std::vector<AddedToken> &Tokenizer::addedTokens() const {
  return impl->added;
}
uint64_t Tokenizer::hash() const { return impl->jsonHash; }
const std::string &Tokenizer::source() const { return impl->name; }

bool mind::runtime::isValidUtf8(std::string_view text, size_t *badOffset) {
  size_t at = bytelevel::firstInvalidUtf8(text);
  if (badOffset)
    *badOffset = at;
  return at == std::string_view::npos;
}
