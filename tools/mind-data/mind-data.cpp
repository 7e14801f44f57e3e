//===- mind-data.cpp - tokenizer and corpus tool --------------------------===//
//
//   mind-data encode --tokenizer T.json -o DIR FILES...   corpus -> shards
//   mind-data inspect SHARD [--tokenizer T.json]          header + documents
//   mind-data tokenize --tokenizer T.json [FILE]          JSONL -> id arrays
//   mind-data train-tokenizer --vocab-size N -o T.json FILES...
//   mind-data bench --tokenizer T.json FILE               encode MB/s
//
// Corpora are JSONL with a "text" field (MiniMind's pretrain format) or plain
// text; see docs/Data.md.
//
//===----------------------------------------------------------------------===//

#include "mind/data/BpeTrainer.h"
#include "mind/data/Corpus.h"
#include "mind/data/Shard.h"
#include "mind/data/Tokenizer.h"

#include <cxxopts.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>
#include <unistd.h>

using namespace mind::runtime;

namespace {
[[noreturn]] void fail(const std::string &msg) {
  std::cerr << "mind-data: error: " << msg << "\n";
  std::exit(1);
}

const char *kUsage =
    "usage: mind-data COMMAND [options]\n"
    "commands:\n"
    "  encode           corpus (JSONL or text) -> token shards\n"
    "  inspect          print a shard's header and first documents\n"
    "  tokenize         JSONL with \"text\" -> one JSON array of ids per line\n"
    "  train-tokenizer  learn a byte-level BPE tokenizer.json\n"
    "  bench            measure encoding speed (MB/s)\n"
    "`mind-data COMMAND --help` lists a command's options.\n";

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
      .count();
}

// Adds the corpus reading options shared by encode and train-tokenizer.
void addCorpusOptions(cxxopts::Options &o) {
  // clang-format off
  o.add_options()
    ("format", "auto (.jsonl/.json and stdin: JSONL), jsonl or text",
     cxxopts::value<std::string>()->default_value("auto"))
    ("text-docs", "plain text: line (a document per line) or paragraph "
     "(blank lines separate documents)",
     cxxopts::value<std::string>()->default_value("line"))
    ("field", "JSONL text field", cxxopts::value<std::string>()->default_value("text"))
    ("strict", "a malformed line is fatal (default: report and skip)")
    ("threads", "worker threads (0: all cores; at most 1024)",
     cxxopts::value<unsigned>()->default_value("0"))
    ("max-errors", "malformed lines reported individually",
     cxxopts::value<size_t>()->default_value("20"))
    ("progress", "show a progress bar even when stderr is not a terminal")
    ("h,help", "this help");
  // clang-format on
}

// --threads, checked against the pipeline's maximum (more would only fail
// to start, or exhaust memory with batches in flight).
unsigned threadsOption(unsigned threads) {
  if (threads > kMaxCorpusThreads)
    fail("--threads " + std::to_string(threads) + " is above the maximum, " +
         std::to_string(kMaxCorpusThreads));
  return threads;
}

CorpusOptions corpusOptions(const cxxopts::ParseResult &r) {
  CorpusOptions c;
  std::string f = r["format"].as<std::string>();
  if (f == "auto")
    c.format = CorpusFormat::Auto;
  else if (f == "jsonl")
    c.format = CorpusFormat::Jsonl;
  else if (f == "text")
    c.format = CorpusFormat::Text;
  else
    fail("--format must be auto, jsonl or text");
  std::string d = r["text-docs"].as<std::string>();
  if (d != "line" && d != "paragraph")
    fail("--text-docs must be line or paragraph");
  c.textDocuments =
      d == "line" ? TextDocuments::Line : TextDocuments::Paragraph;
  c.field = r["field"].as<std::string>();
  c.strict = r.count("strict") > 0;
  c.threads = threadsOption(r["threads"].as<unsigned>());
  return c;
}

