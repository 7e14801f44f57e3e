//===- Corpus.cpp - streaming corpus reading and encoding -----------------===//

#include "mind/data/Corpus.h"

#include "mind/data/Shard.h"
#include "mind/data/Tokenizer.h"

#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

using namespace mind::runtime;
namespace fs = std::filesystem;

std::string MalformedLine::str() const {
  return file + ":" + std::to_string(line) + ": " + reason;
}

namespace {
// Whole input lines of one file, '\n'-terminated, followed by simdjson's
// padding so lines can be parsed in place.
struct RawBatch {
  uint64_t sequence = 0;
  std::string file;
  bool jsonl = true;
  uint64_t firstLine = 1;
  std::string data;
  size_t length = 0;
};

bool isBlank(const char *p, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
      return false;
  return true;
}

bool isJsonl(const std::string &file, CorpusFormat format) {
  if (format != CorpusFormat::Auto)
    return format == CorpusFormat::Jsonl;
  std::string ext = fs::path(file).extension().string();
  return file == "-" || ext == ".jsonl" || ext == ".json";
}

void parseJsonl(const RawBatch &raw, const CorpusOptions &opts,
                simdjson::dom::parser &parser, DocumentBatch &out) {
  const char *p = raw.data.data(), *end = p + raw.length;
  for (uint64_t line = raw.firstLine; p < end; ++line) {
    const char *nl = static_cast<const char *>(std::memchr(p, '\n', end - p));
    size_t n = nl - p;
    const char *text = p;
    p = nl + 1;
    if (line == 1 && n >= 3 && std::memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
      text += 3; // UTF-8 byte order mark
      n -= 3;
    }
    if (isBlank(text, n))
      continue;
    auto bad = [&](std::string why) {
      out.malformed.push_back({raw.file, line, std::move(why)});
    };
    simdjson::dom::element doc;
    simdjson::error_code err = parser.parse(text, n, false).get(doc);
    if (err) {
      bad(err == simdjson::UTF8_ERROR
              ? "invalid UTF-8"
              : std::string("bad JSON (") + simdjson::error_message(err) + ")");
      continue;
    }
    simdjson::dom::object obj;
    if (doc.get_object().get(obj)) {
      bad("not a JSON object");
      continue;
    }
    simdjson::dom::element value;
    if (obj.at_key(opts.field).get(value)) {
      bad("missing \"" + opts.field + "\"");
      continue;
    }
    std::string_view sv;
    if (value.get_string().get(sv)) {
      bad("\"" + opts.field + "\" is not a string");
      continue;
    }
    if (!isValidUtf8(sv)) { // e.g. an escaped lone surrogate
      bad("invalid UTF-8 in \"" + opts.field + "\"");
      continue;
    }
    if (sv.empty() && !opts.keepEmpty) {
      ++out.emptyDocuments;
      continue;
    }
    out.texts.emplace_back(sv);
    out.lines.push_back(line);
  }
}

void parseText(const RawBatch &raw, const CorpusOptions &opts,
               DocumentBatch &out) {
  bool paragraphs = opts.textDocuments == TextDocuments::Paragraph;
  std::string para;
  uint64_t paraLine = 0;
  bool paraBad = false;
  auto flush = [&] {
    if (!para.empty() && !paraBad) {
      out.texts.push_back(std::move(para));
      out.lines.push_back(paraLine);
    }
    para.clear();
    paraBad = false;
    paraLine = 0;
  };
  const char *p = raw.data.data(), *end = p + raw.length;
  for (uint64_t line = raw.firstLine; p < end; ++line) {
    const char *nl = static_cast<const char *>(std::memchr(p, '\n', end - p));
    std::string_view text(p, nl - p);
    p = nl + 1;
    if (line == 1 && text.substr(0, 3) == "\xEF\xBB\xBF")
      text.remove_prefix(3);
    if (!text.empty() && text.back() == '\r')
      text.remove_suffix(1);
    if (isBlank(text.data(), text.size())) {
      if (paragraphs)
        flush();
      continue;
    }
    size_t at;
    if (!isValidUtf8(text, &at)) {
      out.malformed.push_back(
          {raw.file, line, "invalid UTF-8 at byte " + std::to_string(at)});
      if (!paragraphs)
        continue;
      paraBad = true; // the whole paragraph is skipped
    }
    if (!paragraphs) {
      out.texts.emplace_back(text);
      out.lines.push_back(line);
      continue;
    }
    if (paraLine == 0)
      paraLine = line;
    if (!para.empty())
      para += '\n';
    para += text;
  }
  if (paragraphs)
    flush();
}

uint64_t totalInputBytes(const std::vector<std::string> &files) {
  uint64_t total = 0;
  for (const std::string &f : files) {
    std::error_code ec;
    if (f == "-" || !fs::is_regular_file(f, ec))
      return 0;
    total += fs::file_size(f, ec);
  }
  return total;
}
} // namespace

