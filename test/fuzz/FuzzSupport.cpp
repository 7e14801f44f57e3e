//===- FuzzSupport.cpp - deterministic mutation fuzzing of loaders --------===//

#include "FuzzSupport.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cxxabi.h>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <memory>
#include <unistd.h>

using nlohmann::json;

//===----------------------------------------------------------------------===//
// Allocation cap: a small file must not make a loader allocate gigabytes
// (with overcommit such an allocation may "succeed" and be killed later).
// Replacing the global operator new sees every allocation of the loaders.
//===----------------------------------------------------------------------===//

namespace {
std::atomic<size_t> gAllocLimit{0};
std::atomic<size_t> gHugeRequest{0};

void *allocate(size_t n, bool nothrow) {
  size_t limit = gAllocLimit.load(std::memory_order_relaxed);
  if (limit && n > limit) {
    gHugeRequest.store(n, std::memory_order_relaxed);
    if (nothrow)
      return nullptr;
    throw std::bad_alloc();
  }
  void *p = std::malloc(n ? n : 1);
  if (!p && !nothrow)
    throw std::bad_alloc();
  return p;
}
} // namespace

void *operator new(size_t n) { return allocate(n, false); }
void *operator new[](size_t n) { return allocate(n, false); }
void *operator new(size_t n, const std::nothrow_t &) noexcept {
  try {
    return allocate(n, true);
  } catch (...) {
    return nullptr;
  }
}
void *operator new[](size_t n, const std::nothrow_t &) noexcept {
  return operator new(n, std::nothrow);
}
void operator delete(void *p) noexcept { std::free(p); }
void operator delete[](void *p) noexcept { std::free(p); }
void operator delete(void *p, size_t) noexcept { std::free(p); }
void operator delete[](void *p, size_t) noexcept { std::free(p); }

//===----------------------------------------------------------------------===//
// Crash and hang reports: the mutant being loaded is printed before the
// process dies, so the failure can be reproduced from its index and seed.
//===----------------------------------------------------------------------===//

namespace {
char gCurrent[1024];
alignas(16) char gAltStack[1 << 16];

extern "C" void onFatalSignal(int sig) {
  auto say = [](const char *s) {
    if (::write(2, s, std::strlen(s)) < 0) {
    }
  };
  if (gCurrent[0]) {
    say("\nLoaderFuzzTest: ");
    say(sig == SIGALRM ? "HANG (the load did not finish in time)"
                       : "CRASH (fatal signal)");
    say(" on ");
    say(gCurrent);
    say("\n");
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

struct InstallHandlers {
  InstallHandlers() {
    stack_t ss{};
    ss.ss_sp = gAltStack; // a stack overflow needs another stack
    ss.ss_size = sizeof gAltStack;
    sigaltstack(&ss, nullptr);
    struct sigaction sa {};
    sa.sa_handler = onFatalSignal;
    sa.sa_flags = SA_ONSTACK | SA_RESETHAND;
    for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGALRM})
      sigaction(sig, &sa, nullptr);
  }
} gInstallHandlers;
} // namespace

