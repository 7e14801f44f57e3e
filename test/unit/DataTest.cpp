//===- DataTest.cpp - shards, corpus encoding, dataset and loader ---------===//

#include "mind/data/Corpus.h"
#include "mind/data/Dataset.h"
#include "mind/data/Shard.h"
#include "mind/data/TokenData.h"
#include "mind/data/Tokenizer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sys/resource.h>

using namespace mind::runtime;
namespace fs = std::filesystem;

namespace {
const Tokenizer &minimind() {
  static const Tokenizer t = Tokenizer::fromFile(
      std::string(MIND_SHARED_DATA_DIR) + "/minimind_tokenizer.json");
  return t;
}

class DataTest : public ::testing::Test {
protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mind-data-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir = tmpl;
  }
  void TearDown() override { fs::remove_all(dir); }
  std::string path(const std::string &name) { return dir + "/" + name; }
  std::string write(const std::string &name, const std::string &content) {
    std::ofstream(path(name), std::ios::binary) << content;
    return path(name);
  }
  std::string readAll(const std::string &p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  // A shard of `docs` (vocab 100 unless given).
  std::string makeShard(const std::string &name,
                        const std::vector<std::vector<int32_t>> &docs,
                        uint32_t vocab = 100) {
    ShardWriter w(path(name), vocab, 0x1234);
    for (const auto &d : docs)
      w.addDocument(d.data(), d.size());
    w.finish();
    return path(name);
  }
  // The names in directory `name` of the test directory ("" for itself).
  std::set<std::string> entries(const std::string &name) {
    std::set<std::string> names;
    for (const auto &e :
         fs::directory_iterator(name.empty() ? dir : path(name)))
      names.insert(e.path().filename().string());
    return names;
  }
  std::string openError(const std::string &p, bool verify = true) {
    try {
      Shard::open(p, verify);
    } catch (const DataError &e) {
      return e.what();
    }
    return "no error";
  }
  std::string dir;
};

std::vector<std::vector<int32_t>> sampleDocs() {
  return {{5, 6, 7}, {}, {9}, {10, 11, 12, 13, 14, 15, 16, 17, 18, 19}};
}
} // namespace

TEST_F(DataTest, ShardRoundTrip) {
  std::string p = makeShard("a.mtok", sampleDocs());
  EXPECT_FALSE(fs::exists(p + ".tmp"));
  Shard s = Shard::open(p);
  EXPECT_EQ(s.header().vocabSize, 100u);
  EXPECT_EQ(s.header().tokenBytes, 2u);
  EXPECT_EQ(s.header().tokenizerHash, 0x1234u);
  EXPECT_EQ(s.numDocuments(), 4u);
  EXPECT_EQ(s.numTokens(), 14u);
  for (size_t i = 0; i < sampleDocs().size(); ++i)
    EXPECT_EQ(s.document(i), sampleDocs()[i]);
  // 64 header + 28 token bytes + 4 padding + 5 index entries.
  EXPECT_EQ(fs::file_size(p), 64u + 28 + 4 + 40);

  // Vocabularies above 65536 store u32 ids.
  std::string big = makeShard("b.mtok", {{70000, 1}, {65536}}, 70001);
  Shard b = Shard::open(big);
  EXPECT_EQ(b.header().tokenBytes, 4u);
  EXPECT_EQ(b.document(0), std::vector<int32_t>({70000, 1}));
  EXPECT_EQ(b.document(1), std::vector<int32_t>({65536}));
}

TEST_F(DataTest, ShardWriterRejectsIdsOutsideVocab) {
  ShardWriter w(path("c.mtok"), 10, 0);
  int32_t bad[] = {3, 10};
  EXPECT_THROW(w.addDocument(bad, 2), DataError);
}