void mind::runtime::runCorpusPipeline(
    const std::vector<std::string> &files, const CorpusOptions &opts,
    const std::function<void(DocumentBatch &)> &work,
    const std::function<void(DocumentBatch &)> &consume,
    const std::function<void(uint64_t, uint64_t)> &progress) {
  unsigned threads = opts.threads
                         ? opts.threads
                         : std::max(1u, std::thread::hardware_concurrency());
  const uint64_t window = 2 * threads + 2; // batches in flight: bounds memory
  const uint64_t total = totalInputBytes(files);

  std::mutex mu;
  std::condition_variable cvSlots, cvWork, cvDone;
  std::deque<RawBatch> queue;
  std::map<uint64_t, DocumentBatch> results;
  uint64_t produced = 0, consumed = 0;
  bool readerDone = false, aborting = false;
  std::exception_ptr error;
  auto setError = [&](std::exception_ptr e) {
    std::lock_guard<std::mutex> lock(mu);
    if (!error)
      error = e;
    aborting = true;
    cvSlots.notify_all();
    cvWork.notify_all();
    cvDone.notify_all();
  };

  auto reader = [&] {
    char *buf = nullptr;
    size_t cap = 0;
    try {
      for (const std::string &file : files) {
        std::FILE *f = file == "-" ? stdin : std::fopen(file.c_str(), "rb");
        if (!f)
          throw DataError(file + ": cannot open: " + std::strerror(errno));
        bool jsonl = isJsonl(file, opts.format);
        bool paragraphs =
            !jsonl && opts.textDocuments == TextDocuments::Paragraph;
        uint64_t lineNo = 0;
        RawBatch cur;
        auto emit = [&]() -> bool {
          if (cur.data.empty())
            return true;
          cur.length = cur.data.size();
          cur.data.append(simdjson::SIMDJSON_PADDING, ' ');
          std::unique_lock<std::mutex> lock(mu);
          cvSlots.wait(
              lock, [&] { return aborting || produced - consumed < window; });
          if (aborting)
            return false;
          cur.sequence = produced++;
          queue.push_back(std::move(cur));
          cvWork.notify_one();
          cur = RawBatch();
          cur.file = file;
          cur.jsonl = jsonl;
          cur.firstLine = lineNo + 1;
          return true;
        };
        cur.file = file;
        cur.jsonl = jsonl;
        ssize_t n;
        bool ok = true;
        while (ok && (n = ::getline(&buf, &cap, f)) > 0) {
          ++lineNo;
          cur.data.append(buf, n);
          if (buf[n - 1] != '\n')
            cur.data += '\n';
          if (cur.data.size() >= opts.batchBytes &&
              (!paragraphs || isBlank(buf, n)))
            ok = emit();
        }
        bool readError = std::ferror(f);
        if (f != stdin)
          std::fclose(f);
        if (readError)
          throw DataError(file + ": read error");
        if (!ok || !emit())
          break;
      }
    } catch (...) {
      setError(std::current_exception());
    }
    std::free(buf);
    std::lock_guard<std::mutex> lock(mu);
    readerDone = true;
    cvWork.notify_all();
    cvDone.notify_all();
  };

  auto worker = [&] {
    simdjson::dom::parser parser;
    for (;;) {
      RawBatch raw;
      {
        std::unique_lock<std::mutex> lock(mu);
        cvWork.wait(lock,
                    [&] { return aborting || !queue.empty() || readerDone; });
        if (aborting || queue.empty())
          return;
        raw = std::move(queue.front());
        queue.pop_front();
      }
      DocumentBatch b;
      b.sequence = raw.sequence;
      b.file = raw.file;
      b.inputBytes = raw.length;
      try {
        if (raw.jsonl)
          parseJsonl(raw, opts, parser, b);
        else
          parseText(raw, opts, b);
        if (work)
          work(b);
      } catch (...) {
        setError(std::current_exception());
        return;
      }
      std::lock_guard<std::mutex> lock(mu);
      results.emplace(b.sequence, std::move(b));
      cvDone.notify_all();
    }
  };

  std::thread readerThread(reader);
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < threads; ++t)
    workers.emplace_back(worker);

  uint64_t bytesDone = 0;
  for (;;) {
    DocumentBatch b;
    {
      std::unique_lock<std::mutex> lock(mu);
      cvDone.wait(lock, [&] {
        return aborting || results.count(consumed) ||
               (readerDone && consumed == produced);
      });
      if (aborting || !results.count(consumed))
        break;
      auto it = results.find(consumed);
      b = std::move(it->second);
      results.erase(it);
    }
    try {
      if (opts.strict && !b.malformed.empty())
        throw DataError(b.malformed.front().str());
      consume(b);
      bytesDone += b.inputBytes;
      if (progress)
        progress(bytesDone, total);
    } catch (...) {
      setError(std::current_exception());
      break;
    }
    std::lock_guard<std::mutex> lock(mu);
    ++consumed;
    cvSlots.notify_all();
  }
  readerThread.join();
  for (std::thread &t : workers)
    t.join();
  if (error)
    std::rethrow_exception(error);
}

