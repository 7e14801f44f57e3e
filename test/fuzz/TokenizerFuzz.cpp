//===- TokenizerFuzz.cpp - fuzzing tokenizer.json loading -----------------===//
//
// Mutants of a small tokenizer.json trained here with the project's
// BpeTrainer, and of MiniMind's own (when ../shared/data has it), fed to
// Tokenizer::fromFile. Each must load (and then encode and decode a text
// without trouble) or throw TokenizerError naming the file.
//
//===----------------------------------------------------------------------===//

#include "FuzzSupport.h"

#include "mind/data/BpeTrainer.h"
#include "mind/data/Tokenizer.h"

#include <gtest/gtest.h>

#include <filesystem>

using namespace mind::runtime;
using namespace mind::fuzz;
using nlohmann::json;

namespace {

const std::vector<std::string> kTokenizerWords = {"BPE",
                                                  "WordPiece",
                                                  "ByteLevel",
                                                  "Metaspace",
                                                  "<|endoftext|>",
                                                  "<|im_start|>",
                                                  "<|im_end|>",
                                                  "\xc4\xa0",
                                                  "\xc4\xa0t",
                                                  "a b",
                                                  "a",
                                                  "",
                                                  "ab c",
                                                  "model",
                                                  "vocab",
                                                  "merges",
                                                  "added_tokens",
                                                  "content",
                                                  "id",
                                                  "special",
                                                  "pre_tokenizer",
                                                  "decoder",
                                                  "use_regex",
                                                  "type",
                                                  "normalizer",
                                                  "byte_fallback",
                                                  "ignore_merges",
                                                  "single_word",
                                                  "lstrip",
                                                  "rstrip",
                                                  "dropout",
                                                  "unk_token",
                                                  "add_prefix_space",
                                                  "continuing_subword_prefix",
                                                  "end_of_word_suffix"};

// A mutant: raw bytes of the text, or one JSON-level change.
Bytes mutateTokenizer(Mutator &m, const std::string &text, const json &doc,
                      std::string &desc) {
  if (m.chance(20)) {
    Bytes b = toBytes(text);
    desc = m.havoc(b, {});
    return b;
  }
  return toBytes(m.mutateJson(doc, kTokenizerWords, desc, m.chance(30)));
}

// A loaded tokenizer must encode and decode: ids below vocabSize(), every
// id's spelling readable.
void checkLoaded(const Tokenizer &t) {
  int32_t v = t.vocabSize();
  FUZZ_SANE(v >= 0, "negative vocabulary size");
  try {
    for (const char *text :
         {"Hello, fuzz! <|im_start|>user\n\xe6\x95\xb0\xe5\xad\x97 123 "
          "<|im_end|>  tabs\tand   spaces",
          "", " ", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}) {
      std::vector<int32_t> ids = t.encode(text);
      for (int32_t id : ids)
        FUZZ_SANE(id >= 0 && id < v, "encode gave id " + std::to_string(id) +
                                         " outside [0, " + std::to_string(v) +
                                         ")");
      t.decode(ids);
      t.decode(ids, /*skipSpecial=*/true);
    }
    for (int32_t id = 0; id < std::min(v, 70000); ++id)
      t.idToToken(id);
    t.decode({-1, v, v + 1, INT32_MAX});
  } catch (const SanityError &) {
    throw;
  } catch (const std::exception &e) {
    throw SanityError(std::string("using it threw: ") + e.what());
  }
}

void fuzzTokenizer(const std::string &title, uint64_t testSeed,
                   const std::string &text, size_t random, size_t maxClasses) {
  TempDir dir;
  json doc = json::parse(text);
  std::string path = dir.file("tokenizer.json");
  Tally tally(title);
  forEachMutant(
      testSeed, {{"seed", toBytes(text)}}, {}, 48, random,
      [&](Mutator &m, std::string &desc) {
        return mutateTokenizer(m, text, doc, desc);
      },
      [&](size_t index, uint64_t s, const std::string &desc, const Bytes &b) {
        writeFile(path, b);
        tally.run<TokenizerError>(index, s, desc, path, b.size(), [&] {
          checkLoaded(Tokenizer::fromFile(path));
        });
      });
  tally.print(maxClasses);
}

} // namespace

TEST(LoaderFuzz, Tokenizer) {
  // A few lines train a small vocabulary fast (~300 tokens, ~40 merges).
  BpeTrainerOptions opts;
  opts.vocabSize = 300;
  opts.threads = 1;
  BpeTrainer trainer(opts);
  for (const char *line :
       {"the quick brown fox jumps over the lazy dog",
        "the lazy dog sleeps; the quick fox does not",
        "<|im_start|>user\nhello there<|im_end|>",
        "\xe6\x95\xb0\xe5\xad\x97 and numbers 12345 67890 12345",
        "fuzzing finds what tests forget, the fuzzer said"})
    trainer.addText(line);
  std::string text = trainer.train().json;
  ASSERT_NO_THROW(Tokenizer::fromJson(text, "trained"));
  fuzzTokenizer("Tokenizer::fromFile (trained, ~300 tokens)", 0x70CE41E5EEDULL,
                text, 6000, 45);
}

TEST(LoaderFuzz, MiniMindTokenizer) {
  std::string file =
      std::string(MIND_SHARED_DATA_DIR) + "/minimind_tokenizer.json";
  if (!std::filesystem::exists(file))
    GTEST_SKIP() << file << " is absent: MiniMind's tokenizer not fuzzed";
  Bytes bytes = readFile(file);
  // 440 KB a load: fewer mutants, to stay within the time budget.
  fuzzTokenizer("Tokenizer::fromFile (MiniMind's, 6400 tokens)",
                0x313131D70CULL, toString(bytes), 300, 25);
}
