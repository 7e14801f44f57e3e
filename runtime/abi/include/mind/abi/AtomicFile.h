//===- AtomicFile.h - crash-safe file replacement ---------------*- C++ -*-===//
//
// Every file the project writes for later use (safetensors weights and
// checkpoints, bundles, trainers) goes through here: the bytes go to
// `<path>.tmp`, which is fsynced and renamed over `<path>`, and the directory
// is fsynced so the rename itself is durable. A crash at any moment leaves
// either the old file or the new one, never a torn one; on failure the
// temporary file is removed.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_ABI_ATOMICFILE_H
#define MIND_ABI_ATOMICFILE_H

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace mind::runtime {

struct FilePiece {
  const void *data;
  size_t size;
};

/// Writes the concatenation of `pieces` to `path` atomically with
/// permissions `mode`. Errors call `raise` with a message naming the file
/// and the failed step; `raise` must throw (the caller's error type).
void writeFileAtomically(const std::string &path,
                         const std::vector<FilePiece> &pieces, unsigned mode,
                         const std::function<void(const std::string &)> &raise);

} // namespace mind::runtime

#endif // MIND_ABI_ATOMICFILE_H
