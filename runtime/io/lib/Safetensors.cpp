//===- Safetensors.cpp - safetensors reader and writer --------------------===//

#include "mind/io/Safetensors.h"

#include "mind/abi/Files.h"
#include "mind/abi/JsonDepth.h"

#include "mind/abi/AtomicFile.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <type_traits>

#include <fcntl.h>
#include <unistd.h>

using nlohmann::json;

namespace mind::runtime {

namespace {

// Same limit as the reference (Rust) implementation: a larger header is
// treated as a corrupt or hostile file rather than allocated.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
constexpr const char *kMetadataKey = "__metadata__";

// The format is little-endian; so is every machine this project targets.
// Checked once here rather than byte-swapping everywhere.
bool hostIsLittleEndian() {
  uint16_t one = 1;
  uint8_t first;
  std::memcpy(&first, &one, 1);
  return first == 1;
}

template <typename T> T loadLE(const uint8_t *p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

// OCP FP8 E4M3 ("fn"): bias 7, no infinities, S.1111.111 is NaN.
float f8e4m3ToFloat(uint8_t b) {
  float sign = (b & 0x80) ? -1.0f : 1.0f;
  int exp = (b >> 3) & 0xF;
  int mant = b & 0x7;
  if (exp == 0xF && mant == 0x7)
    return std::numeric_limits<float>::quiet_NaN();
  if (exp == 0)
    return sign * std::ldexp(static_cast<float>(mant), -9); // mant/8 * 2^-6
  return sign * std::ldexp(1.0f + mant / 8.0f, exp - 7);
}

// Reads element `i` as a double (exact for every dtype but I64/U64 beyond
// 2^53, where the conversion rounds as a cast would).
double elementAsDouble(DType dtype, const uint8_t *base, size_t i) {
  switch (dtype) {
  case DType::BOOL:
    return base[i] != 0 ? 1.0 : 0.0;
  case DType::U8:
    return base[i];
  case DType::I8:
    return static_cast<int8_t>(base[i]);
  case DType::F8_E5M2: // the top byte of an IEEE half
    return f16ToFloat(static_cast<uint16_t>(base[i] << 8));
  case DType::F8_E4M3:
    return f8e4m3ToFloat(base[i]);
  case DType::I16:
    return loadLE<int16_t>(base + 2 * i);
  case DType::U16:
    return loadLE<uint16_t>(base + 2 * i);
  case DType::F16:
    return f16ToFloat(loadLE<uint16_t>(base + 2 * i));
  case DType::BF16:
    return bf16ToFloat(loadLE<uint16_t>(base + 2 * i));
  case DType::I32:
    return loadLE<int32_t>(base + 4 * i);
  case DType::U32:
    return loadLE<uint32_t>(base + 4 * i);
  case DType::F32:
    return loadLE<float>(base + 4 * i);
  case DType::F64:
    return loadLE<double>(base + 8 * i);
  case DType::I64:
    return static_cast<double>(loadLE<int64_t>(base + 8 * i));
  case DType::U64:
    return static_cast<double>(loadLE<uint64_t>(base + 8 * i));
  }
  return 0.0;
}

// Checked numel * dtype size; nullopt on overflow.
std::optional<uint64_t> checkedBytes(uint64_t numel, DType dtype) {
  uint64_t bytes;
  if (__builtin_mul_overflow(numel, static_cast<uint64_t>(dtypeSize(dtype)),
                             &bytes))
    return std::nullopt;
  return bytes;
}

/// Parses and validates the header of an image; fills the file's tables.
class HeaderValidator {
public:
  HeaderValidator(const std::string &file) : file_(file) {}

  [[noreturn]] void fail(const std::string &problem) const {
    throw SafetensorsError(file_ + ": " + problem);
  }

  json parse(const char *begin, const char *end) {
    // nlohmann keeps only the last of duplicate keys; a parser callback sees
    // every key, so a per-object key set catches them.
    std::vector<std::set<std::string>> keys;
    std::string duplicate;
    bool topLevel = false;
    auto callback = [&](int depth, json::parse_event_t event, json &parsed) {
      if (depth > kMaxJsonDepth) // values are copied and quoted recursively
        fail("header is " + jsonTooDeepProblem());
      if (event == json::parse_event_t::object_start) {
        keys.emplace_back();
      } else if (event == json::parse_event_t::object_end) {
        keys.pop_back();
      } else if (event == json::parse_event_t::key && duplicate.empty() &&
                 !keys.empty()) {
        const std::string &k = parsed.get_ref<const std::string &>();
        if (!keys.back().insert(k).second) {
          duplicate = k;
          topLevel = keys.size() == 1;
        }
      }
      return true;
    };
    json header;
    try {
      header = json::parse(begin, end, callback);
    } catch (const json::exception &e) {
      fail(std::string("header is not valid JSON: ") + e.what());
    }
    if (!duplicate.empty())
      fail(topLevel ? "duplicate tensor name '" + duplicate + "' in header"
                    : "duplicate key '" + duplicate + "' in header");
    if (!header.is_object())
      fail(std::string("header is not a JSON object (got ") +
           header.type_name() + ")");
    return header;
  }

  // Non-negative JSON integer as uint64; `what` names it in the message.
  uint64_t nonNegative(const json &v, const std::string &what) const {
    if (v.is_number_unsigned())
      return v.get<uint64_t>();
    if (v.is_number_integer())
      fail(what + " is negative (" + std::to_string(v.get<int64_t>()) + ")");
    fail(what + " must be an integer (got " + v.dump() + ")");
  }

  TensorView tensor(const std::string &name, const json &entry,
                    uint64_t bufferSize, uint64_t &begin) const {
    std::string where = "tensor '" + name + "': ";
    if (!entry.is_object())
      fail(where + "entry must be an object (got " + entry.type_name() + ")");
    for (const char *key : {"dtype", "shape", "data_offsets"})
      if (!entry.contains(key))
        fail(where + "missing '" + key + "'");

    const json &dt = entry["dtype"];
    if (!dt.is_string())
      fail(where + "'dtype' must be a string (got " + dt.dump() + ")");
    std::optional<DType> dtype = parseDType(dt.get<std::string>());
    if (!dtype)
      fail(where + "unknown dtype '" + dt.get<std::string>() + "'");

    TensorView view;
    view.name = name;
    view.dtype = *dtype;
    const json &shape = entry["shape"];
    if (!shape.is_array())
      fail(where + "'shape' must be an array (got " + shape.type_name() + ")");
    uint64_t numel = 1;
    for (const json &d : shape) {
      uint64_t dim = nonNegative(d, where + "shape dimension");
      if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
          __builtin_mul_overflow(numel, dim, &numel))
        fail(where + "shape " + shape.dump() + " overflows the element count");
      view.shape.push_back(static_cast<int64_t>(dim));
    }
    std::optional<uint64_t> expected = checkedBytes(numel, *dtype);
    if (!expected)
      fail(where + "shape " + shape.dump() + " overflows the byte size");

    const json &offsets = entry["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2)
      fail(where + "'data_offsets' must be an array of two integers (got " +
           offsets.dump() + ")");
    begin = nonNegative(offsets[0], where + "data_offsets begin");
    uint64_t end = nonNegative(offsets[1], where + "data_offsets end");
    if (begin > end)
      fail(where + "data_offsets [" + std::to_string(begin) + "," +
           std::to_string(end) + "] have begin > end");
    if (end - begin != *expected)
      fail(where + "data_offsets span " + std::to_string(end - begin) +
           " bytes but dtype " + dtypeName(*dtype) + " and shape " +
           shape.dump() + " need " + std::to_string(*expected));
    if (end > bufferSize)
      fail(where + "data_offsets end " + std::to_string(end) +
           " is past the data buffer (" + std::to_string(bufferSize) +
           " bytes)");
    view.nbytes = static_cast<size_t>(end - begin);
    return view;
  }

private:
  std::string file_;
};

std::vector<uint16_t> convertAll(const std::vector<float> &values,
                                 uint16_t (*convert)(float)) {
  std::vector<uint16_t> out(values.size());
  for (size_t i = 0; i < values.size(); ++i)
    out[i] = convert(values[i]);
  return out;
}

} // namespace

//===----------------------------------------------------------------------===//
// DTypes and scalar conversions
//===----------------------------------------------------------------------===//

//===----------------------------------------------------------------------===//
// SafetensorsFile
//===----------------------------------------------------------------------===//

SafetensorsFile SafetensorsFile::load(const std::string &path) {
  if (std::string problem = regularFileProblem(path, "safetensors");
      !problem.empty())
    throw SafetensorsError(problem);
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in)
    throw SafetensorsError(path +
                           ": cannot open file: " + std::strerror(errno));
  std::streamoff size = in.tellg();
  if (size < 0)
    throw SafetensorsError(path + ": cannot determine the file size");
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  in.seekg(0);
  if (!bytes.empty() && !in.read(reinterpret_cast<char *>(bytes.data()), size))
    throw SafetensorsError(path + ": read failed");
  return fromBuffer(std::move(bytes), path);
}

SafetensorsFile SafetensorsFile::fromBuffer(std::vector<uint8_t> bytes,
                                            const std::string &displayName) {
  HeaderValidator v(displayName);
  if (!hostIsLittleEndian())
    v.fail("big-endian hosts are not supported");
  if (bytes.size() < 8)
    v.fail("file is " + std::to_string(bytes.size()) +
           " bytes, shorter than the 8-byte header length");
  uint64_t headerLen = loadLE<uint64_t>(bytes.data());
  if (headerLen > kMaxHeaderBytes)
    v.fail("header length " + std::to_string(headerLen) +
           " exceeds the limit of " + std::to_string(kMaxHeaderBytes) +
           " bytes");
  if (headerLen > bytes.size() - 8)
    v.fail("header length " + std::to_string(headerLen) +
           " is larger than the file (" + std::to_string(bytes.size()) +
           " bytes)");
  const char *headerBegin = reinterpret_cast<const char *>(bytes.data() + 8);
  json header = v.parse(headerBegin, headerBegin + headerLen);

  SafetensorsFile file;
  file.path_ = displayName;
  uint64_t dataStart = 8 + headerLen;
  uint64_t bufferSize = bytes.size() - dataStart;
  auto shared = std::make_shared<std::vector<uint8_t>>(std::move(bytes));
  const uint8_t *buffer = shared->data() + dataStart;

  // (begin, end, name) of every tensor, to check that they tile the buffer.
  struct Span {
    uint64_t begin, end;
    const std::string *name;
  };
  std::vector<Span> spans;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == kMetadataKey) {
      if (it->is_null())
        continue; // the reference implementation reads null as "none"
      if (!it->is_object())
        v.fail(
            std::string("'__metadata__' must be an object of strings (got ") +
            it->type_name() + ")");
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string())
          v.fail("__metadata__ value for key '" + m.key() +
                 "' must be a string (got " + m->dump() + ")");
        file.metadata_[m.key()] = m->get<std::string>();
      }
      continue;
    }
    uint64_t begin = 0;
    TensorView view = v.tensor(it.key(), *it, bufferSize, begin);
    view.data = buffer + begin;
    auto inserted = file.tensors_.emplace(it.key(), std::move(view)).first;
    spans.push_back({begin, begin + inserted->second.nbytes, &inserted->first});
  }

  // Sorted by begin, the tensors must tile [0, bufferSize) exactly: no gaps,
  // no overlaps, no trailing bytes (the reference reader rejects all three).
  std::sort(spans.begin(), spans.end(), [](const Span &a, const Span &b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t expected = 0;
  const std::string *previous = nullptr;
  for (const Span &s : spans) {
    if (s.begin < expected)
      v.fail("tensor '" + *s.name + "' (data_offsets [" +
             std::to_string(s.begin) + "," + std::to_string(s.end) +
             "]) overlaps tensor '" + *previous + "' (ends at " +
             std::to_string(expected) + ")");
    if (s.begin > expected)
      v.fail("data_offsets are not contiguous: gap of " +
             std::to_string(s.begin - expected) + " bytes before tensor '" +
             *s.name + "' (begins at " + std::to_string(s.begin) +
             ", expected " + std::to_string(expected) + ")");
    expected = s.end;
    previous = s.name;
  }
  if (expected != bufferSize)
    v.fail("data buffer has " + std::to_string(bufferSize - expected) +
           " trailing bytes after the last tensor (tensors cover " +
           std::to_string(expected) + " of " + std::to_string(bufferSize) +
           " bytes)");
  file.bytes_ = std::move(shared);
  return file;
}

const TensorView *SafetensorsFile::find(const std::string &name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

const TensorView &SafetensorsFile::get(const std::string &name) const {
  if (const TensorView *t = find(name))
    return *t;
  throw SafetensorsError(path_ + ": no tensor named '" + name + "'");
}

std::vector<std::string> SafetensorsFile::names() const {
  std::vector<std::string> out;
  out.reserve(tensors_.size());
  for (const auto &kv : tensors_)
    out.push_back(kv.first);
  return out;
}

std::vector<float> SafetensorsFile::toFloat32(const std::string &name) const {
  const TensorView &t = get(name);
  size_t n = static_cast<size_t>(t.numel());
  std::vector<float> out(n);
  if (t.dtype == DType::F32) {
    if (n)
      std::memcpy(out.data(), t.data, t.nbytes);
    return out;
  }
  for (size_t i = 0; i < n; ++i)
    out[i] = static_cast<float>(elementAsDouble(t.dtype, t.data, i));
  return out;
}

std::vector<double> SafetensorsFile::toFloat64(const std::string &name) const {
  const TensorView &t = get(name);
  size_t n = static_cast<size_t>(t.numel());
  std::vector<double> out(n);
  for (size_t i = 0; i < n; ++i)
    out[i] = elementAsDouble(t.dtype, t.data, i);
  return out;
}

std::vector<int64_t> SafetensorsFile::toInt64(const std::string &name) const {
  const TensorView &t = get(name);
  size_t n = static_cast<size_t>(t.numel());
  std::vector<int64_t> out(n);
  for (size_t i = 0; i < n; ++i) {
    if (t.dtype == DType::I64) {
      out[i] = loadLE<int64_t>(t.data + 8 * i);
    } else if (t.dtype == DType::U64) {
      uint64_t u = loadLE<uint64_t>(t.data + 8 * i);
      if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        throw SafetensorsError(path_ + ": tensor '" + name + "': U64 value " +
                               std::to_string(u) + " does not fit in int64");
      out[i] = static_cast<int64_t>(u);
    } else {
      // Every other dtype is exact as a double; only integral values in
      // range convert (a silent truncation would hide a wrong tensor).
      double d = elementAsDouble(t.dtype, t.data, i);
      if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) ||
          std::trunc(d) != d)
        throw SafetensorsError(path_ + ": tensor '" + name +
                               "': " + dtypeName(t.dtype) + " value " +
                               std::to_string(d) + " at index " +
                               std::to_string(i) + " is not an int64");
      out[i] = static_cast<int64_t>(d);
    }
  }
  return out;
}

