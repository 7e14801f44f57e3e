//===- ByteLevel.cpp - byte-level BPE building blocks ---------------------===//

#include "ByteLevel.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <cstring>
#include <memory>
#include <stdexcept>

using namespace mind::runtime;

namespace {
struct ByteTables {
  std::array<std::string, 256> toChar;
  std::array<int16_t, 512> toByte; // code points used are < 324
  ByteTables() {
    toByte.fill(-1);
    // GPT-2's bytes_to_unicode: printable Latin-1 maps to itself, the rest
    // to 256, 257, ... in byte order.
    auto printable = [](int b) {
      return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) ||
             (b >= 0xAE && b <= 0xFF);
    };
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      uint32_t cp = printable(b) ? static_cast<uint32_t>(b) : next++;
      bytelevel::appendUtf8(toChar[b], cp);
      toByte[cp] = static_cast<int16_t>(b);
    }
  }
};

const ByteTables &tables() {
  static const ByteTables t;
  return t;
}

// Length of the valid UTF-8 sequence at s[i], or 0 if ill-formed. `maximal`
// receives the length of the maximal ill-formed subpart in that case.
size_t utf8SequenceLength(std::string_view s, size_t i, size_t &maximal) {
  auto u = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = u(i);
  maximal = 1;
  if (c < 0x80)
    return 1;
  size_t need;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    need = 1;
  } else if (c >= 0xE0 && c <= 0xEF) {
    need = 2;
    if (c == 0xE0)
      lo = 0xA0;
    else if (c == 0xED)
      hi = 0x9F; // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 3;
    if (c == 0xF0)
      lo = 0x90;
    else if (c == 0xF4)
      hi = 0x8F;
  } else {
    return 0;
  }
  for (size_t k = 1; k <= need; ++k) {
    if (i + k >= s.size())
      return 0;
    unsigned char b = u(i + k);
    if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF))
      return 0;
    maximal = k + 1;
  }
  return need + 1;
}

// \s as Unicode White_Space; Oniguruma's \s, unlike PCRE2's UCP \s, includes
// U+0085, so the class is spelled out.
#define MIND_WS                                                                \
  "\\t\\n\\x{0B}\\f\\r\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}"       \
  "\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}"
const char *kGpt2Pattern =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^" MIND_WS
    "\\p{L}\\p{N}]+|[" MIND_WS "]+(?![^" MIND_WS "])|[" MIND_WS "]+";
#undef MIND_WS

struct Gpt2Regex {
  pcre2_code *code = nullptr;
  bool jit = false;
  Gpt2Regex() {
    int err = 0;
    PCRE2_SIZE errOffset = 0;
    code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(kGpt2Pattern),
                         PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP, &err,
                         &errOffset, nullptr);
    if (!code) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(err, msg, sizeof(msg));
      throw std::runtime_error(std::string("GPT-2 split regex: ") +
                               reinterpret_cast<char *>(msg));
    }
    // JIT is several times faster; the interpreter is the fallback.
    jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
  }
  ~Gpt2Regex() { pcre2_code_free(code); }
};

const Gpt2Regex &gpt2Regex() {
  static const Gpt2Regex r;
  return r;
}

struct MatchDataDeleter {
  void operator()(pcre2_match_data *md) const { pcre2_match_data_free(md); }
};
} // namespace

const std::array<std::string, 256> &bytelevel::byteToChar() {
  return tables().toChar;
}

int bytelevel::charToByte(uint32_t cp) {
  return cp < 512 ? tables().toByte[cp] : -1;
}

std::string bytelevel::encodeBytes(std::string_view bytes) {
  const auto &t = tables().toChar;
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes)
    out += t[b];
  return out;
}

void bytelevel::appendUtf8(std::string &out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool bytelevel::decodeUtf8(std::string_view s, std::vector<uint32_t> &out) {
  for (size_t i = 0; i < s.size();) {
    size_t maximal;
    size_t n = utf8SequenceLength(s, i, maximal);
    if (n == 0)
      return false;
    auto u = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    uint32_t cp = n == 1   ? u(i)
                  : n == 2 ? ((u(i) & 0x1F) << 6) | (u(i + 1) & 0x3F)
                  : n == 3 ? ((u(i) & 0x0F) << 12) | ((u(i + 1) & 0x3F) << 6) |
                                 (u(i + 2) & 0x3F)
                           : ((u(i) & 0x07) << 18) | ((u(i + 1) & 0x3F) << 12) |
                                 ((u(i + 2) & 0x3F) << 6) | (u(i + 3) & 0x3F);
    out.push_back(cp);
    i += n;
  }
  return true;
}

size_t bytelevel::firstInvalidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    // ASCII fast path, 8 bytes at a time.
    while (i + 8 <= s.size()) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      if (w & 0x8080808080808080ULL)
        break;
      i += 8;
    }
    if (i >= s.size())
      break;
    size_t maximal;
    size_t n = utf8SequenceLength(s, i, maximal);
    if (n == 0)
      return i;
    i += n;
  }
  return std::string_view::npos;
}

std::string bytelevel::lossyUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t maximal;
    size_t n = utf8SequenceLength(s, i, maximal);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      i += maximal;
    } else {
      out.append(s.data() + i, n);
      i += n;
    }
  }
  return out;
}

uint64_t bytelevel::fnv1a64(const void *data, size_t size, uint64_t h) {
  const unsigned char *p = static_cast<const unsigned char *>(data);
  for (size_t i = 0; i < size; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

void bytelevel::splitGpt2(std::string_view text,
                          std::vector<std::pair<size_t, size_t>> &pieces) {
  const Gpt2Regex &re = gpt2Regex();
  thread_local std::unique_ptr<pcre2_match_data, MatchDataDeleter> md(
      pcre2_match_data_create(4, nullptr));
  auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t pos = 0;
  while (pos < text.size()) {
    // The caller validated the UTF-8 once: re-checking from every offset
    // would make the split quadratic.
    int rc = re.jit ? pcre2_jit_match(re.code, subject, text.size(), pos,
                                      PCRE2_NO_UTF_CHECK, md.get(), nullptr)
                    : pcre2_match(re.code, subject, text.size(), pos,
                                  PCRE2_NO_UTF_CHECK, md.get(), nullptr);
    if (rc < 0) {
      pieces.emplace_back(pos, text.size()); // unreachable: every char matches
      return;
    }
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md.get());
    if (ov[0] > pos)
      pieces.emplace_back(pos, ov[0]); // unmatched gap (also unreachable)
    if (ov[1] == ov[0]) {
      pieces.emplace_back(ov[0], text.size());
      return;
    }
    pieces.emplace_back(ov[0], ov[1]);
    pos = ov[1];
  }
}