namespace mind::fuzz {

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

LoadGuard::LoadGuard(const std::string &what, size_t fileBytes,
                     unsigned seconds) {
  std::snprintf(gCurrent, sizeof gCurrent, "%s", what.c_str());
  gHugeRequest.store(0);
  gAllocLimit.store((size_t(256) << 20) + 64 * fileBytes);
  alarm(seconds);
}

LoadGuard::~LoadGuard() {
  alarm(0);
  gAllocLimit.store(0);
  gCurrent[0] = '\0';
}

size_t LoadGuard::hugeRequest() const { return gHugeRequest.load(); }

//===----------------------------------------------------------------------===//
// Byte and field mutations
//===----------------------------------------------------------------------===//

namespace {
const uint8_t kBytes[] = {0x00, 0x01, 0x7F, 0x80, 0xFF, ' ', '"', '\\',
                          '{',  '}',  '[',  ']',  ',',  ':', '0', '-'};
} // namespace

std::string Mutator::setField(Bytes &b, const Field &f) {
  if (f.offset + f.width > b.size())
    return "field " + std::string(f.name) + " is past the end";
  uint64_t cur = 0;
  std::memcpy(&cur, &b[f.offset], f.width);
  uint64_t size = b.size();
  const uint64_t values[] = {0,
                             1,
                             2,
                             3,
                             7,
                             8,
                             9,
                             63,
                             64,
                             65,
                             255,
                             256,
                             0xFFFF,
                             0x10000,
                             0x7FFFFFFF,
                             0x80000000,
                             0xFFFFFFFF,
                             0x100000000,
                             (uint64_t(1) << 53) + 1,
                             uint64_t(1) << 56,
                             (uint64_t(1) << 56) + 1,
                             uint64_t(1) << 61,
                             uint64_t(1) << 62,
                             uint64_t(INT64_MAX),
                             uint64_t(1) << 63,
                             UINT64_MAX,
                             cur + 1,
                             cur - 1,
                             cur * 2,
                             cur / 2,
                             cur | 1,
                             ~cur,
                             size,
                             size - 1,
                             size + 1,
                             size - 8,
                             size / 2};
  uint64_t v = values[below(std::size(values))];
  if (f.width == 4)
    v = static_cast<uint32_t>(v);
  std::memcpy(&b[f.offset], &v, f.width);
  return std::string(f.name) + " := " + std::to_string(v);
}

std::string Mutator::mutateBytes(Bytes &b, const std::vector<Field> &fields) {
  // Offsets near the front (headers) are where most structure is.
  auto offset = [&](size_t n) {
    return chance(50) ? below(std::min<size_t>(n, 128)) : below(n);
  };
  switch (below(fields.empty() ? 8 : 11)) {
  case 0: {
    if (b.empty())
      break;
    size_t at = offset(b.size());
    int bit = static_cast<int>(below(8));
    b[at] ^= static_cast<uint8_t>(1u << bit);
    return "flip bit " + std::to_string(bit) + " of byte " + std::to_string(at);
  }
  case 1: {
    if (b.empty())
      break;
    size_t at = offset(b.size());
    uint8_t v = chance(70) ? kBytes[below(std::size(kBytes))]
                           : static_cast<uint8_t>(rng());
    b[at] = v;
    return "byte " + std::to_string(at) + " := " + std::to_string(v);
  }
  case 2: {
    size_t n = offset(b.size() + 1);
    b.resize(n);
    return "truncate to " + std::to_string(n) + " bytes";
  }
  case 3: {
    size_t at = offset(b.size() + 1), n = 1 + below(16);
    Bytes ins(n);
    for (uint8_t &c : ins)
      c = chance(50) ? kBytes[below(std::size(kBytes))]
                     : static_cast<uint8_t>(rng());
    b.insert(b.begin() + at, ins.begin(), ins.end());
    return "insert " + std::to_string(n) + " bytes at " + std::to_string(at);
  }
  case 4: {
    if (b.empty())
      break;
    size_t at = offset(b.size());
    size_t n = std::min(b.size() - at,
                        chance(70) ? 1 + below(16) : 1 + below(b.size()));
    b.erase(b.begin() + at, b.begin() + at + n);
    return "delete " + std::to_string(n) + " bytes at " + std::to_string(at);
  }
  case 5: {
    if (b.empty())
      break;
    size_t from = below(b.size());
    size_t n = std::min(b.size() - from, 1 + below(64));
    size_t at = below(b.size() + 1);
    Bytes chunk(b.begin() + from, b.begin() + from + n);
    b.insert(b.begin() + at, chunk.begin(), chunk.end());
    return "copy " + std::to_string(n) + " bytes from " + std::to_string(from) +
           " to " + std::to_string(at);
  }
  case 6: {
    size_t n = 1 + below(64);
    bool zeros = chance(50);
    for (size_t i = 0; i < n; ++i)
      b.push_back(zeros ? 0 : static_cast<uint8_t>(rng()));
    return "append " + std::to_string(n) + (zeros ? " zero" : " random") +
           " bytes";
  }
  case 7: {
    if (b.size() < 8)
      break;
    size_t at = offset(b.size() - 7);
    Field f{at, chance(50) ? 8 : 4, "word"};
    return "at " + std::to_string(at) + ": " + setField(b, f);
  }
  default:
    return setField(b, pick(fields));
  }
  b.push_back(static_cast<uint8_t>(rng()));
  return "append 1 byte";
}

std::string Mutator::havoc(Bytes &b, const std::vector<Field> &fields) {
  std::string desc;
  for (size_t n = 1 + below(4); n > 0; --n)
    desc += (desc.empty() ? "" : "; ") + mutateBytes(b, fields);
  return desc;
}

//===----------------------------------------------------------------------===//
// JSON mutations. Values JSON cannot hold in a DOM (1e400, NaN, invalid
// escapes, deep nesting built as text) are spliced in as raw text in place
// of a sentinel string; a duplicated key likewise.
//===----------------------------------------------------------------------===//

namespace {
const char *kRawSentinel = "@@fuzz-raw-7f3a@@";
const char *kDupSentinel = "@@fuzz-dup-7f3a@@";

const std::vector<std::string> kNumbers = {
    "0",
    "-0",
    "-0.0",
    "1",
    "-1",
    "2",
    "3",
    "7",
    "0.5",
    "1.5",
    "-2.5",
    "1e-5",
    "1e400",
    "-1e400",
    "1e-400",
    "1e308",
    "NaN",
    "Infinity",
    "-Infinity",
    "9007199254740993",
    "-9007199254740993",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "4294967295",
    "4294967296",
    "2147483647",
    "2147483648",
    "65535",
    "65536",
    "16777216",
    "1e20",
    "1.0",
    "2E3",
    "0x10",
    "01",
    "+1",
    ".5",
    "1.",
    "123456789012345678901234567890123456789"};
const std::vector<std::string> kWrongTypes = {
    "null",  "true",      "false",  "\"\"",          "\"0\"",
    "\"x\"", "[]",        "[0]",    "[1,2]",         "[[]]",
    "{}",    "{\"a\":1}", "[null]", "[\"a\",\"b\"]", "{\"\":null}"};
// Raw string literals, some of them invalid JSON on purpose.
const std::vector<std::string> kRawStrings = {"\"\"",
                                              "\" \"",
                                              "\"\\u0000\"",
                                              "\"a\\u0000b\"",
                                              "\"\\ud800\"",
                                              "\"\xff\xfe\"",
                                              "\"\\x41\"",
                                              "\"\xc3\xa9\xe2\x82\xac\"",
                                              "\"a b\"",
                                              "\"a\\nb\"",
                                              "\"\\\"\"",
                                              "\"\t\"",
                                              "\"\xf0\x9d\x84\x9e\""};
const std::vector<size_t> kDepths = {2, 64, 127, 128, 129, 200, 1000, 100000};

void replaceOnce(std::string &text, const std::string &from,
                 const std::string &to) {
  size_t at = text.find(from);
  if (at != std::string::npos)
    text.replace(at, from.size(), to);
}

std::string clip(const std::string &s, size_t n = 48) {
  std::string out = s.size() > n ? s.substr(0, n) + "..." : s;
  for (char &c : out)
    if (static_cast<unsigned char>(c) < 0x20 ||
        static_cast<unsigned char>(c) >= 0x7F)
      c = '?';
  return out;
}
} // namespace

json::json_pointer Mutator::randomPath(const json &doc) {
  // Mostly leaves and inner members: the root itself is rarely the target.
  json::json_pointer p;
  const json *cur = &doc;
  while ((cur->is_object() || cur->is_array()) && !cur->empty() &&
         !chance(p.empty() ? 3 : 15)) {
    size_t k = below(cur->size());
    if (cur->is_object()) {
      auto it = cur->begin();
      std::advance(it, k);
      p.push_back(it.key());
      cur = &*it;
    } else {
      p.push_back(std::to_string(k));
      cur = &(*cur)[k];
    }
  }
  return p;
}

std::string Mutator::mutateJson(const json &doc,
                                const std::vector<std::string> &dictionary,
                                std::string &desc, bool pretty) {
  json d = doc;
  json::json_pointer p = randomPath(d);
  std::string where = p.empty() ? "(root)" : clip(p.to_string(), 60);
  std::string raw;    // spliced in for the value at p, when set
  std::string dupKey; // the key written twice, when set
  bool haveRaw = false, haveDup = false;
  json::json_pointer parent = p.empty() ? p : p.parent_pointer();
  bool inObject = !p.empty() && d.at(parent).is_object();
  auto setRaw = [&](const std::string &text, const char *what) {
    raw = text;
    haveRaw = true;
    desc = where + " := " + what + " " + clip(text);
  };
  switch (below(13)) {
  case 0:
  case 1:
    setRaw(pick(kNumbers), "number");
    break;
  case 2:
    setRaw(pick(kWrongTypes), "wrong type");
    break;
  case 3:
    if (!dictionary.empty() && chance(70))
      setRaw(json(pick(dictionary)).dump(), "string");
    else if (chance(15))
      setRaw("\"" + std::string(70000, 'a') + "\"", "long string");
    else
      setRaw(pick(kRawStrings), "string");
    break;
  case 4:
    if (p.empty()) {
      setRaw("", "nothing");
    } else if (inObject) {
      d.at(parent).erase(p.back());
      desc = "delete " + where;
    } else {
      d.at(parent).erase(std::stoul(p.back()));
      desc = "delete element " + where;
    }
    break;
  case 5: {
    // A key written twice: in the target's parent object, or in the target.
    json *obj = nullptr;
    if (inObject) {
      obj = &d.at(parent);
      dupKey = p.back();
    } else if (d.at(p).is_object() && !d.at(p).empty()) {
      obj = &d.at(p);
      auto it = obj->begin();
      std::advance(it, below(obj->size()));
      dupKey = it.key();
    }
    if (!obj) {
      setRaw(pick(kWrongTypes), "wrong type");
      break;
    }
    (*obj)[kDupSentinel] = chance(50) ? (*obj)[dupKey] : json(pick(kNumbers));
    haveDup = true;
    desc = "duplicate key '" + clip(dupKey) + "' near " + where;
    break;
  }
  case 6: {
    json &t = d.at(p);
    if (t.is_object()) {
      t["__fuzz_" + std::to_string(below(4))] = 1;
      desc = "add a member to " + where;
    } else if (t.is_array()) {
      t.push_back(t.empty() ? json(0) : t[below(t.size())]);
      desc = "append an element to " + where;
    } else {
      t = json::array({t, t});
      desc = "make " + where + " a pair";
    }
    break;
  }
  case 7: {
    size_t depth = pick(kDepths);
    bool arrays = chance(50), closed = chance(85);
    std::string text;
    if (arrays)
      text = std::string(depth, '[') + (closed ? std::string(depth, ']') : "");
    else {
      text.reserve(depth * 7);
      for (size_t i = 0; i < depth; ++i)
        text += "{\"a\":";
      if (closed)
        text += "0" + std::string(depth, '}');
    }
    setRaw(text, "nesting");
    desc = where + " := " + std::to_string(depth) + " nested " +
           (arrays ? "arrays" : "objects") + (closed ? "" : " (unclosed)");
    break;
  }
  case 8: {
    json::json_pointer q = randomPath(doc);
    d.at(p) = doc.at(q);
    desc =
        where + " := copy of " + (q.empty() ? "(root)" : clip(q.to_string()));
    break;
  }
  case 9: {
    if (!inObject) {
      setRaw(pick(kNumbers), "number");
      break;
    }
    std::string key = p.back(), renamed;
    switch (below(5)) {
    case 0:
      renamed = "";
      break;
    case 1:
      renamed = key + "_";
      break;
    case 2:
      renamed = " " + key;
      break;
    case 3:
      renamed = key.empty() ? "x" : key.substr(0, key.size() - 1);
      break;
    default:
      renamed = dictionary.empty() ? "__metadata__" : pick(dictionary);
    }
    json &obj = d.at(parent);
    json value = obj[key];
    obj.erase(key);
    obj[renamed] = std::move(value);
    desc = "rename " + where + " to '" + clip(renamed) + "'";
    break;
  }
  case 10: {
    json &t = d.at(p);
    t = chance(50) ? json::array({t}) : json{{"value", t}};
    desc = "wrap " + where;
    break;
  }
  case 11: {
    json &t = d.at(p);
    if (t.is_array() || t.is_object())
      t = t.is_array() ? json::array() : json::object();
    else if (t.is_string())
      t = "";
    else
      t = 0;
    desc = "empty " + where;
    break;
  }
  default: {
    json &t = d.at(p);
    if (t.is_number_unsigned() || t.is_number_integer()) {
      int64_t v = t.get<int64_t>();
      const int64_t tweaked[] = {v + 1, v - 1, -v, v * 2, v * 1000003, v ^ 1};
      t = tweaked[below(std::size(tweaked))];
      desc = where + " := " + t.dump() + " (was " + std::to_string(v) + ")";
    } else if (t.is_number_float()) {
      double v = t.get<double>();
      const double tweaked[] = {-v, v * 1e300, v / 1e300, v + 1, 0.0};
      t = tweaked[below(std::size(tweaked))];
      desc = where + " := " + t.dump();
    } else {
      setRaw(pick(kNumbers), "number");
    }
  }
  }
  if (haveRaw && p.empty())
    return raw;
  if (haveRaw)
    d.at(p) = kRawSentinel;
  std::string text = d.dump(pretty ? 2 : -1);
  if (haveRaw)
    replaceOnce(text, json(kRawSentinel).dump(), raw);
  if (haveDup)
    replaceOnce(text, json(kDupSentinel).dump(), json(dupKey).dump());
  return text;
}

//===----------------------------------------------------------------------===//
// Judging and summarizing outcomes
//===----------------------------------------------------------------------===//

std::string describeLeak(const std::type_info &type, const char *what) {
  int status = 0;
  std::unique_ptr<char, void (*)(void *)> name(
      abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), std::free);
  return std::string("leaked ") + (status == 0 ? name.get() : type.name()) +
         ": " + clip(what, 200);
}

