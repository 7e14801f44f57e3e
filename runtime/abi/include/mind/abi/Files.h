//===- Files.h - what a path names, said clearly ----------------*- C++ -*-===//
//
// Every reader of a file (configs, bundles, safetensors, checkpoints,
// tokenizers, corpora, shards) checks its path first, so a directory or a
// missing file is reported as such rather than as whatever the read happens
// to fail with ("unexpected end of input", "cannot map: No such device",
// std::bad_alloc).
//
//===----------------------------------------------------------------------===//

#ifndef MIND_ABI_FILES_H
#define MIND_ABI_FILES_H

#include <string>

namespace mind::runtime {

/// Returns "" when `path` is a regular file (or a link to one), else the
/// reason, starting with the path: "<path>: no such file", "<path>: is a
/// directory, expected a <kind> file" or "<path>: not a regular file,
/// expected a <kind> file". `kind` is e.g. "config" or "safetensors"; used
/// for files that are mapped or seeked.
std::string regularFileProblem(const std::string &path,
                               const std::string &kind);

/// Like regularFileProblem, but pipes and devices are accepted too (a corpus
/// read from `<(zcat corpus.gz)`); used for files read front to back.
std::string inputFileProblem(const std::string &path, const std::string &kind);

/// True when `a` and `b` name the same existing file (so writing `a` would
/// destroy `b`).
bool sameFile(const std::string &a, const std::string &b);

} // namespace mind::runtime

#endif // MIND_ABI_FILES_H
