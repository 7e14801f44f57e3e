//===- TokenizerTest.cpp - byte-level BPE tokenizer and trainer -----------===//
//
// The golden cases of ../shared/data (ids and decoded text produced by
// Hugging Face `tokenizers` with MiniMind's tokenizer) must all match
// exactly; random Unicode must round-trip; a trained tokenizer must have
// MiniMind's layout and round-trip too.
//
//===----------------------------------------------------------------------===//

#include "mind/data/Tokenizer.h"
#include "mind/data/BpeTrainer.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <random>

using namespace mind::runtime;
using json = nlohmann::json;

namespace {
const std::string kShared = MIND_SHARED_DATA_DIR;
const std::string kTokenizerPath = kShared + "/minimind_tokenizer.json";

json readJson(const std::string &path) {
  std::ifstream in(path);
  if (!in)
    throw std::runtime_error(path + ": missing");
  return json::parse(in);
}

const Tokenizer &minimind() {
  static const Tokenizer t = Tokenizer::fromFile(kTokenizerPath);
  return t;
}

void appendUtf8(std::string &s, uint32_t cp) {
  if (cp < 0x80) {
    s += char(cp);
  } else if (cp < 0x800) {
    s += char(0xC0 | (cp >> 6));
    s += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += char(0xE0 | (cp >> 12));
    s += char(0x80 | ((cp >> 6) & 0x3F));
    s += char(0x80 | (cp & 0x3F));
  } else {
    s += char(0xF0 | (cp >> 18));
    s += char(0x80 | ((cp >> 12) & 0x3F));
    s += char(0x80 | ((cp >> 6) & 0x3F));
    s += char(0x80 | (cp & 0x3F));
  }
}

// Valid UTF-8 drawn from scripts and edge characters the split regex
// treats differently: letters, digits, punctuation, Unicode spaces, CJK,
// emoji with ZWJ, combining marks, supplementary planes, specials.
std::string randomText(std::mt19937 &rng, size_t maxChars) {
  static const std::vector<std::pair<uint32_t, uint32_t>> ranges = {
      {0x20, 0x7E},       {0x09, 0x0D},       {0xA0, 0xFF},
      {0x370, 0x3FF},     {0x400, 0x4FF},     {0x300, 0x36F},
      {0x4E00, 0x9FFF},   {0x3000, 0x303F},   {0xFF00, 0xFFEF},
      {0x3040, 0x30FF},   {0xAC00, 0xD7A3},   {0x1F300, 0x1F64F},
      {0x1F680, 0x1F6FF}, {0x20000, 0x2A6DF}, {0x2000, 0x206F},
      {0x0600, 0x06FF},   {0x0E00, 0x0E7F},   {0x85, 0x85},
      {0x660, 0x669},     {0xE000, 0xE0FF},
  };
  static const char *specials[] = {
      "<|endoftext|>", "<|im_start|>", "<|im_end|>", " ", "'s",
      "'ll",           "\r\n",         "\u200d"};
  std::uniform_int_distribution<size_t> len(0, maxChars);
  std::uniform_int_distribution<size_t> pick(0, ranges.size() + 3);
  std::string s;
  for (size_t n = len(rng), i = 0; i < n; ++i) {
    size_t r = pick(rng);
    if (r >= ranges.size()) {
      s += specials[rng() % (sizeof(specials) / sizeof(*specials))];
      continue;
    }
    auto [lo, hi] = ranges[r];
    appendUtf8(s, lo + rng() % (hi - lo + 1));
  }
  return s;
}
} // namespace

TEST(TokenizerTest, LoadsMiniMind) {
  const Tokenizer &t = minimind();
  EXPECT_EQ(t.vocabSize(), 6400);
  EXPECT_EQ(t.tokenToId("<|endoftext|>"), 0);
  EXPECT_EQ(t.tokenToId("<|im_start|>"), 1);
  EXPECT_EQ(t.tokenToId("<|im_end|>"), 2);
  EXPECT_EQ(t.tokenToId("!"), 3);
  EXPECT_EQ(t.idToToken(1), "<|im_start|>");
  EXPECT_EQ(t.addedTokens().size(), 3u);
  EXPECT_NE(t.hash(), 0u);
}