std::string messageClass(const std::string &message, const std::string &path) {
  std::string m = message;
  for (size_t at; !path.empty() && (at = m.find(path)) != std::string::npos;)
    m.replace(at, path.size(), "<file>");
  auto alnum = [&](size_t i) {
    return i < m.size() && std::isalnum(static_cast<unsigned char>(m[i]));
  };
  auto digit = [&](size_t i) {
    return i < m.size() && std::isdigit(static_cast<unsigned char>(m[i]));
  };
  std::string out;
  for (size_t i = 0; i < m.size() && out.size() < 150;) {
    char c = m[i];
    // Quoted names and values: '_' and "_".
    if (c == '\'' || c == '"') {
      size_t close = m.find(c, i + 1);
      if (close != std::string::npos && close - i < 300) {
        out += std::string(1, c) + "_" + c;
        i = close + 1;
        continue;
      }
    }
    // Bracketed lists (shapes, offsets, JSON values): [_] and {_}.
    if ((c == '[' || c == '{') && i + 1 < m.size() && m[i + 1] != c) {
      char close = c == '[' ? ']' : '}';
      size_t end = m.find(close, i + 1);
      size_t stop = m.find_first_of("[{", i + 1);
      if (end != std::string::npos && end - i < 300 &&
          (stop == std::string::npos || stop > end) &&
          m.compare(i, 6, "[json.") != 0) {
        out += std::string(1, c) + "_" + close;
        i = end + 1;
        continue;
      }
    }
    // Numbers (-1.5e+20) and words holding digits (0x1f, F32, sha256): N.
    bool number = digit(i) || (c == '-' && digit(i + 1) && !alnum(i - 1));
    if (std::isalnum(static_cast<unsigned char>(c)) || number) {
      size_t j = c == '-' ? i + 1 : i;
      bool hasDigit = false;
      for (;;) {
        while (alnum(j))
          hasDigit |= digit(j++);
        if (hasDigit && j + 1 < m.size() && (m[j] == '.' && digit(j + 1)))
          ++j;
        else if (hasDigit && (m[j - 1] == 'e' || m[j - 1] == 'E') &&
                 (m[j] == '+' || m[j] == '-') && digit(j + 1))
          ++j;
        else
          break;
      }
      out += hasDigit ? "N" : m.substr(i, j - i);
      i = j;
      continue;
    }
    out += c;
    ++i;
  }
  return out;
}