EncodeStats mind::runtime::encodeCorpus(
    const Tokenizer &tokenizer, const std::vector<std::string> &files,
    const EncodeOptions &options,
    const std::function<void(const MalformedLine &)> &onMalformed,
    const std::function<void(const EncodeStats &, uint64_t)> &onProgress) {
  auto start = std::chrono::steady_clock::now();
  if (options.outputDir.empty())
    throw DataError("encode: no output directory");
  std::error_code ec;
  fs::create_directories(options.outputDir, ec);
  if (ec)
    throw DataError(options.outputDir + ": cannot create: " + ec.message());
  std::vector<fs::path> old;
  for (const auto &e : fs::directory_iterator(options.outputDir))
    if (e.path().extension() == ".mtok")
      old.push_back(e.path());
  if (!old.empty() && !options.overwrite)
    throw DataError(options.outputDir +
                    ": already holds shards (remove them, or overwrite)");
  for (const fs::path &p : old) // stale shards would mix with the new ones
    fs::remove(p);

  EncodeStats stats;
  std::unique_ptr<ShardWriter> writer;
  auto closeShard = [&] {
    if (writer) {
      writer->finish();
      writer.reset();
    }
  };
  auto work = [&](DocumentBatch &b) {
    b.tokenCounts.reserve(b.texts.size());
    for (const std::string &t : b.texts) {
      size_t before = b.tokens.size();
      tokenizer.encodeInto(t, b.tokens);
      b.tokenCounts.push_back(static_cast<uint32_t>(b.tokens.size() - before));
    }
    b.texts.clear(); // the text is not needed any more: free it early
    b.texts.shrink_to_fit();
  };
  auto consume = [&](DocumentBatch &b) {
    for (const MalformedLine &m : b.malformed)
      if (onMalformed)
        onMalformed(m);
    stats.malformed += b.malformed.size();
    stats.emptyDocuments += b.emptyDocuments;
    stats.inputBytes += b.inputBytes;
    const int32_t *t = b.tokens.data();
    for (uint32_t n : b.tokenCounts) {
      if (writer && writer->tokens() >= options.shardTokens)
        closeShard();
      if (!writer) {
        char name[32];
        std::snprintf(name, sizeof(name), "shard-%05zu.mtok",
                      stats.shards.size());
        stats.shards.push_back((fs::path(options.outputDir) / name).string());
        writer = std::make_unique<ShardWriter>(
            stats.shards.back(), tokenizer.vocabSize(), tokenizer.hash());
      }
      writer->addDocument(t, n);
      t += n;
      ++stats.documents;
      stats.tokens += n;
    }
  };
  auto progress = [&](uint64_t, uint64_t total) {
    stats.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    if (onProgress)
      onProgress(stats, total);
  };
  try {
    runCorpusPipeline(files, options.corpus, work, consume, progress);
    if (stats.shards.empty()) { // an empty corpus still gives an (empty) shard
      stats.shards.push_back(
          (fs::path(options.outputDir) / "shard-00000.mtok").string());
      writer = std::make_unique<ShardWriter>(
          stats.shards.back(), tokenizer.vocabSize(), tokenizer.hash());
    }
    closeShard();
  } catch (...) {
    // No partial output: shards already finished are removed too.
    writer.reset();
    for (const std::string &s : stats.shards)
      fs::remove(s, ec);
    throw;
  }
  stats.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  return stats;
}
