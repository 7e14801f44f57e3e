//===- TokenizerLoad.cpp - reading tokenizer.json -------------------------===//

#include "ByteLevel.h"
#include "mind/abi/Files.h"
#include "mind/abi/JsonDepth.h"
#include "TokenizerImpl.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

using namespace mind::runtime;
using namespace mind::runtime::tokenizer_detail;
using json = nlohmann::json;

namespace {
// Distinguishes tokenizers for the per-thread word caches (an address may
// be reused by a later tokenizer).
std::atomic<uint64_t> nextInstanceId{1};

// Token ids must be below 2^24: far above any real vocabulary (MiniMind
// 6,400, GPT-2 50,257, the largest in use ~256K) and small enough that the
// id -> token tables stay bounded (~1 GiB at the limit). A huge id in a
// hand-edited or corrupt file would otherwise size them (std::bad_alloc).
constexpr int64_t kIdLimit = int64_t(1) << 24;
// Nor may the ids leave more than this many unused below the largest one
// (vocabularies are dense; reserved ranges are small): the tables then stay
// proportional to the file.
constexpr int64_t kMaxUnusedIds = 65536;

[[noreturn]] void fail(const std::string &name, const std::string &msg) {
  throw TokenizerError(name + ": " + msg);
}

// nlohmann's what() without its "[json.exception.type_error.302] " tag and
// its "parse error at line 1, column 2: " lead (said our way instead).
std::string plainMessage(std::string m) {
  if (m.rfind("[json.exception.", 0) == 0) {
    size_t close = m.find("] ");
    if (close != std::string::npos)
      m = m.substr(close + 2);
  }
  if (m.rfind("parse error", 0) == 0) {
    size_t colon = m.find(": ");
    if (colon != std::string::npos)
      m = m.substr(colon + 2);
  }
  return m;
}

// How messages name a field: model.vocab["a b"], added_tokens[2].id.
std::string member(const std::string &parent, const std::string &key) {
  bool simple =
      !key.empty() && !std::isdigit(static_cast<unsigned char>(key[0]));
  for (char c : key)
    simple =
        simple && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
  if (simple)
    return parent.empty() ? key : parent + "." + key;
  return parent + "[" + json(key).dump() + "]";
}
std::string element(const std::string &parent, size_t i) {
  return parent + "[" + std::to_string(i) + "]";
}
std::string typeName(const json &j) {
  if (j.is_null())
    return "null";
  if (j.is_object() || j.is_array())
    return std::string("an ") + j.type_name();
  return std::string("a ") + j.type_name();
}

// Re-reads JSON that failed to parse, to say where: the line, the column
// and the field being read ("1e400" as an id is a number overflow).
class ErrorLocator : public nlohmann::json_sax<json> {
public:
  explicit ErrorLocator(std::string_view text) : text(text) {}
  bool failed = false;
  std::string where, message;

  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t) override { return value(); }
  bool number_unsigned(number_unsigned_t) override { return value(); }
  bool number_float(number_float_t, const string_t &) override {
    return value();
  }
  bool string(string_t &) override { return value(); }
  bool binary(binary_t &) override { return value(); }
  bool start_object(std::size_t) override {
    value();
    frames.push_back({false, 0, "", false});
    return true;
  }
  bool key(string_t &k) override {
    frames.back().key = k;
    frames.back().hasKey = true;
    return true;
  }
  bool end_object() override {
    frames.pop_back();
    return true;
  }
  bool start_array(std::size_t) override {
    value();
    frames.push_back({true, 0, "", false});
    return true;
  }
  bool end_array() override {
    frames.pop_back();
    return true;
  }
  bool parse_error(std::size_t position, const std::string &,
                   const nlohmann::detail::exception &ex) override {
    failed = true;
    size_t end = std::min(position, text.size());
    size_t line = 1 + std::count(text.begin(), text.begin() + end, '\n');
    size_t lineStart = text.rfind('\n', end ? end - 1 : 0);
    size_t column = lineStart == std::string_view::npos || end == 0
                        ? end
                        : end - lineStart - 1;
    if (column == 0)
      column = 1;
    std::string path;
    for (const Frame &f : frames) {
      if (f.array && f.count > 0)
        path = element(path, f.count - 1);
      else if (!f.array && f.hasKey)
        path = member(path, f.key);
    }
    where = "line " + std::to_string(line) + ", column " +
            std::to_string(column) + (path.empty() ? "" : ", in " + path);
    message = plainMessage(ex.what());
    return false;
  }

private:
  struct Frame {
    bool array;
    size_t count; // elements started so far (arrays)
    std::string key;
    bool hasKey;
  };
  bool value() {
    if (!frames.empty() && frames.back().array)
      ++frames.back().count;
    return true;
  }
  std::string_view text;
  std::vector<Frame> frames;
};