void Tally::reject(const std::string &message, const std::string &path,
                   const std::string &where) {
  ++rejected;
  if (message.empty())
    return fail(where, "rejected with an empty message");
  if (message.find(path) == std::string::npos)
    return fail(where, "rejected with a message that does not name the file: " +
                           clip(message, 200));
  Class &c = classes[messageClass(message, path)];
  if (c.count++ == 0) {
    std::string example = message;
    for (size_t at; (at = example.find(path)) != std::string::npos;)
      example.replace(at, path.size(), "<file>");
    c.example = clip(example, 160);
  }
}

void Tally::fail(const std::string &where, const std::string &problem) {
  ++failureCount;
  std::string line = where + ": " + problem;
  if (failureList.size() < 20) {
    failureList.push_back(line);
    ADD_FAILURE() << line;
  }
}

void Tally::print(size_t maxClasses) const {
  std::vector<std::pair<std::string, Class>> sorted(classes.begin(),
                                                    classes.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](auto &a, auto &b) {
    return a.second.count > b.second.count;
  });
  std::printf("\n== %s: %zu mutants tried, %zu loaded, %zu rejected, %zu "
              "failures; %zu message classes",
              title.c_str(), tried, loaded, rejected, failureCount,
              classes.size());
  if (sorted.size() > maxClasses)
    std::printf(" (the %zu most frequent)", maxClasses);
  std::printf("\n   count  class (numbers -> N, quoted names -> '_')\n");
  size_t shown = 0;
  for (const auto &[name, c] : sorted) {
    if (shown++ == maxClasses)
      break;
    std::printf("  %6zu  %s\n          e.g. %s\n", c.count, name.c_str(),
                c.example.c_str());
  }
  if (sorted.size() > maxClasses) {
    size_t rest = 0;
    for (size_t i = maxClasses; i < sorted.size(); ++i)
      rest += sorted[i].second.count;
    std::printf("  %6zu  ... in %zu further classes\n", rest,
                sorted.size() - maxClasses);
  }
  for (const std::string &f : failureList)
    std::printf("  FAILURE %s\n", f.c_str());
  std::fflush(stdout);
}