TEST_F(DataTest, ShardHeaderValidation) {
  std::string good = readAll(makeShard("good.mtok", sampleDocs()));
  auto variant = [&](const std::string &name, std::string bytes) {
    return write(name, bytes);
  };
  EXPECT_NE(openError(variant("empty.mtok", "")).find("too small"),
            std::string::npos);
  EXPECT_NE(openError(variant("trunc.mtok", good.substr(0, good.size() - 1)))
                .find("truncated or trailing"),
            std::string::npos);
  EXPECT_NE(openError(variant("trail.mtok", good + "x")).find("trailing"),
            std::string::npos);
  std::string magic = good;
  magic[0] = 'X';
  EXPECT_NE(openError(variant("magic.mtok", magic)).find("bad magic"),
            std::string::npos);
  std::string version = good;
  version[8] = 2;
  EXPECT_NE(openError(variant("version.mtok", version)).find("version 2"),
            std::string::npos);
  std::string width = good;
  width[20] = 3;
  EXPECT_NE(openError(variant("width.mtok", width)).find("token width"),
            std::string::npos);
  std::string count = good;
  count[24] = 5; // 5 documents claimed
  EXPECT_NE(openError(variant("count.mtok", count)).find("implies"),
            std::string::npos);
  // A flipped token bit: the checksum catches it; without verify it opens.
  std::string flipped = good;
  flipped[64] ^= 1;
  std::string f = variant("flip.mtok", flipped);
  EXPECT_NE(openError(f).find("checksum mismatch"), std::string::npos);
  EXPECT_EQ(openError(f, /*verify=*/false), "no error");
  // The index must be monotone and span the tokens.
  std::string index = good;
  index[good.size() - 16] = 1; // document 3 starts at token 1
  EXPECT_NE(openError(variant("index.mtok", index)).find("index decreases"),
            std::string::npos);
  // Ids must be below the header's vocabulary (the checksum does not cover
  // the header, so this is the id check).
  std::string vocab = good;
  vocab[16] = 12;
  EXPECT_NE(openError(variant("vocab.mtok", vocab)).find("outside the vocab"),
            std::string::npos);
}

TEST_F(DataTest, EncodeJsonlReportsMalformedLines) {
  std::string in =
      write("in.jsonl",
            "{\"text\": \"Hello world\"}\n"                  // 1 ok
            "{\"text\": \"unterminated}\n"                   // 2 bad JSON
            "\n"                                             // 3 blank: ignored
            "{\"title\": \"no text\"}\n"                     // 4 missing text
            "{\"text\": 42}\n"                               // 5 not a string
            "{\"text\": \"bad \xff byte\"}\n"                // 6 invalid UTF-8
            "[1, 2]\n"                                       // 7 not an object
            "{\"text\": \"\"}\n"                             // 8 empty: skipped
            "{\"text\": \"lone \\ud800 surrogate\"}\n"       // 9 invalid
            "{\"text\": \"<|im_start|>你好<|im_end|>\"}\r\n" // 10 ok
      );
  EncodeOptions opts;
  opts.outputDir = path("out");
  opts.corpus.threads = 2;
  std::vector<MalformedLine> seen;
  EncodeStats st =
      encodeCorpus(minimind(), {in}, opts,
                   [&](const MalformedLine &m) { seen.push_back(m); });
  EXPECT_EQ(st.documents, 2u);
  EXPECT_EQ(st.emptyDocuments, 1u);
  EXPECT_EQ(st.malformed, 6u);
  ASSERT_EQ(seen.size(), 6u);
  std::vector<uint64_t> lines;
  for (const MalformedLine &m : seen) {
    EXPECT_EQ(m.file, in);
    lines.push_back(m.line);
  }
  EXPECT_EQ(lines, std::vector<uint64_t>({2, 4, 5, 6, 7, 9}));
  EXPECT_NE(seen[0].str().find("in.jsonl:2: bad JSON"), std::string::npos);
  EXPECT_NE(seen[1].reason.find("missing \"text\""), std::string::npos);
  EXPECT_NE(seen[2].reason.find("not a string"), std::string::npos);
  EXPECT_NE(seen[3].reason.find("UTF-8"), std::string::npos);
  EXPECT_NE(seen[4].reason.find("not a JSON object"), std::string::npos);
  ASSERT_EQ(st.shards.size(), 1u);
  Shard s = Shard::open(st.shards[0]);
  EXPECT_EQ(s.header().vocabSize, 6400u);
  EXPECT_EQ(s.header().tokenizerHash, minimind().hash());
  EXPECT_EQ(minimind().decode(s.document(0)), "Hello world");
  EXPECT_EQ(s.document(1), std::vector<int32_t>({1, 5134, 2}));
  EXPECT_EQ(s.numTokens(), st.tokens);

  // Strict: the first malformed line is fatal, no new shard is written and
  // the one already there is kept.
  std::string before = readAll(st.shards[0]);
  opts.corpus.strict = true;
  opts.overwrite = true;
  try {
    encodeCorpus(minimind(), {in}, opts);
    FAIL() << "strict mode accepted a malformed line";
  } catch (const DataError &e) {
    EXPECT_NE(std::string(e.what()).find("in.jsonl:2: bad JSON"),
              std::string::npos);
  }
  EXPECT_EQ(entries("out"), std::set<std::string>({"shard-00000.mtok"}));
  EXPECT_EQ(readAll(st.shards[0]), before);
}