// Every golden case, ids and decoded text, exactly.
TEST(TokenizerTest, GoldenEveryCase) {
  json g = readJson(kShared + "/golden/tokenizer_golden_public.json");
  const json &cases = g.at("cases");
  ASSERT_GT(cases.size(), 100u);
  size_t checked = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string text = cases[i].at("text");
    auto want = cases[i].at("ids").get<std::vector<int32_t>>();
    std::vector<int32_t> got = minimind().encode(text);
    EXPECT_EQ(got, want) << "case " << i << ": " << json(text).dump();
    EXPECT_EQ(minimind().decode(want),
              cases[i].at("decoded").get<std::string>())
        << "case " << i;
    ++checked;
  }
  EXPECT_EQ(checked, cases.size());
}

TEST(TokenizerTest, GoldenBatchMatchesSingle) {
  json g = readJson(kShared + "/golden/tokenizer_golden_public.json");
  std::vector<std::string> texts;
  std::vector<std::vector<int32_t>> want;
  for (int rep = 0; rep < 3; ++rep) // repeats exercise the word cache
    for (const json &c : g.at("cases")) {
      texts.push_back(c.at("text"));
      want.push_back(c.at("ids").get<std::vector<int32_t>>());
    }
  for (unsigned threads : {1u, 2u, 4u})
    EXPECT_EQ(minimind().encodeBatch(texts, threads), want) << threads;
}

TEST(TokenizerTest, RoundTripRandomUnicode) {
  std::mt19937 rng(1234);
  const Tokenizer &t = minimind();
  for (int i = 0; i < 2000; ++i) {
    std::string s = randomText(rng, i < 1500 ? 40 : 400);
    std::vector<int32_t> ids = t.encode(s);
    for (int32_t id : ids)
      ASSERT_TRUE(id >= 0 && id < t.vocabSize());
    ASSERT_EQ(t.decode(ids), s) << "case " << i << ": " << json(s).dump();
  }
}

// Long single words take the heap merge path; check it against a plain
// reference BPE written from tokenizer.json here.
TEST(TokenizerTest, LongWordsMatchReferenceBpe) {
  json j = readJson(kTokenizerPath);
  std::map<std::string, int32_t> vocab;
  for (auto it = j["model"]["vocab"].begin(); it != j["model"]["vocab"].end();
       ++it)
    vocab[it.key()] = it.value();
  std::map<std::pair<std::string, std::string>, int> rank;
  int r = 0;
  for (const json &m : j["model"]["merges"])
    rank.emplace(
        std::make_pair(m[0].get<std::string>(), m[1].get<std::string>()), r++);
  // GPT-2's byte -> char map, written out independently.
  std::vector<std::string> byteChar(256);
  for (int b = 0, next = 256; b < 256; ++b) {
    bool keep = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
    byteChar[b].clear();
    appendUtf8(byteChar[b], keep ? b : next++);
  }
  auto reference = [&](const std::string &word) {
    std::vector<std::string> syms;
    for (unsigned char c : word)
      syms.push_back(byteChar[c]);
    for (;;) {
      int best = INT32_MAX;
      size_t at = 0;
      for (size_t i = 0; i + 1 < syms.size(); ++i) {
        auto it = rank.find({syms[i], syms[i + 1]});
        if (it != rank.end() && it->second < best) {
          best = it->second;
          at = i;
        }
      }
      if (best == INT32_MAX)
        break;
      syms[at] += syms[at + 1];
      syms.erase(syms.begin() + at + 1);
    }
    std::vector<int32_t> ids;
    for (const std::string &s : syms)
      ids.push_back(vocab.at(s));
    return ids;
  };
  std::mt19937 rng(7);
  std::vector<std::string> words = {std::string(300, 'a'),
                                    "supercalifragilisticexpialidocious"
                                    "antidisestablishmentarianism"};
  for (int i = 0; i < 200; ++i) {
    std::string w;
    size_t n = 5 + rng() % 60;
    for (size_t k = 0; k < n; ++k) {
      if (i % 2)
        appendUtf8(w, 0x4E00 + rng() % 0x5200); // a CJK run is one piece
      else
        w += char('a' + rng() % 26);
    }
    words.push_back(w);
  }
  for (const std::string &w : words)
    EXPECT_EQ(minimind().encode(w), reference(w)) << w;
}

