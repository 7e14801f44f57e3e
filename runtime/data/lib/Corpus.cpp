//===- Corpus.cpp - streaming corpus reading and encoding -----------------===//

#include "mind/data/Corpus.h"

#include "mind/abi/Files.h"
#include "mind/data/Shard.h"
#include "mind/data/Tokenizer.h"

#include <simdjson.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sys/stat.h>
#include <system_error>
#include <thread>
#include <unistd.h>

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
    // A key given twice: the last one counts, as in Python's json (which
    // MiniMind reads corpora with); at_key would find the first.
    simdjson::dom::element value;
    bool found = false;
    for (simdjson::dom::key_value_pair kv : obj)
      if (kv.key == opts.field) {
        value = kv.value;
        found = true;
      }
    if (!found) {
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

// Every input is checked before any is read, so that a bad second file
// does not fail after the first has been encoded; and the thread count.
void checkInputs(const std::vector<std::string> &files,
                 const CorpusOptions &opts) {
  if (opts.threads > kMaxCorpusThreads)
    throw DataError("threads: " + std::to_string(opts.threads) +
                    " is above the maximum, " +
                    std::to_string(kMaxCorpusThreads));
  for (const std::string &file : files)
    if (file != "-") {
      std::string problem = inputFileProblem(file, "corpus");
      if (!problem.empty())
        throw DataError(problem);
    }
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
  checkInputs(files, opts);
  unsigned threads = opts.threads
                         ? opts.threads
                         : std::clamp(std::thread::hardware_concurrency(), 1u,
                                      kMaxCorpusThreads);
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

  // Workers first: they only wait, so if a thread cannot be created
  // (std::system_error), those already running stop at once and the error
  // is reported instead of std::terminate on a joinable std::thread.
  std::vector<std::thread> workers;
  std::thread readerThread;
  try {
    for (unsigned t = 0; t < threads; ++t)
      workers.emplace_back(worker);
    readerThread = std::thread(reader);
  } catch (const std::system_error &e) {
    setError(std::make_exception_ptr(DataError("cannot start " +
                                               std::to_string(threads + 1) +
                                               " threads: " + e.what())));
    for (std::thread &t : workers)
      t.join();
    std::rethrow_exception(error);
  }

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

namespace {
// fsync of a directory, so that renames in it survive a crash.
void syncDirectory(const fs::path &dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

// Where encode writes: a staging directory beside the output directory (in
// the same parent, so on the same file system) that takes the place of the
// old shards only once the whole new set is written. An encode that fails
// (a malformed line in strict mode, a full disk) leaves the old shards as
// they were, and the staging directory is removed.
//
// The swap: a new output directory is the staging directory renamed; one
// holding only shards is exchanged with it in one rename (RENAME_EXCHANGE),
// so that readers see the old set or the new one, never a mix; one holding
// other files too keeps them, and each new shard is renamed in (replacing
// the old one of that name), then the old shards left over are removed. Where
// the parent cannot be written (a writable directory in a read-only parent) or
// is another file system (a mount point), the staging directory is made inside
// the output directory and each shard moved.
class StagedOutput {
public:
  StagedOutput(const std::string &outputDir, bool overwrite);
  ~StagedOutput() {
    std::error_code ec;
    if (!committed && !staging.empty())
      fs::remove_all(staging, ec);
  }
  StagedOutput(const StagedOutput &) = delete;
  StagedOutput &operator=(const StagedOutput &) = delete;

  // Where shard `name` is written until commit().
  std::string staged(const std::string &name) const {
    return (staging / name).string();
  }
  // Makes the shards `names`, written in the staging directory, the output.
  void commit(const std::vector<std::string> &names);

private:
  bool makeStaging(const fs::path &in);
  bool holdsOnlyShards() const;
  void moveEach(const std::vector<std::string> &names);

  std::string shown; // the output directory as given, for messages
  fs::path out, staging;
  bool existed = false, inside = false, committed = false;
  std::vector<fs::path> old;
};

StagedOutput::StagedOutput(const std::string &outputDir, bool overwrite)
    : shown(outputDir) {
  std::error_code ec;
  fs::file_status st = fs::status(outputDir, ec);
  existed = fs::exists(st);
  if (existed && !fs::is_directory(st))
    throw DataError(outputDir + ": is not a directory");
  if (existed) {
    // The directory itself, not a symbolic link to it: it is what is
    // swapped.
    out = fs::canonical(outputDir, ec);
    if (ec)
      throw DataError(outputDir + ": " + ec.message());
    for (const auto &e : fs::directory_iterator(out, ec))
      if (e.path().extension() == ".mtok")
        old.push_back(e.path());
    if (ec)
      throw DataError(outputDir + ": cannot list: " + ec.message());
    if (!old.empty() && !overwrite)
      throw DataError(outputDir +
                      ": already holds shards (remove them, or overwrite)");
  } else {
    out = fs::weakly_canonical(fs::absolute(outputDir), ec);
    if (ec)
      throw DataError(outputDir + ": " + ec.message());
    if (out.filename().empty()) // "out/"
      out = out.parent_path();
    fs::create_directories(out.parent_path(), ec);
    if (ec)
      throw DataError(outputDir + ": cannot create: " + ec.message());
  }
  fs::path parent = out.parent_path();
  struct stat po, oo;
  bool beside = !existed ||
                (out.has_relative_path() && ::stat(parent.c_str(), &po) == 0 &&
                 ::stat(out.c_str(), &oo) == 0 && po.st_dev == oo.st_dev);
  if (beside && makeStaging(parent))
    return;
  if (!existed)
    throw DataError(parent.string() +
                    ": cannot create a directory: " + std::strerror(errno));
  inside = true;
  if (!makeStaging(out))
    throw DataError(outputDir + ": cannot create a directory in it: " +
                    std::strerror(errno));
}

bool StagedOutput::makeStaging(const fs::path &in) {
  std::random_device seed;
  std::mt19937_64 rng(seed());
  std::string prefix =
      (inside ? std::string(".") : "." + out.filename().string() + ".") +
      "encode-";
  for (int attempt = 0; attempt < 100; ++attempt) {
    char suffix[17];
    std::snprintf(suffix, sizeof(suffix), "%016llx",
                  static_cast<unsigned long long>(rng()));
    fs::path p = in / (prefix + suffix);
    if (::mkdir(p.c_str(), 0777) == 0) { // the umask applies, as to a new dir
      staging = p;
      return true;
    }
    if (errno != EEXIST)
      return false;
  }
  return false;
}

bool StagedOutput::holdsOnlyShards() const {
  std::error_code ec;
  for (const auto &e : fs::directory_iterator(out, ec))
    if (e.path().extension() != ".mtok" || !e.is_regular_file(ec) ||
        e.is_symlink(ec))
      return false;
  return !ec;
}

void StagedOutput::commit(const std::vector<std::string> &names) {
  std::error_code ec;
  if (!existed) {
    if (std::rename(staging.c_str(), out.c_str()) != 0)
      throw DataError(shown + ": cannot move the new shards into place: " +
                      std::strerror(errno));
    committed = true;
    syncDirectory(out.parent_path());
    return;
  }
  // Not when it is the working directory, which would then be the old,
  // removed one.
  if (!inside && holdsOnlyShards() && !fs::equivalent(out, ".", ec)) {
    // The new directory takes the old one's place: same mode and owner
    // (chown only succeeds for root, who may be encoding for another user).
    struct stat st;
    if (::stat(out.c_str(), &st) == 0) {
      ::chmod(staging.c_str(), st.st_mode & 07777);
      if (::chown(staging.c_str(), st.st_uid, st.st_gid) != 0) {
        // Not root: the directory is the caller's own, as the old one was.
      }
    }
    if (::renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, out.c_str(),
                    RENAME_EXCHANGE) == 0) {
      committed = true;
      syncDirectory(out.parent_path());
      fs::remove_all(staging, ec); // now the old shards
      return;
    }
    // A file system without RENAME_EXCHANGE: one shard at a time.
  }
  moveEach(names);
}

void StagedOutput::moveEach(const std::vector<std::string> &names) {
  std::set<fs::path> replaced;
  for (const std::string &name : names) {
    fs::path to = out / name;
    if (std::rename((staging / name).c_str(), to.c_str()) != 0)
      throw DataError(to.string() + ": cannot move the new shard into place: " +
                      std::strerror(errno));
    replaced.insert(to);
  }
  std::error_code ec;
  for (const fs::path &p : old) // stale shards would mix with the new ones
    if (!replaced.count(p))
      fs::remove(p, ec);
  committed = true;
  syncDirectory(out);
  fs::remove_all(staging, ec);
}
} // namespace

EncodeStats mind::runtime::encodeCorpus(
    const Tokenizer &tokenizer, const std::vector<std::string> &files,
    const EncodeOptions &options,
    const std::function<void(const MalformedLine &)> &onMalformed,
    const std::function<void(const EncodeStats &, uint64_t)> &onProgress) {
  auto start = std::chrono::steady_clock::now();
  if (options.outputDir.empty())
    throw DataError("encode: no output directory");
  checkInputs(files, options.corpus); // before anything is created
  StagedOutput output(options.outputDir, options.overwrite);

  EncodeStats stats;
  std::vector<std::string> names;
  // Declared after `output`, so destroyed first when an error unwinds.
  std::unique_ptr<ShardWriter> writer;
  auto closeShard = [&] {
    if (writer) {
      writer->finish();
      writer.reset();
    }
  };
  auto openShard = [&] {
    char name[32];
    std::snprintf(name, sizeof(name), "shard-%05zu.mtok", names.size());
    names.push_back(name);
    stats.shards.push_back((fs::path(options.outputDir) / name).string());
    writer = std::make_unique<ShardWriter>(
        output.staged(name), tokenizer.vocabSize(), tokenizer.hash());
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
      if (!writer)
        openShard();
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
  runCorpusPipeline(files, options.corpus, work, consume, progress);
  // Malformed lines and not one document: a wrong --field or --format (or
  // not a corpus at all), which an empty shard would hide.
  if (stats.documents == 0 && stats.malformed > 0) {
    std::string inputs = files.size() == 1
                             ? (files[0] == "-" ? "stdin" : files[0])
                             : std::to_string(files.size()) + " input files";
    std::string lines = std::to_string(stats.malformed) + " malformed line" +
                        (stats.malformed == 1 ? "" : "s");
    throw DataError(inputs + ": no documents were read: " +
                    (stats.emptyDocuments
                         ? lines + " and " +
                               std::to_string(stats.emptyDocuments) +
                               " empty documents skipped"
                         : "all " + lines + " skipped"));
  }
  if (names.empty()) // an empty corpus still gives an (empty) shard
    openShard();
  closeShard();
  output.commit(names);
  stats.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  return stats;
}