TEST_F(DataTest, EncodeRefusesToMixWithOldShards) {
  std::string in = write("in.jsonl", "{\"text\": \"a\"}\n");
  EncodeOptions opts;
  opts.outputDir = path("out");
  encodeCorpus(minimind(), {in}, opts);
  EXPECT_THROW(encodeCorpus(minimind(), {in}, opts), DataError);
  opts.overwrite = true;
  EXPECT_EQ(encodeCorpus(minimind(), {in}, opts).documents, 1u);
}

// --force used to delete the old shards before encoding, so an encode that
// then failed (a bad line in strict mode, a full disk) left the directory
// empty. The new set is written beside it and swapped in only on success.
TEST_F(DataTest, EncodeForceKeepsOldShardsWhenItFails) {
  std::string good, bad;
  for (int i = 1; i <= 60; ++i) {
    good += "{\"text\": \"good document " + std::to_string(i) + "\"}\n";
    bad += i == 51 ? "{\"text\": oops}\n"
                   : "{\"text\": \"new document " + std::to_string(i) + "\"}\n";
  }
  write("good.jsonl", good);
  write("bad.jsonl", bad);
  EncodeOptions opts;
  opts.outputDir = path("out");
  opts.shardTokens = 100;
  EncodeStats st = encodeCorpus(minimind(), {path("good.jsonl")}, opts);
  ASSERT_GT(st.shards.size(), 2u);
  std::map<std::string, std::string> old;
  for (const std::string &p : st.shards)
    old[fs::path(p).filename().string()] = readAll(p);

  opts.overwrite = true;
  opts.corpus.strict = true;
  // Small batches and shards: new shards are written before line 51 fails.
  opts.corpus.batchBytes = 64;
  opts.shardTokens = 20;
  size_t consumed = 0;
  try {
    encodeCorpus(
        minimind(), {path("bad.jsonl")}, opts, {},
        [&](const EncodeStats &s, uint64_t) { consumed = s.documents; });
    FAIL() << "strict mode accepted a malformed line";
  } catch (const DataError &e) {
    EXPECT_NE(std::string(e.what()).find("bad.jsonl:51: bad JSON"),
              std::string::npos);
  }
  EXPECT_GT(consumed, 20u);
  // The old shards, byte for byte, and nothing else; no staging directory
  // left beside them.
  std::set<std::string> names;
  for (auto &[name, bytes] : old) {
    names.insert(name);
    EXPECT_EQ(readAll(path("out/" + name)), bytes) << name;
  }
  EXPECT_EQ(entries("out"), names);
  EXPECT_EQ(entries(""),
            std::set<std::string>({"good.jsonl", "bad.jsonl", "out"}));
  EXPECT_EQ(Dataset::open({path("out")}, DatasetOptions())->numSamples(), 60);

  // A new output directory is not created at all when encoding fails.
  opts.outputDir = path("new/out");
  EXPECT_THROW(encodeCorpus(minimind(), {path("bad.jsonl")}, opts), DataError);
  EXPECT_FALSE(fs::exists(path("new/out")));
  EXPECT_TRUE(fs::is_empty(path("new")));
}