TEST(TokenizerTest, SpecialTokens) {
  const Tokenizer &t = minimind();
  EXPECT_EQ(t.encode("<|im_start|>"), std::vector<int32_t>({1}));
  EXPECT_EQ(t.encode("<|im_start|><|im_end|><|endoftext|>"),
            std::vector<int32_t>({1, 2, 0}));
  std::vector<int32_t> ids = t.encode("a<|im_end|>b");
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[1], 2);
  EXPECT_EQ(t.decode(ids), "a<|im_end|>b");
  EXPECT_EQ(t.decode(ids, /*skipSpecial=*/true), "ab");
  // An incomplete special token is ordinary text.
  EXPECT_GT(t.encode("<|im_start").size(), 1u);
}

TEST(TokenizerTest, InvalidUtf8) {
  for (std::string bad : {"\xff", "a\x80", "\xc0\x80", "\xed\xa0\x80",
                          "\xf5\x80\x80\x80", "\xe4\xbd", "\xf0\x9f\x98"}) {
    EXPECT_FALSE(isValidUtf8(bad)) << bad.size() << " bytes";
    EXPECT_THROW(minimind().encode(bad), TokenizerError);
  }
  size_t at = 0;
  EXPECT_FALSE(isValidUtf8("abc\xff", &at));
  EXPECT_EQ(at, 3u);
  EXPECT_TRUE(isValidUtf8("\xf0\x9f\x98\x80 \xe4\xbd\xa0"));
}

TEST(TokenizerTest, DecodeIsLossyLikeHuggingFace) {
  const Tokenizer &t = minimind();
  // Byte 0xE4 (the byte-level char "ä") alone starts a 3-byte sequence:
  // ill-formed, so one U+FFFD; with the rest of "你" it decodes.
  int32_t e4 = *t.tokenToId("\xc3\xa4");
  EXPECT_EQ(t.decode({e4}), "\xEF\xBF\xBD");
  EXPECT_EQ(t.decode({e4, 3}), "\xEF\xBF\xBD!");
  std::vector<int32_t> ni = t.encode("你");
  ASSERT_GE(ni.size(), 1u);
  EXPECT_EQ(t.decode(ni), "你");
  EXPECT_EQ(t.decode({-1, 99999, 3}), "!"); // unknown ids are skipped
}

