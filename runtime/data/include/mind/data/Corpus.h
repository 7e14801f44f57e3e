//===- Corpus.h - streaming corpus reading and encoding ----------*- C++
//-*-===//
//
// Corpora are JSONL (MiniMind's pretrain format: one object per line with a
// "text" string) or plain text. They are read as a stream with bounded
// memory: a reader thread cuts the input into batches of whole lines, worker
// threads parse (simdjson) and process them, and the calling thread consumes
// the results in input order. At most a fixed window of batches is in flight.
//
// Malformed lines (bad JSON, not an object, missing or non-string "text",
// invalid UTF-8) are reported as file:line and skipped, or fatal in strict
// mode. Blank lines are ignored; documents with empty text are skipped and
// counted.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_DATA_CORPUS_H
#define MIND_DATA_CORPUS_H

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace mind::runtime {

class Tokenizer;

enum class CorpusFormat {
  Auto, ///< .jsonl / .json (and stdin) as JSONL, anything else as text
  Jsonl,
  Text,
};

enum class TextDocuments {
  Line,      ///< each non-blank line is a document
  Paragraph, ///< blank lines separate documents
};

struct CorpusOptions {
  CorpusFormat format = CorpusFormat::Auto;
  TextDocuments textDocuments = TextDocuments::Line;
  std::string field = "text";
  /// The first malformed line throws DataError instead of being skipped.
  bool strict = false;
  /// Keep documents whose text is empty (else skipped and counted).
  bool keepEmpty = false;
  /// Input bytes per batch handed to a worker.
  size_t batchBytes = 256 << 10;
  /// Worker threads (0: hardware concurrency); at most kMaxCorpusThreads.
  unsigned threads = 0;
};

/// The most worker threads a corpus pipeline takes: far more than cores on
/// any machine, and each one holds batches in flight (2 x threads + 2 of
/// `batchBytes`), so more is a mistake (e.g. --threads 100000).
constexpr unsigned kMaxCorpusThreads = 1024;

struct MalformedLine {
  std::string file;
  uint64_t line = 0;
  std::string reason;
  /// "file:line: reason"
  std::string str() const;
};

/// A batch of documents from one file, as it moves through the pipeline.
struct DocumentBatch {
  uint64_t sequence = 0;
  std::string file;
  std::vector<std::string> texts;
  std::vector<uint64_t> lines; ///< first input line of each document
  std::vector<MalformedLine> malformed;
  uint64_t inputBytes = 0;
  uint64_t emptyDocuments = 0;
  /// Filled by an encoding `work` step: all tokens and per-document counts.
  std::vector<int32_t> tokens;
  std::vector<uint32_t> tokenCounts;
};

/// Streams `files` ("-" is stdin) through `work` (on worker threads, any
/// order) and `consume` (on the calling thread, input order). `progress`
/// receives the bytes consumed so far and the total (0 when unknown).
/// Strict mode throws DataError("file:line: reason") at the first malformed
/// line, before consuming its batch. Exceptions of `work` or `consume` stop
/// the pipeline and propagate. Every input is checked first: a directory or
/// a missing file is a DataError naming it; so is more than
/// kMaxCorpusThreads threads, or threads the system cannot start.
void runCorpusPipeline(
    const std::vector<std::string> &files, const CorpusOptions &options,
    const std::function<void(DocumentBatch &)> &work,
    const std::function<void(DocumentBatch &)> &consume,
    const std::function<void(uint64_t, uint64_t)> &progress = {});

struct EncodeOptions {
  CorpusOptions corpus;
  /// Output directory; shards are named shard-00000.mtok, shard-00001.mtok...
  std::string outputDir;
  /// A new shard starts once this many tokens are written (documents are
  /// never split), which bounds the per-shard index held in memory.
  uint64_t shardTokens = uint64_t(1) << 30;
  /// Replace the *.mtok files already in outputDir (else they are an
  /// error). They are replaced only once the new set is complete: the new
  /// shards are written to a directory beside outputDir, so an encode that
  /// fails leaves the old shards as they were.
  bool overwrite = false;
};

struct EncodeStats {
  uint64_t documents = 0, tokens = 0, inputBytes = 0, malformed = 0,
           emptyDocuments = 0;
  std::vector<std::string> shards;
  double seconds = 0;
};

/// Encodes a corpus into token shards. `onMalformed` sees each skipped line
/// in order; `onProgress` sees the running totals and the total input size.
/// Throws DataError (and writes nothing) when a corpus has malformed lines
/// but not one document: that is a wrong --field or --format, not data.
EncodeStats encodeCorpus(
    const Tokenizer &tokenizer, const std::vector<std::string> &files,
    const EncodeOptions &options,
    const std::function<void(const MalformedLine &)> &onMalformed = {},
    const std::function<void(const EncodeStats &, uint64_t)> &onProgress = {});

} // namespace mind::runtime

#endif // MIND_DATA_CORPUS_H