// A successful --force replaces the whole set: no old shard is left to mix
// with the new ones, and other files in the directory are kept.
TEST_F(DataTest, EncodeForceReplacesTheShardSet) {
  std::string many, one = write("one.jsonl", "{\"text\": \"just one\"}\n");
  for (int i = 0; i < 40; ++i)
    many += "{\"text\": \"document " + std::to_string(i) + "\"}\n";
  write("many.jsonl", many);
  for (bool otherFile : {false, true}) {
    SCOPED_TRACE(otherFile ? "a directory with another file"
                           : "a directory of shards only");
    fs::remove_all(path("out"));
    EncodeOptions opts;
    opts.outputDir = path("out");
    opts.shardTokens = 50;
    ASSERT_GT(
        encodeCorpus(minimind(), {path("many.jsonl")}, opts).shards.size(), 2u);
    fs::permissions(path("out"), fs::perms(0750));
    if (otherFile)
      write("out/notes.txt", "keep me");
    opts.overwrite = true;
    EncodeStats st = encodeCorpus(minimind(), {one}, opts);
    ASSERT_EQ(st.shards,
              std::vector<std::string>({path("out/shard-00000.mtok")}));
    std::set<std::string> expected = {"shard-00000.mtok"};
    if (otherFile)
      expected.insert("notes.txt");
    EXPECT_EQ(entries("out"), expected);
    EXPECT_EQ(entries(""),
              std::set<std::string>({"one.jsonl", "many.jsonl", "out"}));
    EXPECT_EQ(fs::status(path("out")).permissions(), fs::perms(0750));
    Shard s = Shard::open(st.shards[0]);
    ASSERT_EQ(s.numDocuments(), 1u);
    EXPECT_EQ(minimind().decode(s.document(0)), "just one");
  }
}

// Python's json, which MiniMind reads corpora with, keeps the last of a
// repeated key; so does encode.
TEST_F(DataTest, EncodeUsesTheLastRepeatedKey) {
  std::string in =
      write("in.jsonl", "{\"text\": \"first\", \"text\": \"last\"}\n"
                        "{\"text\": 1, \"text\": \"a string\"}\n"
                        "{\"text\": \"a string\", \"text\": 1}\n");
  EncodeOptions opts;
  opts.outputDir = path("out");
  std::vector<MalformedLine> seen;
  EncodeStats st =
      encodeCorpus(minimind(), {in}, opts,
                   [&](const MalformedLine &m) { seen.push_back(m); });
  ASSERT_EQ(st.documents, 2u);
  Shard s = Shard::open(st.shards[0]);
  EXPECT_EQ(minimind().decode(s.document(0)), "last");
  EXPECT_EQ(minimind().decode(s.document(1)), "a string");
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].str(), in + ":3: \"text\" is not a string");
}

// Every line malformed is an error (a wrong --field, say), not an empty
// shard; an empty corpus still gives one.
TEST_F(DataTest, EncodeWithoutDocumentsFails) {
  std::string in = write("in.jsonl", "{\"body\": \"a\"}\n\n{\"body\": \"b\"}\n"
                                     "{\"text\": \"\"}\n");
  EncodeOptions opts;
  opts.outputDir = path("out");
  try {
    encodeCorpus(minimind(), {in}, opts);
    FAIL() << "a corpus without documents was accepted";
  } catch (const DataError &e) {
    EXPECT_EQ(std::string(e.what()),
              in + ": no documents were read: 2 malformed lines and 1 empty "
                   "documents skipped");
  }
  EXPECT_FALSE(fs::exists(path("out")));
  write("bad.jsonl", "oops\n");
  try {
    encodeCorpus(minimind(), {in, path("bad.jsonl")}, opts);
    FAIL() << "a corpus without documents was accepted";
  } catch (const DataError &e) {
    EXPECT_EQ(std::string(e.what()),
              "2 input files: no documents were read: 3 malformed lines and "
              "1 empty documents skipped");
  }
  write("bad.jsonl", "oops\n");
  try {
    encodeCorpus(minimind(), {path("bad.jsonl")}, opts);
    FAIL() << "a corpus without documents was accepted";
  } catch (const DataError &e) {
    EXPECT_EQ(std::string(e.what()), path("bad.jsonl") +
                                         ": no documents were read: all 1 "
                                         "malformed line skipped");
  }
  EncodeStats st = encodeCorpus(minimind(), {write("empty.jsonl", "")}, opts);
  ASSERT_EQ(st.shards.size(), 1u);
  EXPECT_EQ(Shard::open(st.shards[0]).numDocuments(), 0u);
}