TEST(TokenizerTest, LoadErrorsNameTheProblem) {
  auto message = [](const std::string &text) {
    try {
      Tokenizer::fromJson(text, "bad.json");
    } catch (const TokenizerError &e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("{").find("bad.json: not valid JSON"), std::string::npos);
  EXPECT_NE(message("{}").find("missing field 'model'"), std::string::npos);
  json j = readJson(kTokenizerPath);
  j["model"]["type"] = "Unigram";
  EXPECT_NE(message(j.dump()).find("only BPE"), std::string::npos);
  j = readJson(kTokenizerPath);
  j["model"]["merges"].push_back({"zzz_not", "in_vocab"});
  EXPECT_NE(message(j.dump()).find("missing from the vocab"),
            std::string::npos);
  j = readJson(kTokenizerPath);
  j["normalizer"] = {{"type", "NFC"}};
  EXPECT_NE(message(j.dump()).find("normalizer"), std::string::npos);
  EXPECT_THROW(Tokenizer::fromFile("/nonexistent/tokenizer.json"),
               TokenizerError);
}

namespace {
std::string loadError(const std::string &text) {
  try {
    Tokenizer::fromJson(text, "bad.json");
  } catch (const TokenizerError &e) {
    return e.what();
  }
  return "no error";
}
} // namespace

// An id of 1e9 sized the id -> token tables (std::bad_alloc) and one of
// 2^32 + 5 was read as 5: ids must be below 2^24, and dense enough that
// the tables stay proportional to the file.
TEST(TokenizerTest, LoadRejectsIdsOutOfRange) {
  json j = readJson(kTokenizerPath);
  j["model"]["vocab"]["zzq"] = 1000000000;
  EXPECT_EQ(loadError(j.dump()),
            "bad.json: token 'zzq' (model.vocab) has id 1000000000; token ids "
            "must be below 2^24 = 16777216");
  j = readJson(kTokenizerPath);
  j["added_tokens"][0]["id"] = 1000000000;
  EXPECT_EQ(loadError(j.dump()),
            "bad.json: added token '<|endoftext|>' (added_tokens[0]) has id "
            "1000000000; token ids must be below 2^24 = 16777216");
  j = readJson(kTokenizerPath);
  j["added_tokens"][1]["id"] = (uint64_t(1) << 32) + 5;
  EXPECT_EQ(loadError(j.dump()),
            "bad.json: added token '<|im_start|>' (added_tokens[1]) has id "
            "4294967301; token ids must be below 2^24 = 16777216");
  j = readJson(kTokenizerPath);
  j["added_tokens"][1]["id"] = -1;
  EXPECT_EQ(loadError(j.dump()), "bad.json: added token '<|im_start|>' "
                                 "(added_tokens[1]) has a negative id -1");
  j = readJson(kTokenizerPath);
  j["model"]["vocab"]["zzq"] = 1.5;
  EXPECT_EQ(loadError(j.dump()),
            "bad.json: token 'zzq' (model.vocab) has id 1.5, not an integer");
  // 6400 + 4 entries: at most 65536 ids may be left unused.
  j = readJson(kTokenizerPath);
  j["model"]["vocab"]["zzq"] = 6404 + 65536;
  EXPECT_NE(loadError(j.dump()).find(
                "bad.json: token 'zzq' (model.vocab) has id 71940, but "
                "the file has only 6404 tokens"),
            std::string::npos);
  j["model"]["vocab"]["zzq"] = 6404 + 65535; // the largest allowed
  EXPECT_EQ(Tokenizer::fromJson(j.dump()).vocabSize(), 6404 + 65536);
}

// 100,000 nested arrays parsed, then overflowed the stack when the id was
// printed into its error (found by LoaderFuzzTest).
TEST(TokenizerTest, LoadRejectsDeepNesting) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_EQ(
      loadError(R"({"model":{"type":"BPE","vocab":{"a":)" + deep +
                R"(},"merges":[]},"pre_tokenizer":{"type":"ByteLevel"}})"),
      "bad.json: JSON nested deeper than 128 levels");
}