// Progress line on stderr, redrawn at most 10 times a second.
class Progress {
public:
  Progress(const char *what, bool enabled) : what(what), enabled(enabled) {}
  void update(uint64_t done, uint64_t total, const std::string &extra) {
    if (!enabled)
      return;
    auto now = std::chrono::steady_clock::now();
    if (drawn && now - last < std::chrono::milliseconds(100) && done < total)
      return;
    last = now;
    drawn = true;
    double secs = since(start), mb = done / 1e6;
    char line[256];
    if (total > 0) {
      int fill = static_cast<int>(30.0 * done / total);
      std::string bar(fill, '#');
      bar.resize(30, '-');
      std::snprintf(line, sizeof(line),
                    "\r%s [%s] %5.1f%% %.1f/%.1f MB %.1f MB/s %s", what,
                    bar.c_str(), 100.0 * done / total, mb, total / 1e6,
                    secs > 0 ? mb / secs : 0.0, extra.c_str());
    } else {
      std::snprintf(line, sizeof(line), "\r%s %.1f MB %.1f MB/s %s", what, mb,
                    secs > 0 ? mb / secs : 0.0, extra.c_str());
    }
    std::cerr << line << std::flush;
  }
  void finish() {
    if (enabled && drawn)
      std::cerr << "\n";
  }

private:
  const char *what;
  bool enabled, drawn = false;
  std::chrono::steady_clock::time_point start =
                                            std::chrono::steady_clock::now(),
                                        last;
};

// Prints the first `limit` malformed lines; the caller prints the count.
struct MalformedReporter {
  size_t limit, seen = 0;
  void operator()(const MalformedLine &m) {
    if (seen++ < limit)
      std::cerr << "mind-data: warning: " << m.str() << " (skipped)\n";
  }
};

Tokenizer loadTokenizer(const std::string &path) {
  if (path.empty())
    fail("--tokenizer is required");
  try {
    return Tokenizer::fromFile(path);
  } catch (const TokenizerError &e) {
    fail(e.what());
  }
}

int cmdEncode(int argc, char **argv) {
  cxxopts::Options o("mind-data encode",
                     "Encode a corpus into token shards (docs/Data.md)");
  o.positional_help("FILES... ('-' is stdin)");
  // clang-format off
  o.add_options()
    ("tokenizer", "tokenizer.json", cxxopts::value<std::string>())
    ("o,output", "output directory (shard-00000.mtok, ...)", cxxopts::value<std::string>())
    ("shard-tokens", "tokens per shard before starting the next",
     cxxopts::value<uint64_t>()->default_value("1073741824"))
    ("force", "replace shards already in the output directory")
    ("files", "inputs", cxxopts::value<std::vector<std::string>>());
  // clang-format on
  addCorpusOptions(o);
  o.parse_positional({"files"});
  auto r = o.parse(argc, argv);
  if (r.count("help")) {
    std::cout << o.help() << "\n";
    return 0;
  }
  if (!r.count("files"))
    fail("encode: no input files");
  if (!r.count("output"))
    fail("encode: -o DIR is required");
  Tokenizer tok = loadTokenizer(
      r.count("tokenizer") ? r["tokenizer"].as<std::string>() : "");
  EncodeOptions opts;
  opts.corpus = corpusOptions(r);
  opts.outputDir = r["output"].as<std::string>();
  opts.shardTokens = r["shard-tokens"].as<uint64_t>();
  opts.overwrite = r.count("force") > 0;
  Progress bar("encode", r.count("progress") || isatty(2));
  MalformedReporter report{r["max-errors"].as<size_t>()};
  EncodeStats s;
  try {
    s = encodeCorpus(tok, r["files"].as<std::vector<std::string>>(), opts,
                     std::ref(report),
                     [&](const EncodeStats &st, uint64_t total) {
                       bar.update(st.inputBytes, total,
                                  std::to_string(st.documents) + " docs " +
                                      std::to_string(st.tokens) + " tokens");
                     });
  } catch (const std::exception &e) {
    bar.finish();
    fail(e.what());
  }
  bar.finish();
  std::printf("encode: %llu documents, %llu tokens (%.1f per document), %.2f "
              "MB in %.2f s (%.2f MB/s)\n",
              (unsigned long long)s.documents, (unsigned long long)s.tokens,
              s.documents ? double(s.tokens) / s.documents : 0.0,
              s.inputBytes / 1e6, s.seconds,
              s.seconds > 0 ? s.inputBytes / 1e6 / s.seconds : 0.0);
  std::printf("encode: %llu malformed lines skipped, %llu empty documents "
              "skipped\n",
              (unsigned long long)s.malformed,
              (unsigned long long)s.emptyDocuments);
  for (const std::string &sh : s.shards)
    std::printf("encode: wrote %s\n", sh.c_str());
  return 0;
}

