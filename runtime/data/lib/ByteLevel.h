//===- ByteLevel.h - byte-level BPE building blocks (internal) --*- C++ -*-===//
//
// Shared by the tokenizer and the BPE trainer: GPT-2's byte-to-unicode map,
// UTF-8 helpers and the GPT-2 pre-tokenizer split regex (PCRE2, JIT-compiled
// once, matched with per-thread match data).
//
//===----------------------------------------------------------------------===//

#ifndef MIND_RUNTIME_SRC_BYTELEVEL_H
#define MIND_RUNTIME_SRC_BYTELEVEL_H

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mind::runtime::bytelevel {

/// The UTF-8 spelling of the unicode character GPT-2 assigns to each byte.
const std::array<std::string, 256> &byteToChar();

/// The byte a byte-level character stands for, or -1 when `cp` is not one.
int charToByte(uint32_t cp);

/// Byte-level spelling of raw bytes (each byte -> its character).
std::string encodeBytes(std::string_view bytes);

/// Decodes the UTF-8 string `s` into code points; false if `s` is not valid
/// UTF-8.
bool decodeUtf8(std::string_view s, std::vector<uint32_t> &out);

/// Appends the UTF-8 encoding of `cp`.
void appendUtf8(std::string &out, uint32_t cp);

/// Offset of the first byte that is not part of valid UTF-8, or npos.
size_t firstInvalidUtf8(std::string_view s);

/// Like Rust's String::from_utf8_lossy: each maximal ill-formed subpart
/// becomes U+FFFD (what Hugging Face's ByteLevel decoder returns).
std::string lossyUtf8(std::string_view bytes);

/// 64-bit FNV-1a, used for file identities (tokenizer hash, shard checksum).
uint64_t fnv1a64(const void *data, size_t size,
                 uint64_t seed = 0xcbf29ce484222325ULL);

/// Splits valid UTF-8 `text` into GPT-2 pre-tokens
///   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
/// appending [begin, end) byte ranges to `pieces`. \s is Unicode White_Space
/// (as Oniguruma, which Hugging Face uses, defines it). Thread-safe.
void splitGpt2(std::string_view text,
               std::vector<std::pair<size_t, size_t>> &pieces);

} // namespace mind::runtime::bytelevel

#endif // MIND_RUNTIME_SRC_BYTELEVEL_H