//===----------------------------------------------------------------------===//
// SafetensorsWriter
//===----------------------------------------------------------------------===//

void SafetensorsWriter::addEntry(const std::string &name, DType dtype,
                                 const std::vector<int64_t> &shape,
                                 const void *data, size_t nbytes, bool copy) {
  std::string where = "SafetensorsWriter: tensor '" + name + "': ";
  if (name == kMetadataKey)
    throw SafetensorsError(where + "the name is reserved for metadata");
  if (entries_.count(name))
    throw SafetensorsError(where + "added twice");
  uint64_t numel;
  try {
    numel = numElements(shape);
  } catch (const std::invalid_argument &e) {
    throw SafetensorsError(where + e.what());
  }
  std::optional<uint64_t> expected = checkedBytes(numel, dtype);
  if (!expected || *expected != nbytes)
    throw SafetensorsError(where + std::to_string(nbytes) +
                           " bytes given but dtype " + dtypeName(dtype) +
                           " and shape " + shapeText(shape, ",") + " need " +
                           (expected ? std::to_string(*expected) : "more"));
  if (nbytes && !data)
    throw SafetensorsError(where + "null data");
  Entry e;
  e.dtype = dtype;
  e.shape = shape;
  e.nbytes = nbytes;
  const auto *src = static_cast<const uint8_t *>(data);
  if (copy)
    e.owned.assign(src, src + nbytes);
  else
    e.borrowed = src;
  entries_.emplace(name, std::move(e));
}

