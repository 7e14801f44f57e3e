//===- Shard.h - token shard files -------------------------------*- C++
//-*-===//
//
// A token shard holds the token ids of whole documents and an index of where
// each document starts (format: docs/Data.md). Little-endian:
//
//   offset  size  field
//        0     8  magic "MINDTOKS"
//        8     4  version (1)
//       12     4  header size (64)
//       16     4  vocabulary size (every id is below it)
//       20     4  bytes per token: 2 (u16) or 4 (u32)
//       24     8  document count D
//       32     8  token count T
//       40     8  tokenizer hash (FNV-1a 64 of tokenizer.json; 0: unknown)
//       48     8  checksum: FNV-1a 64 of every byte after the header
//       56     8  reserved (0)
//       64  T*b   tokens, documents back to back
//        …   0-7  zero padding to a multiple of 8
//        …  8D+8  index: D+1 u64 token offsets, 0 first and T last
//
// The reader memory-maps the file and validates all of it (sizes exact,
// index monotone, ids below the vocabulary, checksum) before use.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_DATA_SHARD_H
#define MIND_DATA_SHARD_H

#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

namespace mind::runtime {

/// Bad shard or corpus input; the message starts with the file name.
class DataError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

struct ShardHeader {
  static constexpr char kMagic[9] = "MINDTOKS";
  static constexpr uint32_t kVersion = 1;
  static constexpr uint32_t kSize = 64;
  uint32_t version = kVersion;
  uint32_t vocabSize = 0;
  uint32_t tokenBytes = 2;
  uint64_t documents = 0;
  uint64_t tokens = 0;
  uint64_t tokenizerHash = 0;
  uint64_t checksum = 0;
};

/// Writes one shard: to `path + ".tmp"` while streaming, then header, fsync
/// and rename, so a shard that exists is complete. Token ids are checked
/// against the vocabulary. Memory: the index (8 bytes per document).
class ShardWriter {
public:
  ShardWriter(const std::string &path, uint32_t vocabSize,
              uint64_t tokenizerHash);
  ~ShardWriter(); ///< removes the temporary file unless finish() ran
  ShardWriter(const ShardWriter &) = delete;
  ShardWriter &operator=(const ShardWriter &) = delete;

  void addDocument(const int32_t *ids, size_t count);
  void finish();

  uint64_t documents() const { return offsets.size() - 1; }
  uint64_t tokens() const { return offsets.back(); }
  const std::string &path() const { return finalPath; }

private:
  void write(const void *data, size_t size);
  std::string finalPath, tmpPath;
  std::FILE *file = nullptr;
  ShardHeader header;
  std::vector<uint64_t> offsets{0};
  std::vector<unsigned char> buffer;
  bool finished = false;
};

/// A read-only, memory-mapped, validated shard.
class Shard {
public:
  /// Throws DataError naming the file and the first violation found.
  /// `verify` also checks the checksum and every id (one pass over the data).
  static Shard open(const std::string &path, bool verify = true);
  Shard(Shard &&) noexcept;
  Shard &operator=(Shard &&) noexcept;
  ~Shard();

  const ShardHeader &header() const { return hdr; }
  const std::string &path() const { return filePath; }
  uint64_t numDocuments() const { return hdr.documents; }
  uint64_t numTokens() const { return hdr.tokens; }
  /// Token offset of document `i` (i == numDocuments() gives numTokens()).
  uint64_t documentStart(uint64_t i) const;
  uint64_t documentLength(uint64_t i) const {
    return documentStart(i + 1) - documentStart(i);
  }
  /// Copies tokens [first, first + count) of the shard's token stream.
  void copyTokens(uint64_t first, uint64_t count, int64_t *out) const;
  std::vector<int32_t> document(uint64_t i) const;

private:
  Shard() = default;
  std::string filePath;
  ShardHeader hdr;
  const unsigned char *base = nullptr;
  size_t size = 0;
  const unsigned char *indexBase = nullptr;
};

/// FNV-1a 64 (the shard checksum and tokenizer hash), continuing from `h`.
uint64_t fnv1a64(const void *data, size_t size,
                 uint64_t h = 0xcbf29ce484222325ULL);

/// The shard files a path names: the file itself, or a directory's *.mtok
/// files in name order.
std::vector<std::string> listShards(const std::string &path);

} // namespace mind::runtime

#endif // MIND_DATA_SHARD_H