// Fields of the wrong type are named, never skipped (an "added_tokens"
// that is not an array made special tokens encode as text) and never
// reported as a bare nlohmann exception.
TEST(TokenizerTest, LoadErrorsNameTheField) {
  json j = readJson(kTokenizerPath);
  j["added_tokens"] = "x";
  EXPECT_EQ(loadError(j.dump()),
            "bad.json: 'added_tokens' must be an array, not a string");
  j = readJson(kTokenizerPath);
  j["model"] = nullptr;
  EXPECT_EQ(loadError(j.dump()),
            "bad.json: 'model' must be an object, not null");
  j = readJson(kTokenizerPath);
  j["added_tokens"][2]["lstrip"] = "yes";
  EXPECT_EQ(loadError(j.dump()), "bad.json: 'added_tokens[2].lstrip' must be "
                                 "true or false, not a string");
  j = readJson(kTokenizerPath);
  j["added_tokens"][0].erase("id");
  EXPECT_EQ(loadError(j.dump()), "bad.json: added token '<|endoftext|>' "
                                 "(added_tokens[0]) has no id");
  j = readJson(kTokenizerPath);
  j["model"]["merges"] = json::object();
  EXPECT_EQ(loadError(j.dump()),
            "bad.json: 'model.merges' must be an array, not an object");
  j = readJson(kTokenizerPath);
  j["decoder"] = 5;
  EXPECT_EQ(loadError(j.dump()),
            "bad.json: the decoder must be ByteLevel (or null)");
  EXPECT_EQ(loadError("[]"),
            "bad.json: the top level must be a JSON object, not an array");
  // A number out of double's range fails the parse: where, and in which
  // field.
  EXPECT_EQ(loadError("{\"model\": {\"vocab\": {\"a\": 0,\n  \"b\": 1e400}}}"),
            "bad.json: not valid JSON at line 2, column 12, in "
            "model.vocab.b: number overflow parsing '1e400'");
  EXPECT_EQ(loadError("{\"added_tokens\": [{}, {\"id\": ]}"),
            "bad.json: not valid JSON at line 1, column 30, in "
            "added_tokens[1].id: syntax error while parsing value - "
            "unexpected ']'; expected '[', '{', or a literal");
}