// Typed access to tokenizer.json's fields: a field of the wrong type is
// reported with its path ("added_tokens[0].lstrip must be true or false,
// not a string"), never as nlohmann's own exception.
class Fields {
public:
  explicit Fields(const std::string &file) : file(file) {}
  [[noreturn]] void fail(const std::string &msg) const { ::fail(file, msg); }

  // The member, or nullptr when it is absent or null.
  static const json *find(const json &obj, const char *key) {
    auto it = obj.find(key);
    return it == obj.end() || it->is_null() ? nullptr : &*it;
  }
  const json &object(const json &obj, const std::string &path,
                     const char *key) const {
    const json *v = find(obj, key);
    if (!v && !obj.contains(key))
      fail("missing field '" + member(path, key) + "'");
    if (!v || !v->is_object())
      fail("'" + member(path, key) + "' must be an object, not " +
           typeName(obj.at(key)));
    return *v;
  }
  bool flag(const json &obj, const std::string &path, const char *key,
            bool otherwise) const {
    const json *v = find(obj, key);
    if (!v)
      return otherwise;
    if (!v->is_boolean())
      fail("'" + member(path, key) + "' must be true or false, not " +
           typeName(*v));
    return v->get<bool>();
  }
  std::string text(const json &obj, const std::string &path, const char *key,
                   const std::string &otherwise) const {
    const json *v = find(obj, key);
    if (!v)
      return otherwise;
    if (!v->is_string())
      fail("'" + member(path, key) + "' must be a string, not " + typeName(*v));
    return v->get<std::string>();
  }
  // A token id: an integer in [0, 2^24). `token` names it in messages.
  int32_t id(const json &v, const std::string &token) const {
    if (!v.is_number_integer())
      fail(token + " has id " + v.dump() + ", not an integer");
    if (v.is_number_unsigned()) {
      uint64_t u = v.get<uint64_t>();
      if (u >= static_cast<uint64_t>(kIdLimit))
        fail(token + " has id " + std::to_string(u) +
             "; token ids must be below 2^24 = " + std::to_string(kIdLimit));
      return static_cast<int32_t>(u);
    }
    int64_t i = v.get<int64_t>();
    if (i < 0)
      fail(token + " has a negative id " + std::to_string(i));
    if (i >= kIdLimit)
      fail(token + " has id " + std::to_string(i) +
           "; token ids must be below 2^24 = " + std::to_string(kIdLimit));
    return static_cast<int32_t>(i);
  }

private:
  const std::string &file;
};
} // namespace

