//===- Files.h - what an input path names, said clearly ---------*- C++ -*-===//
//
// Every reader in runtime/data checks its path before reading, so a
// directory or a missing file is reported as such ("<path>: is a directory,
// expected a shard file") rather than as whatever the read happens to fail
// with ("unexpected end of input", "read error", "cannot map: No such
// device").
//
//===----------------------------------------------------------------------===//

#ifndef MIND_RUNTIME_SRC_FILES_H
#define MIND_RUNTIME_SRC_FILES_H

#include <string>

namespace mind::runtime::data_detail {

/// "" when `path` names something that can be read as a file (a regular
/// file, or a pipe or device, as `<(zcat corpus.gz)` gives); else the
/// reason, starting with the path: "<path>: no such file" or "<path>: is a
/// directory, expected a <kind> file". `kind` is e.g. "tokenizer".
std::string inputFileProblem(const std::string &path, const std::string &kind);

} // namespace mind::runtime::data_detail

#endif // MIND_RUNTIME_SRC_FILES_H