// A directory where a file is expected, or a missing file, is said to be
// one, by every reader ("read error", "cannot map: No such device" and
// "unexpected end of input" before).
TEST_F(DataTest, ReadersNameDirectoriesAndMissingFiles) {
  fs::create_directories(path("d"));
  std::string d = path("d"), missing = path("missing.jsonl");
  EXPECT_EQ(openError(d), d + ": is a directory, expected a shard file");
  EXPECT_EQ(openError(path("none.mtok")), path("none.mtok") + ": no such file");
  auto pipelineError = [&](const std::vector<std::string> &files) {
    try {
      runCorpusPipeline(files, CorpusOptions(), {}, [](DocumentBatch &) {});
    } catch (const DataError &e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  std::string ok = write("ok.jsonl", "{\"text\": \"a\"}\n");
  EXPECT_EQ(pipelineError({ok, d}),
            d + ": is a directory, expected a corpus file");
  EXPECT_EQ(pipelineError({ok, missing}), missing + ": no such file");
  EncodeOptions opts;
  opts.outputDir = path("out");
  EXPECT_THROW(encodeCorpus(minimind(), {ok, d}, opts), DataError);
  EXPECT_FALSE(fs::exists(path("out"))); // checked before anything is made
  try {
    openTokenSamples(path("ids.txt"), 8, 100);
    FAIL() << "a missing token file was accepted";
  } catch (const std::runtime_error &e) {
    EXPECT_EQ(std::string(e.what()), path("ids.txt") + ": no such file");
  }
  try {
    Dataset::open({path("d/none.mtok")}, DatasetOptions());
    FAIL() << "a missing shard was accepted";
  } catch (const DataError &e) {
    EXPECT_EQ(std::string(e.what()), path("d/none.mtok") + ": no such file");
  }
  // An output path that is a file.
  opts.outputDir = ok;
  try {
    encodeCorpus(minimind(), {ok}, opts);
    FAIL() << "a file was taken as the output directory";
  } catch (const DataError &e) {
    EXPECT_EQ(std::string(e.what()), ok + ": is not a directory");
  }
}

// More threads than the pipeline's maximum is an error, not 100000 threads
// (which ended in std::terminate).
TEST_F(DataTest, CorpusThreadsAreCapped) {
  std::string in = write("in.jsonl", "{\"text\": \"a\"}\n");
  CorpusOptions c;
  c.threads = 100000;
  try {
    runCorpusPipeline({in}, c, {}, [](DocumentBatch &) {});
    FAIL() << "100000 threads accepted";
  } catch (const DataError &e) {
    EXPECT_EQ(std::string(e.what()),
              "threads: 100000 is above the maximum, 1024");
  }
  c.threads = kMaxCorpusThreads;
  size_t docs = 0;
  runCorpusPipeline({in}, c, {},
                    [&](DocumentBatch &b) { docs += b.texts.size(); });
  EXPECT_EQ(docs, 1u);
}

TEST_F(DataTest, EncodePlainText) {
  std::string in =
      write("in.txt", "first line\r\nsecond\n\n\nthird a\nthird b\n"
                      "bad \xfe\n");
  EncodeOptions opts;
  opts.outputDir = path("lines");
  std::vector<MalformedLine> seen;
  EncodeStats st =
      encodeCorpus(minimind(), {in}, opts,
                   [&](const MalformedLine &m) { seen.push_back(m); });
  EXPECT_EQ(st.documents, 4u);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].line, 7u);
  Shard s = Shard::open(st.shards[0]);
  EXPECT_EQ(minimind().decode(s.document(0)), "first line");
  EXPECT_EQ(minimind().decode(s.document(3)), "third b");

  opts.outputDir = path("paras");
  opts.corpus.textDocuments = TextDocuments::Paragraph;
  st = encodeCorpus(minimind(), {in}, opts);
  EXPECT_EQ(st.documents, 1u); // the paragraph holding the bad line is skipped
  EXPECT_EQ(st.malformed, 1u);
  Shard p = Shard::open(st.shards[0]);
  EXPECT_EQ(minimind().decode(p.document(0)), "first line\nsecond");
}