// A directory or a missing file is said to be one (a directory read as
// an empty text: "unexpected end of input").
TEST(TokenizerTest, FromFileNamesDirectoriesAndMissingFiles) {
  auto error = [](const std::string &path) {
    try {
      Tokenizer::fromFile(path);
    } catch (const TokenizerError &e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error(kShared), kShared + ": is a directory, expected a "
                                      "tokenizer file");
  EXPECT_EQ(error(kShared + "/no-such-tokenizer.json"),
            kShared + "/no-such-tokenizer.json: no such file");
}

// Merges in the legacy "a b" string form load the same model.
TEST(TokenizerTest, LegacyMergeStrings) {
  json j = readJson(kTokenizerPath);
  for (json &m : j["model"]["merges"])
    m = m[0].get<std::string>() + " " + m[1].get<std::string>();
  Tokenizer legacy = Tokenizer::fromJson(j.dump());
  std::string s = "Hello, 世界! The quick brown fox 123.";
  EXPECT_EQ(legacy.encode(s), minimind().encode(s));
}

namespace {
std::vector<std::string> goldenTexts() {
  std::vector<std::string> texts;
  json g = readJson(kShared + "/golden/tokenizer_golden_public.json");
  for (const json &c : g.at("cases"))
    texts.push_back(c.at("text"));
  return texts;
}
} // namespace

TEST(TokenizerTest, TrainedTokenizerSanity) {
  BpeTrainerOptions opts;
  opts.vocabSize = 600;
  opts.threads = 2;
  BpeTrainer trainer(opts);
  std::vector<std::string> texts = goldenTexts();
  trainer.addTexts(texts);
  BpeTrainingResult res = trainer.train();
  EXPECT_EQ(res.vocabSize, 600);
  EXPECT_EQ(res.merges, 600 - 259);
  Tokenizer t = Tokenizer::fromJson(res.json, "trained");
  EXPECT_EQ(t.vocabSize(), 600);
  EXPECT_EQ(t.tokenToId("<|endoftext|>"), 0);
  EXPECT_EQ(t.tokenToId("<|im_start|>"), 1);
  EXPECT_EQ(t.tokenToId("<|im_end|>"), 2);
  EXPECT_EQ(t.tokenToId("!"), 3); // byte alphabet in code point order
  // Same layout as MiniMind's file: the first 259 ids agree.
  for (int32_t id = 0; id < 259; ++id)
    EXPECT_EQ(t.idToToken(id), minimind().idToToken(id)) << id;
  size_t bytes = 0, tokens = 0;
  for (const std::string &s : texts) {
    std::vector<int32_t> ids = t.encode(s);
    EXPECT_EQ(t.decode(ids), s);
    bytes += s.size();
    tokens += ids.size();
  }
  EXPECT_LT(tokens * 3, bytes * 2); // the merges compress the text (> 1.5x)
  std::mt19937 rng(99);
  for (int i = 0; i < 300; ++i) {
    std::string s = randomText(rng, 60);
    EXPECT_EQ(t.decode(t.encode(s)), s);
  }
  EXPECT_EQ(t.encode("<|im_start|>"), std::vector<int32_t>({1}));
}

TEST(TokenizerTest, TrainerIsDeterministic) {
  std::vector<std::string> texts = goldenTexts();
  BpeTrainerOptions one, two;
  one.vocabSize = two.vocabSize = 400;
  one.threads = 1;
  two.threads = 3;
  BpeTrainer a(one), b(two);
  a.addTexts(texts);
  for (const std::string &s : texts)
    b.addText(s);
  EXPECT_EQ(a.train().json, b.train().json);
}

// The most frequent pair merges first; ties go to the smaller pair of ids.
TEST(TokenizerTest, TrainerMergeOrder) {
  BpeTrainerOptions opts;
  opts.vocabSize = 262;
  BpeTrainer trainer(opts);
  trainer.addText("ab ab ab cd cd cd xy");
  json j = json::parse(trainer.train().json);
  ASSERT_EQ(j["model"]["merges"].size(), 3u);
  // Pre-tokens "ab", " ab" x2, " cd" x3, " xy": (a,b), (c,d) and (Ġ,c)
  // occur 3 times and 'a' < 'c' < 'Ġ' (U+0120); then (Ġ,cd) with 3.
  EXPECT_EQ(j["model"]["merges"][0], json({"a", "b"}));
  EXPECT_EQ(j["model"]["merges"][1], json({"c", "d"}));
  EXPECT_EQ(j["model"]["merges"][2], json({"\xc4\xa0", "cd"}));
  EXPECT_EQ(j["model"]["vocab"]["ab"], 259);
}

TEST(TokenizerTest, TrainerOnTinyCorpusStopsEarly) {
  BpeTrainerOptions opts;
  opts.vocabSize = 6400;
  BpeTrainer trainer(opts);
  trainer.addText("aaaa bbbb");
  BpeTrainingResult res = trainer.train();
  EXPECT_LT(res.vocabSize, 6400);
  Tokenizer t = Tokenizer::fromJson(res.json);
  EXPECT_EQ(t.decode(t.encode("aaaa bbbb ccc")), "aaaa bbbb ccc");
  EXPECT_THROW(trainer.addText("\xff"), TokenizerError);
}

// A 200 KB word: merging touches only the positions of the merged pair
// (a rescan of the word per merge made this quadratic). "abcd" x 50000:
// (a,b) and (c,d) tie at 50000 and the smaller ids win, then (ab,cd), then
// the tokens double, each merge taking pairs left to right: 50000 -> 25000
// -> ... -> 3125 -> 1562 + 1 -> 781 + 1 -> 390 + 1 + 1.
TEST(TokenizerTest, TrainerLongWord) {
  BpeTrainerOptions opts;
  opts.vocabSize = 259 + 10;
  BpeTrainer trainer(opts);
  std::string word;
  for (int i = 0; i < 50000; ++i)
    word += "abcd";
  trainer.addText(word);
  BpeTrainingResult res = trainer.train();
  EXPECT_EQ(res.distinctWords, 1);
  json j = json::parse(res.json);
  std::vector<std::pair<std::string, std::string>> expected = {
      {"a", "b"}, {"c", "d"}, {"ab", "cd"}};
  for (std::string x = "abcd"; x.size() <= 64 * 4; x += x)
    expected.push_back({x, x});
  ASSERT_EQ(j["model"]["merges"].size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_EQ(j["model"]["merges"][i],
              json({expected[i].first, expected[i].second}))
        << "merge " << i;
  Tokenizer t = Tokenizer::fromJson(res.json, "trained");
  std::vector<int32_t> ids = t.encode(word);
  ASSERT_EQ(ids.size(), 392u);
  EXPECT_EQ(t.idToToken(ids[0]).size(), 128u * 4);
  EXPECT_EQ(t.idToToken(ids[390]).size(), 64u * 4);
  EXPECT_EQ(t.idToToken(ids[391]).size(), 16u * 4);
  EXPECT_EQ(t.decode(ids), word);
}

namespace {
// The trainer's rule, spelled out: count every adjacent pair over all word
// occurrences, merge the most frequent (ties: the smaller pair of ids) left
// to right in every word, repeat.
std::vector<std::pair<int32_t, int32_t>>
naiveBpe(std::vector<std::pair<std::vector<int32_t>, int64_t>> words,
         int32_t nextId, int32_t merges, int64_t minFrequency) {
  std::vector<std::pair<int32_t, int32_t>> out;
  for (; merges > 0; --merges, ++nextId) {
    std::map<std::pair<int32_t, int32_t>, int64_t> count;
    for (auto &[w, c] : words)
      for (size_t k = 0; k + 1 < w.size(); ++k)
        count[{w[k], w[k + 1]}] += c;
    std::pair<int32_t, int32_t> best;
    int64_t bestCount = 0;
    for (auto &[p, c] : count) // ascending pairs: the first maximum wins
      if (c > bestCount) {
        best = p;
        bestCount = c;
      }
    if (bestCount < std::max<int64_t>(1, minFrequency))
      break;
    out.push_back(best);
    for (auto &[w, c] : words) {
      std::vector<int32_t> merged;
      for (size_t k = 0; k < w.size(); ++k) {
        if (k + 1 < w.size() && w[k] == best.first && w[k + 1] == best.second) {
          merged.push_back(nextId);
          ++k;
        } else {
          merged.push_back(w[k]);
        }
      }
      w = std::move(merged);
    }
  }
  return out;
}
} // namespace

// The trainer against the rule above on corpora of few letters, where pairs
// overlap ("aaa") and ties are everywhere.
TEST(TokenizerTest, TrainerMatchesNaiveReference) {
  std::mt19937 rng(5);
  for (int round = 0; round < 30; ++round) {
    const std::string alphabet = round % 3 == 0   ? "a"
                                 : round % 3 == 1 ? "ab"
                                                  : "abc";
    BpeTrainerOptions opts;
    opts.vocabSize = 259 + 40;
    opts.minFrequency = round % 2;
    BpeTrainer trainer(opts);
    // GPT-2's pieces: a word, then " word" for the ones after it.
    std::map<std::string, int64_t> pieces;
    for (int doc = 0; doc < 5; ++doc) {
      std::string text;
      int n = 1 + rng() % 6;
      for (int w = 0; w < n; ++w) {
        std::string word;
        for (size_t len = 1 + rng() % (rng() % 4 == 0 ? 200 : 12); len > 0;
             --len)
          word += alphabet[rng() % alphabet.size()];
        ++pieces[(w ? " " : "") + word];
        text += (w ? " " : "") + word;
      }
      trainer.addText(text);
    }
    json j = json::parse(trainer.train().json);
    const json &vocab = j["model"]["vocab"];
    auto id = [&](const std::string &tok) {
      return vocab.at(tok).get<int32_t>();
    };
    std::vector<std::pair<std::vector<int32_t>, int64_t>> words;
    for (auto &[p, c] : pieces) {
      std::vector<int32_t> w;
      for (char ch : p)
        w.push_back(ch == ' ' ? id("\xc4\xa0") : id(std::string(1, ch)));
      words.push_back({w, c});
    }
    std::vector<std::pair<int32_t, int32_t>> expected =
        naiveBpe(words, 259, 40, opts.minFrequency);
    const json &merges = j["model"]["merges"];
    ASSERT_EQ(merges.size(), expected.size()) << "round " << round;
    for (size_t i = 0; i < expected.size(); ++i)
      EXPECT_EQ(std::make_pair(id(merges[i][0]), id(merges[i][1])), expected[i])
          << "round " << round << " merge " << i;
  }
}