int cmdInspect(int argc, char **argv) {
  cxxopts::Options o("mind-data inspect",
                     "Print a shard's header and its first documents");
  o.positional_help("SHARD");
  // clang-format off
  o.add_options()
    ("tokenizer", "decode documents with this tokenizer.json",
     cxxopts::value<std::string>())
    ("docs", "documents to print", cxxopts::value<uint64_t>()->default_value("3"))
    ("no-verify", "skip the checksum pass")
    ("shard", "shard file", cxxopts::value<std::string>())
    ("h,help", "this help");
  // clang-format on
  o.parse_positional({"shard"});
  auto r = o.parse(argc, argv);
  if (r.count("help")) {
    std::cout << o.help() << "\n";
    return 0;
  }
  if (!r.count("shard"))
    fail("inspect: no shard given");
  std::optional<Tokenizer> tok;
  if (r.count("tokenizer"))
    tok.emplace(loadTokenizer(r["tokenizer"].as<std::string>()));
  try {
    Shard s = Shard::open(r["shard"].as<std::string>(), !r.count("no-verify"));
    const ShardHeader &h = s.header();
    std::printf("shard: %s\n", s.path().c_str());
    std::printf("version: %u\nvocab size: %u\ntoken dtype: %s\n", h.version,
                h.vocabSize, h.tokenBytes == 2 ? "u16" : "u32");
    std::printf("documents: %llu\ntokens: %llu\n",
                (unsigned long long)h.documents, (unsigned long long)h.tokens);
    std::printf("tokenizer hash: %016llx\nchecksum: %016llx (%s)\n",
                (unsigned long long)h.tokenizerHash,
                (unsigned long long)h.checksum,
                r.count("no-verify") ? "not verified" : "verified");
    if (tok && h.tokenizerHash && tok->hash() != h.tokenizerHash)
      std::printf("warning: --tokenizer is not the one the shard was "
                  "encoded with\n");
    uint64_t n = std::min(h.documents, r["docs"].as<uint64_t>());
    for (uint64_t i = 0; i < n; ++i) {
      std::vector<int32_t> ids = s.document(i);
      std::printf("doc %llu: %zu tokens: ", (unsigned long long)i, ids.size());
      if (tok)
        std::printf("%s\n", nlohmann::json(tok->decode(ids)).dump().c_str());
      else
        std::printf("%s\n", nlohmann::json(ids).dump().c_str());
    }
  } catch (const std::exception &e) {
    fail(e.what());
  }
  return 0;
}

int cmdTokenize(int argc, char **argv) {
  cxxopts::Options o("mind-data tokenize",
                     "Encode the \"text\" of each JSONL line (stdin or FILE) "
                     "and print its ids as a JSON array, one line each");
  o.positional_help("[FILE]");
  // clang-format off
  o.add_options()
    ("tokenizer", "tokenizer.json", cxxopts::value<std::string>())
    ("field", "JSONL text field", cxxopts::value<std::string>()->default_value("text"))
    ("threads", "worker threads (0: all cores; at most 1024)",
     cxxopts::value<unsigned>()->default_value("0"))
    ("file", "input", cxxopts::value<std::string>()->default_value("-"))
    ("h,help", "this help");
  // clang-format on
  o.parse_positional({"file"});
  auto r = o.parse(argc, argv);
  if (r.count("help")) {
    std::cout << o.help() << "\n";
    return 0;
  }
  Tokenizer tok = loadTokenizer(
      r.count("tokenizer") ? r["tokenizer"].as<std::string>() : "");
  CorpusOptions c;
  c.format = CorpusFormat::Jsonl;
  c.field = r["field"].as<std::string>();
  c.strict = true; // output lines must match input lines
  c.keepEmpty = true;
  c.threads = threadsOption(r["threads"].as<unsigned>());
  std::string out;
  try {
    runCorpusPipeline(
        {r["file"].as<std::string>()}, c,
        [&](DocumentBatch &b) {
          for (const std::string &t : b.texts) {
            size_t before = b.tokens.size();
            tok.encodeInto(t, b.tokens);
            b.tokenCounts.push_back(
                static_cast<uint32_t>(b.tokens.size() - before));
          }
        },
        [&](DocumentBatch &b) {
          const int32_t *t = b.tokens.data();
          for (uint32_t n : b.tokenCounts) {
            out = "[";
            for (uint32_t i = 0; i < n; ++i) {
              if (i)
                out += ',';
              out += std::to_string(t[i]);
            }
            out += "]\n";
            std::fwrite(out.data(), 1, out.size(), stdout);
            t += n;
          }
        });
  } catch (const std::exception &e) {
    std::fflush(stdout);
    fail(e.what());
  }
  return 0;
}

