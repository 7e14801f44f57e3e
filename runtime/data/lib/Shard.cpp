//===- Shard.cpp - token shard files --------------------------------------===//

#include "mind/data/Shard.h"

#include "ByteLevel.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace mind::runtime;
namespace fs = std::filesystem;

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "shards are little-endian; this reader maps them directly");

namespace {
[[noreturn]] void fail(const std::string &path, const std::string &msg) {
  throw DataError(path + ": " + msg);
}

template <typename T> void put(unsigned char *at, T v) {
  std::memcpy(at, &v, sizeof(T));
}
template <typename T> T get(const unsigned char *at) {
  T v;
  std::memcpy(&v, at, sizeof(T));
  return v;
}

void encodeHeader(const ShardHeader &h, unsigned char out[64]) {
  std::memset(out, 0, 64);
  std::memcpy(out, ShardHeader::kMagic, 8);
  put<uint32_t>(out + 8, h.version);
  put<uint32_t>(out + 12, ShardHeader::kSize);
  put<uint32_t>(out + 16, h.vocabSize);
  put<uint32_t>(out + 20, h.tokenBytes);
  put<uint64_t>(out + 24, h.documents);
  put<uint64_t>(out + 32, h.tokens);
  put<uint64_t>(out + 40, h.tokenizerHash);
  put<uint64_t>(out + 48, h.checksum);
}

uint64_t align8(uint64_t x) { return (x + 7) & ~uint64_t(7); }
} // namespace

uint64_t mind::runtime::fnv1a64(const void *data, size_t size, uint64_t h) {
  return bytelevel::fnv1a64(data, size, h);
}

ShardWriter::ShardWriter(const std::string &path, uint32_t vocabSize,
                         uint64_t tokenizerHash)
    : finalPath(path), tmpPath(path + ".tmp") {
  if (vocabSize == 0)
    fail(path, "vocabulary size must be positive");
  header.vocabSize = vocabSize;
  header.tokenBytes = vocabSize <= 65536 ? 2 : 4;
  header.tokenizerHash = tokenizerHash;
  header.checksum = 0xcbf29ce484222325ULL; // FNV-1a offset basis
  file = std::fopen(tmpPath.c_str(), "wb");
  if (!file)
    fail(tmpPath, std::string("cannot create: ") + std::strerror(errno));
  // Placeholder (outside the checksum): the real header comes last.
  unsigned char placeholder[64] = {};
  if (std::fwrite(placeholder, 1, 64, file) != 64)
    fail(tmpPath, std::string("write failed: ") + std::strerror(errno));
}

ShardWriter::~ShardWriter() {
  if (file)
    std::fclose(file);
  if (!finished)
    std::remove(tmpPath.c_str());
}

void ShardWriter::write(const void *data, size_t n) {
  header.checksum = fnv1a64(data, n, header.checksum);
  if (std::fwrite(data, 1, n, file) != n)
    fail(tmpPath, std::string("write failed: ") + std::strerror(errno));
}

void ShardWriter::addDocument(const int32_t *ids, size_t count) {
  buffer.resize(count * header.tokenBytes);
  for (size_t i = 0; i < count; ++i) {
    if (ids[i] < 0 || static_cast<uint32_t>(ids[i]) >= header.vocabSize)
      fail(finalPath, "token id " + std::to_string(ids[i]) +
                          " is outside the vocabulary [0, " +
                          std::to_string(header.vocabSize) + ")");
    if (header.tokenBytes == 2)
      put<uint16_t>(&buffer[2 * i], static_cast<uint16_t>(ids[i]));
    else
      put<uint32_t>(&buffer[4 * i], static_cast<uint32_t>(ids[i]));
  }
  write(buffer.data(), buffer.size());
  offsets.push_back(offsets.back() + count);
}

void ShardWriter::finish() {
  header.documents = documents();
  header.tokens = tokens();
  uint64_t dataEnd = ShardHeader::kSize + header.tokens * header.tokenBytes;
  unsigned char zeros[8] = {};
  write(zeros, align8(dataEnd) - dataEnd);
  write(offsets.data(), offsets.size() * sizeof(uint64_t));
  unsigned char h[64];
  encodeHeader(header, h);
  if (std::fseek(file, 0, SEEK_SET) != 0 || std::fwrite(h, 1, 64, file) != 64 ||
      std::fflush(file) != 0 || fsync(fileno(file)) != 0)
    fail(tmpPath, std::string("write failed: ") + std::strerror(errno));
  std::fclose(file);
  file = nullptr;
  if (std::rename(tmpPath.c_str(), finalPath.c_str()) != 0)
    fail(finalPath, std::string("cannot rename the temporary file: ") +
                        std::strerror(errno));
  finished = true;
  // Make the rename itself durable.
  std::string dir = fs::path(finalPath).parent_path().string();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    fsync(dfd);
    ::close(dfd);
  }
}

Shard::Shard(Shard &&o) noexcept { *this = std::move(o); }
Shard &Shard::operator=(Shard &&o) noexcept {
  if (this != &o) {
    if (base)
      munmap(const_cast<unsigned char *>(base), size);
    filePath = std::move(o.filePath);
    hdr = o.hdr;
    base = o.base;
    size = o.size;
    indexBase = o.indexBase;
    o.base = nullptr;
    o.size = 0;
  }
  return *this;
}
Shard::~Shard() {
  if (base)
    munmap(const_cast<unsigned char *>(base), size);
}