void SafetensorsWriter::add(const std::string &name, DType dtype,
                            const std::vector<int64_t> &shape, const void *data,
                            size_t nbytes) {
  addEntry(name, dtype, shape, data, nbytes, /*copy=*/true);
}

void SafetensorsWriter::addBorrowed(const std::string &name, DType dtype,
                                    const std::vector<int64_t> &shape,
                                    const void *data, size_t nbytes) {
  addEntry(name, dtype, shape, data, nbytes, /*copy=*/false);
}

void SafetensorsWriter::addF32(const std::string &name,
                               const std::vector<int64_t> &shape,
                               const std::vector<float> &values) {
  add(name, DType::F32, shape, values.data(), values.size() * sizeof(float));
}

void SafetensorsWriter::addF64(const std::string &name,
                               const std::vector<int64_t> &shape,
                               const std::vector<double> &values) {
  add(name, DType::F64, shape, values.data(), values.size() * sizeof(double));
}

void SafetensorsWriter::addI64(const std::string &name,
                               const std::vector<int64_t> &shape,
                               const std::vector<int64_t> &values) {
  add(name, DType::I64, shape, values.data(), values.size() * sizeof(int64_t));
}

void SafetensorsWriter::addI32(const std::string &name,
                               const std::vector<int64_t> &shape,
                               const std::vector<int32_t> &values) {
  add(name, DType::I32, shape, values.data(), values.size() * sizeof(int32_t));
}