std::vector<size_t> truncationPoints(size_t size, size_t dense,
                                     const std::vector<size_t> &marks) {
  std::vector<size_t> cuts;
  for (size_t i = 0; i < std::min(size, dense); ++i)
    cuts.push_back(i);
  for (size_t m : marks)
    for (size_t c : {m - 1, m, m + 1})
      if (c < size) // m - 1 wraps for m == 0: skipped here
        cuts.push_back(c);
  for (size_t back = 1; back <= 8 && back <= size; ++back)
    cuts.push_back(size - back);
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  return cuts;
}

bool selected(size_t index) {
  static const char *only = std::getenv("MIND_FUZZ_ONLY");
  return !only || std::strtoull(only, nullptr, 10) == index;
}

TempDir::TempDir() {
  char tmpl[] = "/tmp/mind-loader-fuzz-XXXXXX";
  if (!mkdtemp(tmpl))
    throw std::runtime_error("mkdtemp failed");
  dir = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

void writeFile(const std::string &path, const Bytes &bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    throw std::runtime_error(path + ": cannot create");
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) {
      ::close(fd);
      throw std::runtime_error(path + ": write failed");
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
}

Bytes readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::runtime_error(path + ": cannot open");
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

std::string sanitizeUtf8(const std::string &s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80         ? 1
               : (c >> 5) == 6  ? 2
               : (c >> 4) == 14 ? 3
               : (c >> 3) == 30 ? 4
                                : 0;
    bool ok = n > 0 && i + n <= s.size();
    for (size_t k = 1; ok && k < n; ++k)
      ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    // Overlong forms, surrogates and values past U+10FFFF are ill-formed.
    if (ok && n == 2)
      ok = c >= 0xC2;
    if (ok && n == 3) {
      unsigned char d = static_cast<unsigned char>(s[i + 1]);
      ok = !(c == 0xE0 && d < 0xA0) && !(c == 0xED && d >= 0xA0);
    }
    if (ok && n == 4) {
      unsigned char d = static_cast<unsigned char>(s[i + 1]);
      ok = c <= 0xF4 && !(c == 0xF0 && d < 0x90) && !(c == 0xF4 && d >= 0x90);
    }
    if (!ok) {
      out += '?';
      ++i;
      continue;
    }
    out.append(s, i, n);
    i += n;
  }
  return out;
}

} // namespace mind::fuzz