Shard Shard::open(const std::string &path, bool verify) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    fail(path, errno == ENOENT
                   ? std::string("no such file")
                   : std::string("cannot open: ") + std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    ::close(fd);
    fail(path, "cannot stat");
  }
  // A directory opens, then fails to map ("No such device"); a pipe cannot
  // be mapped either.
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    fail(path, S_ISDIR(st.st_mode) ? "is a directory, expected a shard file"
                                   : "not a regular file, expected a shard "
                                     "file");
  }
  Shard s;
  s.filePath = path;
  s.size = static_cast<size_t>(st.st_size);
  if (s.size < ShardHeader::kSize) {
    ::close(fd);
    fail(path,
         "too small for a shard header (" + std::to_string(s.size) + " bytes)");
  }
  void *m = mmap(nullptr, s.size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (m == MAP_FAILED)
    fail(path, std::string("cannot map: ") + std::strerror(errno));
  s.base = static_cast<const unsigned char *>(m);

  const unsigned char *b = s.base;
  if (std::memcmp(b, ShardHeader::kMagic, 8) != 0)
    fail(path, "not a token shard (bad magic)");
  ShardHeader &h = s.hdr;
  h.version = get<uint32_t>(b + 8);
  if (h.version != ShardHeader::kVersion)
    fail(path, "unsupported shard version " + std::to_string(h.version));
  if (get<uint32_t>(b + 12) != ShardHeader::kSize)
    fail(path, "bad header size " + std::to_string(get<uint32_t>(b + 12)));
  h.vocabSize = get<uint32_t>(b + 16);
  h.tokenBytes = get<uint32_t>(b + 20);
  h.documents = get<uint64_t>(b + 24);
  h.tokens = get<uint64_t>(b + 32);
  h.tokenizerHash = get<uint64_t>(b + 40);
  h.checksum = get<uint64_t>(b + 48);
  if (h.tokenBytes != 2 && h.tokenBytes != 4)
    fail(path, "bad token width " + std::to_string(h.tokenBytes));
  if (h.vocabSize == 0 || (h.tokenBytes == 2 && h.vocabSize > 65536))
    fail(path, "vocabulary size " + std::to_string(h.vocabSize) +
                   " does not fit the token width");
  // Exact size, computed without overflow.
  const uint64_t maxCount = (uint64_t(1) << 56);
  if (h.tokens > maxCount || h.documents > maxCount)
    fail(path, "counts in the header are implausible");
  uint64_t indexOffset = align8(ShardHeader::kSize + h.tokens * h.tokenBytes);
  uint64_t expected = indexOffset + (h.documents + 1) * 8;
  if (expected != s.size)
    fail(path, "size is " + std::to_string(s.size) + " bytes, the header (" +
                   std::to_string(h.documents) + " documents, " +
                   std::to_string(h.tokens) + " tokens) implies " +
                   std::to_string(expected) + " (truncated or trailing bytes)");
  s.indexBase = b + indexOffset;
  if (s.documentStart(0) != 0 || s.documentStart(h.documents) != h.tokens)
    fail(path, "the index does not span the tokens");
  for (uint64_t i = 0; i < h.documents; ++i)
    if (s.documentStart(i + 1) < s.documentStart(i))
      fail(path, "the index decreases at document " + std::to_string(i));
  if (verify) {
    uint64_t sum = fnv1a64(b + ShardHeader::kSize, s.size - ShardHeader::kSize);
    if (sum != h.checksum)
      fail(path, "checksum mismatch (corrupted data)");
    const unsigned char *t = b + ShardHeader::kSize;
    for (uint64_t i = 0; i < h.tokens; ++i) {
      uint32_t id = h.tokenBytes == 2 ? get<uint16_t>(t + 2 * i)
                                      : get<uint32_t>(t + 4 * i);
      if (id >= h.vocabSize)
        fail(path, "token #" + std::to_string(i) + " = " + std::to_string(id) +
                       " is outside the vocabulary");
    }
  }
  return s;
}

uint64_t Shard::documentStart(uint64_t i) const {
  return get<uint64_t>(indexBase + 8 * i);
}

void Shard::copyTokens(uint64_t first, uint64_t count, int64_t *out) const {
  const unsigned char *t = base + ShardHeader::kSize;
  if (hdr.tokenBytes == 2)
    for (uint64_t i = 0; i < count; ++i)
      out[i] = get<uint16_t>(t + 2 * (first + i));
  else
    for (uint64_t i = 0; i < count; ++i)
      out[i] = get<uint32_t>(t + 4 * (first + i));
}

std::vector<int32_t> Shard::document(uint64_t i) const {
  uint64_t start = documentStart(i), n = documentLength(i);
  std::vector<int64_t> tmp(n);
  copyTokens(start, n, tmp.data());
  return std::vector<int32_t>(tmp.begin(), tmp.end());
}

std::vector<std::string> mind::runtime::listShards(const std::string &path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec))
    return {path};
  std::vector<std::string> out;
  for (const auto &e : fs::directory_iterator(path, ec))
    if (e.is_regular_file() && e.path().extension() == ".mtok")
      out.push_back(e.path().string());
  if (ec)
    fail(path, "cannot list: " + ec.message());
  std::sort(out.begin(), out.end());
  if (out.empty())
    fail(path, "directory holds no .mtok shards");
  return out;
}