void Tokenizer::Impl::load(const json &j) {
  Fields f(name);
  if (!j.is_object())
    fail(name, "the top level must be a JSON object, not " + typeName(j));
  const json &model = f.object(j, "", "model");
  std::string type = f.text(model, "model", "type", "BPE");
  if (type != "BPE")
    fail(name, "model type '" + type + "' is not supported (only BPE)");
  for (const char *k : {"continuing_subword_prefix", "end_of_word_suffix",
                        "unk_token", "dropout"})
    if (Fields::find(model, k) &&
        !(model[k].is_string() && model[k].get<std::string>().empty()))
      fail(name, std::string("model.") + k + " is not supported");
  if (f.flag(model, "model", "byte_fallback", false))
    fail(name, "model.byte_fallback is not supported");
  if (f.flag(model, "model", "ignore_merges", false))
    fail(name, "model.ignore_merges is not supported");
  if (Fields::find(j, "normalizer"))
    fail(name, "a normalizer is not supported");
  const json *pre = Fields::find(j, "pre_tokenizer");
  if (!pre && !j.contains("pre_tokenizer"))
    fail(name, "missing field 'pre_tokenizer'");
  if (!pre || !pre->is_object() ||
      f.text(*pre, "pre_tokenizer", "type", "") != "ByteLevel" ||
      !f.flag(*pre, "pre_tokenizer", "use_regex", true))
    fail(name, "the pre_tokenizer must be ByteLevel with use_regex");
  addPrefixSpace = f.flag(*pre, "pre_tokenizer", "add_prefix_space", false);
  if (const json *dec = Fields::find(j, "decoder")) {
    if (!dec->is_object() || f.text(*dec, "decoder", "type", "") != "ByteLevel")
      fail(name, "the decoder must be ByteLevel (or null)");
  } else {
    byteLevelDecoder = false;
  }

  // The entry with the largest id, for the check that ids are dense enough.
  int32_t maxId = -1;
  std::string maxIdToken;
  auto noteMax = [&](int32_t id, std::string token) {
    if (id > maxId) {
      maxId = id;
      maxIdToken = std::move(token);
    }
  };
  const json *v = Fields::find(model, "vocab");
  if (!v && !model.contains("vocab"))
    fail(name, "missing field 'model.vocab'");
  if (!v || !v->is_object())
    fail(name,
         "'model.vocab' must be an object, not " + typeName(model.at("vocab")));
  for (auto it = v->begin(); it != v->end(); ++it) {
    std::string token = "token '" + it.key() + "' (model.vocab)";
    int32_t id = f.id(it.value(), token);
    vocab[it.key()] = id;
    noteMax(id, token);
  }
  std::vector<std::pair<std::string, int32_t>> modelVocab(vocab.begin(),
                                                          vocab.end());
  if (const json *list = Fields::find(j, "added_tokens")) {
    // Silently skipping a malformed list would encode special tokens as
    // text.
    if (!list->is_array())
      fail(name, "'added_tokens' must be an array, not " + typeName(*list));
    for (size_t i = 0; i < list->size(); ++i) {
      const json &a = (*list)[i];
      std::string path = element("added_tokens", i);
      if (!a.is_object())
        fail(name, "'" + path + "' must be an object, not " + typeName(a));
      AddedToken t;
      t.content = f.text(a, path, "content", "");
      if (t.content.empty())
        fail(name, "'" + path + "' has no content");
      std::string token = "added token '" + t.content + "' (" + path + ")";
      if (!Fields::find(a, "id"))
        fail(name, token + " has no id");
      t.id = f.id(a["id"], token);
      t.special = f.flag(a, path, "special", false);
      t.lstrip = f.flag(a, path, "lstrip", false);
      t.rstrip = f.flag(a, path, "rstrip", false);
      if (f.flag(a, path, "single_word", false))
        fail(name,
             "added token '" + t.content + "': single_word is not supported");
      noteMax(t.id, token);
      added.push_back(t);
    }
  }
  int64_t entries = static_cast<int64_t>(modelVocab.size() + added.size());
  if (maxId >= entries + kMaxUnusedIds)
    fail(name, maxIdToken + " has id " + std::to_string(maxId) +
                   ", but the file has only " + std::to_string(entries) +
                   " tokens: ids may leave at most " +
                   std::to_string(kMaxUnusedIds) +
                   " unused (so must be below " +
                   std::to_string(entries + kMaxUnusedIds) + " here)");
  tokens.assign(maxId + 1, std::string());
  special.assign(maxId + 1, 0);
  for (auto &[tok, id] : modelVocab)
    tokens[id] = tok;
  for (const AddedToken &t : added) {
    tokens[t.id] = t.content;
    vocab[t.content] = t.id;
    special[t.id] = t.special;
  }

  // What each id decodes to (ByteLevel decoder: chars -> bytes; a token with
  // a char outside the byte alphabet decodes to its own UTF-8, as in HF).
  tokenBytes.resize(tokens.size());
  std::vector<uint32_t> cps;
  for (size_t id = 0; id < tokens.size(); ++id) {
    const std::string &t = tokens[id];
    tokenBytes[id] = t;
    cps.clear();
    if (!byteLevelDecoder || !bytelevel::decodeUtf8(t, cps))
      continue;
    std::string bytes;
    bool all = true;
    for (uint32_t cp : cps) {
      int b = bytelevel::charToByte(cp);
      if (b < 0) {
        all = false;
        break;
      }
      bytes += static_cast<char>(b);
    }
    if (all)
      tokenBytes[id] = bytes;
  }

  const auto &b2c = bytelevel::byteToChar();
  for (int b = 0; b < 256; ++b) {
    auto it = vocab.find(b2c[b]);
    byteIds[b] = it == vocab.end() ? -1 : it->second;
  }

  const json *mp = Fields::find(model, "merges");
  if (!mp && !model.contains("merges"))
    fail(name, "missing field 'model.merges'");
  if (!mp || !mp->is_array())
    fail(name, "'model.merges' must be an array, not " +
                   typeName(model.at("merges")));
  const json &m = *mp;
  merges.reserve(m.size());
  int32_t rank = 0;
  for (const json &e : m) {
    std::string a, b;
    if (e.is_string()) { // "a b" (tokenizers < 0.20)
      std::string s = e.get<std::string>();
      size_t sp = s.find(' ');
      if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos)
        fail(name,
             "merge #" + std::to_string(rank) + " '" + s + "' is not 'a b'");
      a = s.substr(0, sp);
      b = s.substr(sp + 1);
    } else if (e.is_array() && e.size() == 2 && e[0].is_string() &&
               e[1].is_string()) {
      a = e[0].get<std::string>();
      b = e[1].get<std::string>();
    } else {
      fail(name, "merge #" + std::to_string(rank) + " is malformed");
    }
    auto ia = vocab.find(a), ib = vocab.find(b), ic = vocab.find(a + b);
    if (ia == vocab.end() || ib == vocab.end() || ic == vocab.end())
      fail(name, "merge #" + std::to_string(rank) + " (" + a + " " + b +
                     ") uses a token missing from the vocab");
    // A repeated pair keeps its last rank, as in HF.
    merges.set(ia->second, ib->second, rank, ic->second);
    ++rank;
  }

  addedByFirstByte.assign(256, {});
  for (size_t i = 0; i < added.size(); ++i)
    addedByFirstByte[static_cast<unsigned char>(added[i].content[0])].push_back(
        static_cast<int>(i));
  for (auto &list : addedByFirstByte)
    std::stable_sort(list.begin(), list.end(), [&](int x, int y) {
      return added[x].content.size() > added[y].content.size();
    });
}

