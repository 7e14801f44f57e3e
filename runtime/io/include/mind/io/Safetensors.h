//===- Safetensors.h - safetensors reader and writer ------------*- C++ -*-===//
//
// The checkpoint format of the project (weights-only and resume files) and of
// the golden reference data. Format: an 8-byte little-endian u64 header length
// N, N bytes of UTF-8 JSON (name -> {"dtype","shape","data_offsets"} plus an
// optional "__metadata__" string map), then the data buffer that the tensors
// tile exactly.
//
// The reader validates every rule of the format and reports violations as
// SafetensorsError naming the file; a file that loads is safe to index with
// the offsets it declares. Pure C++17 (no MLIR, no CUDA).
//
//===----------------------------------------------------------------------===//

#ifndef MIND_IO_SAFETENSORS_H
#define MIND_IO_SAFETENSORS_H

#include "mind/abi/DType.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace mind::runtime {

/// Every failure of the reader or the writer. The message starts with the
/// file name (or "<memory>") and names the problem.
class SafetensorsError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};


/// A tensor inside a loaded file. `data` points into the file's buffer and
/// may be unaligned: read it with memcpy or the SafetensorsFile converters.
struct TensorView {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  const uint8_t *data = nullptr;
  size_t nbytes = 0;

  uint64_t numel() const { return numElements(shape); }
};

/// A loaded, fully validated safetensors file. Copies share the buffer, so
/// TensorView pointers stay valid as long as any copy lives.
class SafetensorsFile {
public:
  /// Reads and validates the whole file (one read, no mmap).
  static SafetensorsFile load(const std::string &path);
  /// Validates an in-memory image; `displayName` prefixes error messages.
  static SafetensorsFile fromBuffer(std::vector<uint8_t> bytes,
                                    const std::string &displayName);

  /// The tensor called `name`, or nullptr.
  const TensorView *find(const std::string &name) const;
  /// Like find() but throws SafetensorsError when absent.
  const TensorView &get(const std::string &name) const;
  bool contains(const std::string &name) const { return find(name); }
  /// Tensor names, sorted.
  std::vector<std::string> names() const;
  size_t size() const { return tensors_.size(); }
  /// The "__metadata__" map (empty when the header has none).
  const std::map<std::string, std::string> &metadata() const {
    return metadata_;
  }
  const std::string &path() const { return path_; }

  /// Element-wise conversions from any numeric dtype (BOOL gives 0/1).
  /// toInt64 accepts floating-point data only when every value is integral
  /// and representable; unsigned values above INT64_MAX are rejected.
  std::vector<float> toFloat32(const std::string &name) const;
  std::vector<double> toFloat64(const std::string &name) const;
  std::vector<int64_t> toInt64(const std::string &name) const;

private:
  std::string path_;
  std::shared_ptr<const std::vector<uint8_t>> bytes_;
  std::map<std::string, TensorView> tensors_;
  std::map<std::string, std::string> metadata_;
};

/// Builds a safetensors file. Tensors are written sorted by name with
/// contiguous offsets; the header is padded with spaces so the data buffer
/// starts 8-byte aligned in the file.
class SafetensorsWriter {
public:
  /// Copies `nbytes` bytes of `data`; nbytes must equal numel * dtype size.
  void add(const std::string &name, DType dtype,
           const std::vector<int64_t> &shape, const void *data, size_t nbytes);
  /// Like add() but keeps only the pointer (no copy): the caller keeps the
  /// memory alive and unchanged until write()/serialize() returns. Used to
  /// save large checkpoints without doubling host memory.
  void addBorrowed(const std::string &name, DType dtype,
                   const std::vector<int64_t> &shape, const void *data,
                   size_t nbytes);
  void addF32(const std::string &name, const std::vector<int64_t> &shape,
              const std::vector<float> &values);
  void addF64(const std::string &name, const std::vector<int64_t> &shape,
              const std::vector<double> &values);
  void addI64(const std::string &name, const std::vector<int64_t> &shape,
              const std::vector<int64_t> &values);
  void addI32(const std::string &name, const std::vector<int64_t> &shape,
              const std::vector<int32_t> &values);
  /// Stores fp32 values as F16 / BF16 (round to nearest even).
  void addF16FromF32(const std::string &name, const std::vector<int64_t> &shape,
                     const std::vector<float> &values);
  void addBF16FromF32(const std::string &name,
                      const std::vector<int64_t> &shape,
                      const std::vector<float> &values);

  void setMetadata(const std::string &key, const std::string &value);

  /// The whole file image.
  std::vector<uint8_t> serialize() const;
  /// Writes atomically: `path + ".tmp"`, fsync, rename over `path`, fsync the
  /// directory. A crash leaves either the old file or the new one.
  void write(const std::string &path) const;

  size_t size() const { return entries_.size(); }

private:
  struct Entry {
    DType dtype;
    std::vector<int64_t> shape;
    std::vector<uint8_t> owned;        // the copy, unless borrowed
    const uint8_t *borrowed = nullptr; // set only by addBorrowed()
    size_t nbytes = 0;
    const uint8_t *bytes() const { return borrowed ? borrowed : owned.data(); }
  };
  void addEntry(const std::string &name, DType dtype,
                const std::vector<int64_t> &shape, const void *data,
                size_t nbytes, bool copy);
  std::string buildHeader() const;

  std::map<std::string, Entry> entries_; // sorted by name
  std::map<std::string, std::string> metadata_;
};

} // namespace mind::runtime

#endif // MIND_IO_SAFETENSORS_H