TEST_F(DataTest, ShardsRollOverAndLoadInOrder) {
  std::string text;
  for (int i = 0; i < 300; ++i)
    text += "{\"text\": \"document number " + std::to_string(i) + "\"}\n";
  std::string in = write("in.jsonl", text);
  EncodeOptions opts;
  opts.outputDir = path("out");
  opts.shardTokens = 100;
  opts.corpus.batchBytes = 512; // many small batches through 2 workers
  opts.corpus.threads = 2;
  EncodeStats st = encodeCorpus(minimind(), {in, in}, opts);
  EXPECT_EQ(st.documents, 600u);
  EXPECT_GT(st.shards.size(), 5u);
  DatasetOptions d;
  d.maxLength = 16;
  auto ds = Dataset::open({path("out")}, d);
  ASSERT_EQ(ds->numSamples(), 600);
  for (int i : {0, 1, 150, 299, 300, 599}) {
    std::vector<int64_t> s = ds->sample(i);
    std::vector<int32_t> ids;
    for (int64_t v : s)
      if (v)
        ids.push_back(static_cast<int32_t>(v));
    EXPECT_EQ(minimind().decode(ids),
              "document number " + std::to_string(i % 300));
  }
}

// A corpus much larger than the pipeline's window must not be held in
// memory: peak RSS grows by far less than the input.
TEST_F(DataTest, EncodeMemoryIsBounded) {
  std::string in = path("big.jsonl");
  {
    std::ofstream out(in);
    std::string line = "{\"text\": \"";
    for (int w = 0; w < 60; ++w)
      line +=
          "word" + std::to_string(w % 37) + " 中文" + std::to_string(w) + " ";
    line += "\"}\n";
    for (size_t written = 0; written < (48u << 20); written += line.size())
      out << line;
  }
  struct rusage before, after;
  getrusage(RUSAGE_SELF, &before);
  EncodeOptions opts;
  opts.outputDir = path("out");
  opts.corpus.threads = 2; // the window (and so the bound) scales with threads
  EncodeStats st = encodeCorpus(minimind(), {in}, opts);
  getrusage(RUSAGE_SELF, &after);
  EXPECT_GT(st.inputBytes, 48u << 20);
  long grownKiB = after.ru_maxrss - before.ru_maxrss;
  EXPECT_LT(grownKiB, 24 << 10) << "peak RSS grew by " << grownKiB << " KiB";
}