Tokenizer Tokenizer::fromJson(std::string_view text, const std::string &name) {
  auto impl = std::make_unique<Impl>();
  impl->name = name;
  impl->instanceId = nextInstanceId++;
  impl->jsonHash = bytelevel::fnv1a64(text.data(), text.size());
  json j;
  try {
    // Values are copied and quoted recursively: the nesting is bounded.
    j = json::parse(text.begin(), text.end(), depthLimitedCallback<json>([&] {
                      fail(name, jsonTooDeepProblem());
                    }));
  } catch (const json::exception &e) {
    ErrorLocator where(text);
    json::sax_parse(text.begin(), text.end(), &where);
    if (where.failed)
      fail(name, "not valid JSON at " + where.where + ": " + where.message);
    fail(name, "not valid JSON: " + plainMessage(e.what()));
  }
  try {
    impl->load(j);
  } catch (const json::exception &e) {
    // Fields reads every field by type; this is a safety net.
    fail(name, "malformed tokenizer: " + plainMessage(e.what()));
  }
  return Tokenizer(std::move(impl));
}

Tokenizer Tokenizer::fromFile(const std::string &path) {
  std::string problem = inputFileProblem(path, "tokenizer");
  if (!problem.empty())
    throw TokenizerError(problem);
  std::ifstream in(path, std::ios::binary);
  if (!in)
    fail(path, std::string("cannot open: ") + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad())
    fail(path, std::string("read error: ") + std::strerror(errno));
  return fromJson(ss.str(), path);
}
