//===- TokenizerLoad.cpp - reading tokenizer.json -------------------------===//

#include "ByteLevel.h"
#include "TokenizerImpl.h"

#include <algorithm>
#include <atomic>
#include <fstream>
#include <sstream>

using namespace mind::runtime;
using namespace mind::runtime::tokenizer_detail;
using json = nlohmann::json;

namespace {
// Distinguishes tokenizers for the per-thread word caches (an address may
// be reused by a later tokenizer).
std::atomic<uint64_t> nextInstanceId{1};

[[noreturn]] void fail(const std::string &name, const std::string &msg) {
  throw TokenizerError(name + ": " + msg);
}
} // namespace

void Tokenizer::Impl::load(const json &j) {
  auto need = [&](const json &obj, const char *key) -> const json & {
    if (!obj.is_object() || !obj.contains(key))
      fail(name, std::string("missing field '") + key + "'");
    return obj.at(key);
  };
  const json &model = need(j, "model");
  if (model.value("type", std::string("BPE")) != "BPE")
    fail(name, "model type '" + model.value("type", std::string()) +
                   "' is not supported (only BPE)");
  for (const char *k : {"continuing_subword_prefix", "end_of_word_suffix",
                        "unk_token", "dropout"})
    if (model.contains(k) && !model[k].is_null() &&
        !(model[k].is_string() && model[k].get<std::string>().empty()))
      fail(name, std::string("model.") + k + " is not supported");
  if (model.value("byte_fallback", false))
    fail(name, "model.byte_fallback is not supported");
  if (model.value("ignore_merges", false))
    fail(name, "model.ignore_merges is not supported");
  if (j.contains("normalizer") && !j["normalizer"].is_null())
    fail(name, "a normalizer is not supported");
  const json &pre = need(j, "pre_tokenizer");
  if (!pre.is_object() || pre.value("type", std::string()) != "ByteLevel" ||
      !pre.value("use_regex", true))
    fail(name, "the pre_tokenizer must be ByteLevel with use_regex");
  addPrefixSpace = pre.value("add_prefix_space", false);
  if (j.contains("decoder") && !j["decoder"].is_null()) {
    if (j["decoder"].value("type", std::string()) != "ByteLevel")
      fail(name, "the decoder must be ByteLevel (or null)");
  } else {
    byteLevelDecoder = false;
  }

  int32_t maxId = -1;
  const json &v = need(model, "vocab");
  if (!v.is_object())
    fail(name, "model.vocab must be an object");
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0 ||
        it.value().get<int64_t>() > INT32_MAX / 2)
      fail(name, "vocab entry '" + it.key() + "' has a bad id");
    int32_t id = it.value().get<int32_t>();
    vocab[it.key()] = id;
    maxId = std::max(maxId, id);
  }
  std::vector<std::pair<std::string, int32_t>> modelVocab(vocab.begin(),
                                                          vocab.end());
  if (j.contains("added_tokens") && j["added_tokens"].is_array()) {
    for (const json &a : j["added_tokens"]) {
      AddedToken t;
      t.id = a.at("id").get<int32_t>();
      t.content = a.at("content").get<std::string>();
      t.special = a.value("special", false);
      t.lstrip = a.value("lstrip", false);
      t.rstrip = a.value("rstrip", false);
      if (a.value("single_word", false))
        fail(name,
             "added token '" + t.content + "': single_word is not supported");
      if (t.content.empty() || t.id < 0)
        fail(name, "added token with empty content or negative id");
      maxId = std::max(maxId, t.id);
      added.push_back(t);
    }
  }
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

  const json &m = need(model, "merges");
  if (!m.is_array())
    fail(name, "model.merges must be an array");
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
    j = json::parse(text.begin(), text.end());
  } catch (const json::exception &e) {
    fail(name, std::string("not valid JSON: ") + e.what());
  }
  try {
    impl->load(j);
  } catch (const json::exception &e) {
    fail(name, std::string("malformed tokenizer: ") + e.what());
  }
  return Tokenizer(std::move(impl));
}

Tokenizer Tokenizer::fromFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    fail(path, "cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return fromJson(ss.str(), path);
}