void SafetensorsWriter::addF16FromF32(const std::string &name,
                                      const std::vector<int64_t> &shape,
                                      const std::vector<float> &values) {
  std::vector<uint16_t> half = convertAll(values, floatToF16);
  add(name, DType::F16, shape, half.data(), half.size() * 2);
}

void SafetensorsWriter::addBF16FromF32(const std::string &name,
                                       const std::vector<int64_t> &shape,
                                       const std::vector<float> &values) {
  std::vector<uint16_t> half = convertAll(values, floatToBf16);
  add(name, DType::BF16, shape, half.data(), half.size() * 2);
}

void SafetensorsWriter::setMetadata(const std::string &key,
                                    const std::string &value) {
  metadata_[key] = value;
}

std::string SafetensorsWriter::buildHeader() const {
  json header = json::object();
  if (!metadata_.empty())
    header[kMetadataKey] = metadata_;
  uint64_t offset = 0;
  for (const auto &[name, e] : entries_) { // std::map: sorted by name
    header[name] = {{"dtype", dtypeName(e.dtype)},
                    {"shape", e.shape},
                    {"data_offsets", {offset, offset + e.nbytes}}};
    offset += e.nbytes;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const json::exception &e) { // e.g. a name that is not UTF-8
    throw SafetensorsError(std::string("SafetensorsWriter: ") + e.what());
  }
  // Pad with spaces (valid JSON whitespace) so the data starts 8-aligned.
  text.append((8 - text.size() % 8) % 8, ' ');
  uint64_t len = text.size();
  char lenBytes[8];
  std::memcpy(lenBytes, &len, 8);
  return std::string(lenBytes, 8) + text;
}

std::vector<uint8_t> SafetensorsWriter::serialize() const {
  std::string header = buildHeader();
  size_t total = header.size();
  for (const auto &kv : entries_)
    total += kv.second.nbytes;
  std::vector<uint8_t> out;
  out.reserve(total);
  out.insert(out.end(), header.begin(), header.end());
  for (const auto &kv : entries_)
    out.insert(out.end(), kv.second.bytes(),
               kv.second.bytes() + kv.second.nbytes);
  return out;
}

void SafetensorsWriter::write(const std::string &path) const {
  std::string header = buildHeader();
  std::vector<FilePiece> pieces = {{header.data(), header.size()}};
  for (const auto &kv : entries_)
    pieces.push_back({kv.second.bytes(), kv.second.nbytes});
  writeFileAtomically(path, pieces, 0644, [](const std::string &msg) {
    throw SafetensorsError(msg);
  });
}

} // namespace mind::runtime