int cmdTrain(int argc, char **argv) {
  cxxopts::Options o("mind-data train-tokenizer",
                     "Learn a byte-level BPE tokenizer (MiniMind's layout: "
                     "<|endoftext|>, <|im_start|>, <|im_end|> = 0, 1, 2)");
  o.positional_help("FILES...");
  // clang-format off
  o.add_options()
    ("vocab-size", "vocabulary size, specials and 256 bytes included",
     cxxopts::value<int32_t>()->default_value("6400"))
    ("min-frequency", "never merge rarer pairs",
     cxxopts::value<int64_t>()->default_value("0"))
    ("o,output", "tokenizer.json to write", cxxopts::value<std::string>())
    ("files", "inputs", cxxopts::value<std::vector<std::string>>());
  // clang-format on
  addCorpusOptions(o);
  o.parse_positional({"files"});
  auto r = o.parse(argc, argv);
  if (r.count("help")) {
    std::cout << o.help() << "\n";
    return 0;
  }
  if (!r.count("files"))
    fail("train-tokenizer: no input files");
  if (!r.count("output"))
    fail("train-tokenizer: -o T.json is required");
  BpeTrainerOptions t;
  t.vocabSize = r["vocab-size"].as<int32_t>();
  t.minFrequency = r["min-frequency"].as<int64_t>();
  if (t.vocabSize < 256 + static_cast<int32_t>(t.specialTokens.size()))
    fail("--vocab-size must be at least 259 (3 specials + 256 bytes)");
  BpeTrainer trainer(t);
  CorpusOptions c = corpusOptions(r);
  Progress bar("count", r.count("progress") || isatty(2));
  MalformedReporter report{r["max-errors"].as<size_t>()};
  uint64_t docs = 0, malformed = 0;
  auto t0 = std::chrono::steady_clock::now();
  BpeTrainingResult res;
  try {
    runCorpusPipeline(
        r["files"].as<std::vector<std::string>>(), c,
        [&](DocumentBatch &b) { trainer.addTexts(b.texts, 1); },
        [&](DocumentBatch &b) {
          for (const MalformedLine &m : b.malformed)
            report(m);
          malformed += b.malformed.size();
          docs += b.texts.size();
        },
        [&](uint64_t done, uint64_t total) {
          bar.update(done, total, std::to_string(docs) + " docs");
        });
    bar.finish();
    res = trainer.train();
    std::error_code ec;
    if (std::filesystem::is_directory(r["output"].as<std::string>(), ec))
      fail(r["output"].as<std::string>() +
           ": is a directory, expected a tokenizer file to write");
    std::ofstream out(r["output"].as<std::string>(), std::ios::binary);
    out << res.json;
    if (!out.flush())
      fail(r["output"].as<std::string>() + ": cannot write");
  } catch (const std::exception &e) {
    bar.finish();
    fail(e.what());
  }
  std::printf("train-tokenizer: %llu documents (%llu malformed lines "
              "skipped), %lld distinct words, vocab %d (%lld merges) in %.2f "
              "s -> %s\n",
              (unsigned long long)docs, (unsigned long long)malformed,
              (long long)res.distinctWords, res.vocabSize,
              (long long)res.merges, since(t0),
              r["output"].as<std::string>().c_str());
  if (res.vocabSize < t.vocabSize)
    std::fprintf(stderr,
                 "mind-data: warning: the corpus only supports %d tokens\n",
                 res.vocabSize);
  return 0;
}

