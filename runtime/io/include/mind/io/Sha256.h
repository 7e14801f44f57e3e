//===- Sha256.h - SHA-256 (FIPS 180-4) --------------------------*- C++ -*-===//
//
// A small portable SHA-256 for checkpoint integrity (config, tokenizer and
// tensor-data digests). Self-contained so the runtime needs no crypto
// library; it is not constant-time and is not meant for secrets.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_IO_SHA256_H
#define MIND_IO_SHA256_H

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mind::runtime {

class Sha256 {
public:
  Sha256();
  void update(const void *data, size_t size);
  void update(std::string_view text) { update(text.data(), text.size()); }
  /// The digest; the object must not be updated afterwards.
  std::array<uint8_t, 32> finish();
  /// The digest as 64 lowercase hex digits.
  std::string finishHex();

private:
  void block(const uint8_t *p);
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t bufLen_ = 0;
  uint64_t totalBytes_ = 0;
};

/// Lowercase hex SHA-256 of a byte string.
std::string sha256Hex(std::string_view bytes);
/// Lowercase hex SHA-256 of a file's contents; throws std::runtime_error
/// naming the file when it cannot be read.
std::string sha256FileHex(const std::string &path);

} // namespace mind::runtime

#endif // MIND_IO_SHA256_H