TEST_F(DataTest, PretrainDatasetSemantics) {
  std::string p = makeShard("s.mtok", sampleDocs());
  DatasetOptions o;
  o.maxLength = 6;
  auto ds = Dataset::open({p}, o);
  ASSERT_EQ(ds->numSamples(), 4);
  EXPECT_EQ(ds->sample(0), std::vector<int64_t>({5, 6, 7, 0, 0, 0}));
  EXPECT_EQ(ds->sample(1), std::vector<int64_t>({0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(ds->sample(3), std::vector<int64_t>({10, 11, 12, 13, 14, 15}));
  LoaderOptions lo;
  lo.batchSize = 2;
  lo.sampler.shuffle = false;
  DataLoader loader(ds, lo);
  TokenBatch b;
  ASSERT_TRUE(loader.next(b));
  EXPECT_EQ(b.batch, 2);
  EXPECT_EQ(b.seq, 5);
  // X = ids[:-1], Y = ids[1:], mask = (Y != 0).
  EXPECT_EQ(std::vector<int64_t>(b.ids.begin(), b.ids.begin() + 5),
            std::vector<int64_t>({5, 6, 7, 0, 0}));
  EXPECT_EQ(std::vector<int64_t>(b.targets.begin(), b.targets.begin() + 5),
            std::vector<int64_t>({6, 7, 0, 0, 0}));
  EXPECT_EQ(std::vector<int64_t>(b.mask.begin(), b.mask.begin() + 5),
            std::vector<int64_t>({1, 1, 0, 0, 0}));
  EXPECT_EQ(loader.batchesPerEpoch(), 2);
  ASSERT_TRUE(loader.next(b));
  EXPECT_FALSE(loader.next(b)); // end of epoch 0
  EXPECT_EQ(loader.cursor(), (DataCursor{1, 0}));
}

TEST_F(DataTest, Packing) {
  std::string p = makeShard("s.mtok", sampleDocs());
  std::string q = makeShard("t.mtok", {{20, 21}});
  DatasetOptions o;
  o.maxLength = 4;
  o.packing = true;
  auto ds = Dataset::open({p, q}, o);
  // Stream: 5 6 7 | 9 | 10..19 | 20 21 -> 16 tokens, 4 chunks.
  ASSERT_EQ(ds->numSamples(), 4);
  EXPECT_EQ(ds->sample(0), std::vector<int64_t>({5, 6, 7, 9}));
  EXPECT_EQ(ds->sample(1), std::vector<int64_t>({10, 11, 12, 13}));
  EXPECT_EQ(ds->sample(3), std::vector<int64_t>({18, 19, 20, 21}));
  o.packSeparator = 2;
  ds = Dataset::open({p, q}, o);
  // 5 6 7 2 | 2 | 9 2 | 10..19 2 | 20 21 2 -> 21 tokens, 6 chunks.
  ASSERT_EQ(ds->numSamples(), 6);
  EXPECT_EQ(ds->sample(0), std::vector<int64_t>({5, 6, 7, 2}));
  EXPECT_EQ(ds->sample(1), std::vector<int64_t>({2, 9, 2, 10}));
  EXPECT_EQ(ds->sample(4), std::vector<int64_t>({19, 2, 20, 21}));
  EXPECT_EQ(ds->sample(5), std::vector<int64_t>({2, 0, 0, 0}));
}

TEST(DataOrderTest, PermutationIsPureAndComplete) {
  for (int64_t n : {1, 2, 3, 7, 64, 100, 1000, 4097}) {
    std::vector<int64_t> a, b;
    for (int64_t i = 0; i < n; ++i) {
      a.push_back(shuffledIndex(42, 3, i, n));
      b.push_back(shuffledIndex(42, 3, i, n));
    }
    EXPECT_EQ(a, b);
    std::vector<int64_t> sorted = a;
    std::sort(sorted.begin(), sorted.end());
    for (int64_t i = 0; i < n; ++i)
      ASSERT_EQ(sorted[i], i) << "n=" << n;
  }
  int same = 0, sameSeed = 0;
  for (int64_t i = 0; i < 1000; ++i) {
    same += shuffledIndex(42, 0, i, 1000) == shuffledIndex(42, 1, i, 1000);
    sameSeed += shuffledIndex(42, 0, i, 1000) == shuffledIndex(43, 0, i, 1000);
  }
  EXPECT_LT(same, 20); // each epoch has its own order
  EXPECT_LT(sameSeed, 20);
}

TEST(DataOrderTest, DistributedSamplerPartitions) {
  for (int64_t n : {9, 10, 11}) {
    for (int64_t w : {1, 2, 3}) {
      for (bool dropLast : {false, true}) {
        std::multiset<int64_t> seen;
        int64_t per = 0;
        for (int64_t r = 0; r < w; ++r) {
          SamplerOptions o;
          o.rank = r;
          o.worldSize = w;
          o.dropLast = dropLast;
          DistributedSampler s(n, o);
          per = s.samplesPerRank();
          for (int64_t j = 0; j < per; ++j) {
            // torch: order padded with its beginning, then order[r::w].
            int64_t k = (r + j * w) % n;
            ASSERT_EQ(s.index(5, j), shuffledIndex(42, 5, k, n));
            seen.insert(s.index(5, j));
          }
        }
        EXPECT_EQ(per, dropLast ? n / w : (n + w - 1) / w);
        std::set<int64_t> distinct(seen.begin(), seen.end());
        if (dropLast) {
          EXPECT_EQ(seen.size(), distinct.size()) << "n=" << n << " w=" << w;
          EXPECT_EQ(seen.size(), static_cast<size_t>(n / w * w));
        } else {
          // Every sample exactly once, plus the torch padding repeats.
          EXPECT_EQ(distinct.size(), static_cast<size_t>(n));
          EXPECT_EQ(seen.size(), static_cast<size_t>(per * w));
        }
      }
    }
  }
  SamplerOptions bad;
  bad.rank = 2;
  bad.worldSize = 2;
  EXPECT_THROW(DistributedSampler(10, bad), DataError);
}

TEST_F(DataTest, CursorRestoreGivesTheSameNextBatch) {
  std::vector<std::vector<int32_t>> docs;
  for (int i = 0; i < 23; ++i)
    docs.push_back({i + 3, i + 4, (i * 7) % 50 + 3});
  auto ds = Dataset::open({makeShard("s.mtok", docs)}, DatasetOptions{4});
  LoaderOptions lo;
  lo.batchSize = 4;
  lo.sampler.worldSize = 2;
  lo.sampler.rank = 1;
  lo.prefetch = 2;
  int staged = 0;
  lo.stage = [&](TokenBatch &) { ++staged; };
  DataLoader a(ds, lo);
  EXPECT_EQ(a.batchesPerEpoch(), 3); // 12 samples per rank
  TokenBatch b;
  std::vector<DataCursor> cursors;
  std::vector<std::vector<int64_t>> batches;
  for (int i = 0; i < 9; ++i) { // crosses two epoch ends
    cursors.push_back(a.cursor());
    if (!a.next(b))
      continue;
    batches.push_back(b.ids);
    // A loader restored from the cursor yields this very batch.
    DataLoader r(ds, lo, cursors.back());
    TokenBatch rb;
    ASSERT_TRUE(r.next(rb));
    EXPECT_EQ(rb.ids, b.ids);
    EXPECT_EQ(rb.targets, b.targets);
    EXPECT_EQ(r.cursor(), a.cursor());
  }
  EXPECT_GT(staged, 0);
  EXPECT_EQ(batches.size(), 7u);
  EXPECT_EQ(batches[3].size(), 4u * 3); // epoch 1 starts anew
  EXPECT_NE(batches[0], batches[3]);    // in another order
  EXPECT_EQ(rescaleCursor({1, 6}, 2, 4), (DataCursor{1, 3}));
}

TEST_F(DataTest, OpenTokenSamplesStreamsShards) {
  std::string p = makeShard("s.mtok", sampleDocs(), 6400);
  auto s = openTokenSamples(p, 5, 6400);
  EXPECT_EQ(s->numSamples(), 4);
  EXPECT_NE(dynamic_cast<const Dataset *>(s.get()), nullptr); // not copied
  std::vector<int64_t> row(5);
  s->sample(3, row.data());
  EXPECT_EQ(row, std::vector<int64_t>({10, 11, 12, 13, 14}));
  fs::create_directories(path("d"));
  fs::rename(p, path("d/x.mtok"));
  EXPECT_EQ(openTokenSamples(path("d"), 5, 6400)->numSamples(), 4);
  try {
    openTokenSamples(path("d"), 5, 8000);
    FAIL() << "vocabulary mismatch accepted";
  } catch (const std::runtime_error &e) {
    EXPECT_NE(std::string(e.what()).find("vocabulary of 6400 tokens but the "
                                         "model has 8000"),
              std::string::npos);
  }
}

// The trainers' read path over an in-memory source: fixed-shape batches, the
// partial last batch dropped, epochs stepped over, a restart at a saved
// position giving the same batches, and a misplaced read refused.
TEST(TrainerLoader, ReadsEpochsAndRestartsAtACursor) {
  auto source = syntheticSamples(10, 6, 100, 1);
  LoaderOptions o = trainerLoaderOptions(3, 7, true);
  std::vector<std::vector<int64_t>> seen;
  {
    DataLoader loader(source, o);
    ASSERT_EQ(loader.batchesPerEpoch(), 3); // 10 samples: one dropped
    TokenBatch b;
    for (int64_t epoch = 0; epoch < 2; ++epoch) {
      std::set<std::vector<int64_t>> rows;
      for (int64_t it = 0; it < 3; ++it) {
        nextTrainingBatch(loader, b, epoch, it * 3);
        ASSERT_EQ(b.batch, 3);
        ASSERT_EQ(b.seq, 5);
        for (int64_t r = 0; r < 3; ++r)
          rows.insert({b.ids.begin() + r * 5, b.ids.begin() + r * 5 + 5});
        seen.push_back(b.ids);
      }
      EXPECT_EQ(rows.size(), 9u) << "a sample repeated within an epoch";
    }
    EXPECT_THROW(nextTrainingBatch(loader, b, 2, 3), DataError);
  }
  EXPECT_NE(seen[0], seen[3]); // epoch 1 is shuffled anew
  DataLoader restarted(source, o, {1, 3});
  TokenBatch b;
  nextTrainingBatch(restarted, b, 1, 3);
  EXPECT_EQ(b.ids, seen[4]);
  nextTrainingBatch(restarted, b, 1, 6);
  EXPECT_EQ(b.ids, seen[5]);
}