int cmdBench(int argc, char **argv) {
  cxxopts::Options o("mind-data bench",
                     "Time Tokenizer::encodeBatch on a corpus held in memory");
  o.positional_help("FILE");
  // clang-format off
  o.add_options()
    ("tokenizer", "tokenizer.json", cxxopts::value<std::string>())
    ("threads", "comma-separated thread counts (each at most 1024)",
     cxxopts::value<std::vector<unsigned>>()->default_value("1"))
    ("repeat", "passes over the corpus (the best is reported)",
     cxxopts::value<int>()->default_value("3"))
    ("json", "one JSON object per thread count")
    ("file", "input", cxxopts::value<std::string>())
    ("h,help", "this help");
  // clang-format on
  o.parse_positional({"file"});
  auto r = o.parse(argc, argv);
  if (r.count("help") || !r.count("file")) {
    std::cout << o.help() << "\n";
    return r.count("help") ? 0 : 1;
  }
  std::vector<unsigned> threadCounts = r["threads"].as<std::vector<unsigned>>();
  for (unsigned threads : threadCounts)
    threadsOption(threads);
  Tokenizer tok = loadTokenizer(
      r.count("tokenizer") ? r["tokenizer"].as<std::string>() : "");
  std::vector<std::string> texts;
  uint64_t bytes = 0;
  try {
    runCorpusPipeline({r["file"].as<std::string>()}, CorpusOptions(), {},
                      [&](DocumentBatch &b) {
                        for (std::string &t : b.texts) {
                          bytes += t.size();
                          texts.push_back(std::move(t));
                        }
                      });
  } catch (const std::exception &e) {
    fail(e.what());
  }
  for (unsigned threads : threadCounts) {
    double best = 1e30;
    uint64_t tokens = 0;
    for (int rep = 0; rep < std::max(1, r["repeat"].as<int>()); ++rep) {
      // A fresh tokenizer per pass: the word cache starts cold each time.
      Tokenizer fresh = loadTokenizer(tok.source());
      auto t0 = std::chrono::steady_clock::now();
      std::vector<std::vector<int32_t>> ids;
      try {
        ids = fresh.encodeBatch(texts, threads);
      } catch (const std::exception &e) {
        fail(e.what());
      }
      best = std::min(best, since(t0));
      tokens = 0;
      for (auto &v : ids)
        tokens += v.size();
    }
    unsigned shown = threads ? threads : std::thread::hardware_concurrency();
    if (r.count("json"))
      std::printf("{\"threads\": %u, \"documents\": %zu, \"bytes\": %llu, "
                  "\"tokens\": %llu, \"seconds\": %.6f, \"mb_per_s\": %.3f}\n",
                  shown, texts.size(), (unsigned long long)bytes,
                  (unsigned long long)tokens, best, bytes / 1e6 / best);
    else
      std::printf("bench: %u threads: %zu documents, %.2f MB, %llu tokens in "
                  "%.3f s: %.2f MB/s\n",
                  shown, texts.size(), bytes / 1e6, (unsigned long long)tokens,
                  best, bytes / 1e6 / best);
  }
  return 0;
}
} // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::cerr << kUsage;
    return 1;
  }
  std::string cmd = argv[1];
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    std::cout << kUsage;
    return 0;
  }
  try {
    if (cmd == "encode")
      return cmdEncode(argc - 1, argv + 1);
    if (cmd == "inspect")
      return cmdInspect(argc - 1, argv + 1);
    if (cmd == "tokenize")
      return cmdTokenize(argc - 1, argv + 1);
    if (cmd == "train-tokenizer")
      return cmdTrain(argc - 1, argv + 1);
    if (cmd == "bench")
      return cmdBench(argc - 1, argv + 1);
  } catch (const cxxopts::exceptions::exception &e) {
    fail(std::string(cmd) + ": " + e.what());
  } catch (const std::exception &e) {
    // The commands report their own errors; this keeps anything missed
    // (std::bad_alloc, std::system_error) from ending in std::terminate.
    fail(std::string(cmd) + ": " + e.what());
  }
  std::cerr << "mind-data: error: unknown command '" << cmd << "'\n" << kUsage;
  return 1;
}
