//===- Bundle.cpp - bundle bytes, files and embedded bundles --------------===//
//
// Layout (docs/BundleFormat.md), all integers little-endian:
//   "MINDBNDL" | u32 version | 5 x (u64 length, bytes) | u32 crc32
// sections in order: plan JSON, cubin, PTX, CUDA source, plan-stage MLIR;
// the CRC covers every byte before it. An executable carrying a bundle ends
// with  bundle | u64 offset | u64 length | "MINDTRLR".
//
//===----------------------------------------------------------------------===//

#include "mind/abi/Bundle.h"
#include "mind/abi/Files.h"
#include "mind/abi/JsonDepth.h"

#include "mind/abi/AtomicFile.h"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

namespace mind::runtime {

namespace {

constexpr char kMagic[8] = {'M', 'I', 'N', 'D', 'B', 'N', 'D', 'L'};
constexpr char kTrailerMagic[8] = {'M', 'I', 'N', 'D', 'T', 'R', 'L', 'R'};
constexpr size_t kNumSections = 5;
constexpr const char *kSectionNames[kNumSections] = {"plan", "cubin", "ptx",
                                                     "cuda source", "mlir"};
constexpr size_t kMinSize = 8 + 4 + kNumSections * 8 + 4;
constexpr size_t kTrailerSize = 24;

void putU32(std::vector<uint8_t> &out, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void putU64(std::vector<uint8_t> &out, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
uint32_t getU32(const uint8_t *p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i)
    v = (v << 8) | p[i];
  return v;
}
uint64_t getU64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i)
    v = (v << 8) | p[i];
  return v;
}

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%08x", v);
  return buf;
}

std::vector<uint8_t> readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw BundleError(path + ": cannot open: " + std::strerror(errno));
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  if (in.bad())
    throw BundleError(path + ": read failed");
  return bytes;
}

// tmp + fsync + rename + directory fsync: a crash leaves the old file or
// the new one, never a torn one.
void writeAtomically(const std::string &path, const std::vector<uint8_t> &a,
                     const std::vector<uint8_t> &b, unsigned mode) {
  writeFileAtomically(path, {{a.data(), a.size()}, {b.data(), b.size()}},
                      mode, [](const std::string &msg) {
                        throw BundleError(msg);
                      });
}

// The trailer of an executable image, if it has one: {offset, length}.
std::optional<std::pair<uint64_t, uint64_t>>
parseTrailer(const uint8_t *tail, uint64_t fileSize, const std::string &name) {
  if (std::memcmp(tail + 16, kTrailerMagic, 8) != 0)
    return std::nullopt;
  uint64_t offset = getU64(tail), length = getU64(tail + 8);
  if (offset > fileSize || length > fileSize ||
      offset + length + kTrailerSize != fileSize)
    throw BundleError(name +
                      ": embedded-bundle trailer is inconsistent "
                      "(offset " +
                      std::to_string(offset) + ", length " +
                      std::to_string(length) + ", file " +
                      std::to_string(fileSize) + " bytes)");
  return std::make_pair(offset, length);
}

} // namespace

uint32_t crc32(const void *data, size_t size, uint32_t crc) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k)
        c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  const auto *p = static_cast<const uint8_t *>(data);
  crc = ~crc;
  for (size_t i = 0; i < size; ++i)
    crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

std::vector<uint8_t> serializeBundle(const Bundle &bundle) {
  try {
    validatePlan(bundle.plan);
  } catch (const BundleError &e) {
    throw BundleError(std::string("refusing to write an invalid bundle: ") +
                      e.what());
  }
  std::string json = toJson(bundle.plan).dump();
  const std::pair<const void *, size_t> sections[kNumSections] = {
      {json.data(), json.size()},
      {bundle.cubin.data(), bundle.cubin.size()},
      {bundle.ptx.data(), bundle.ptx.size()},
      {bundle.cudaSource.data(), bundle.cudaSource.size()},
      {bundle.mlir.data(), bundle.mlir.size()}};
  std::vector<uint8_t> out(kMagic, kMagic + 8);
  putU32(out, kBundleVersion);
  for (const auto &[data, size] : sections) {
    putU64(out, size);
    const auto *p = static_cast<const uint8_t *>(data);
    out.insert(out.end(), p, p + size);
  }
  putU32(out, crc32(out.data(), out.size()));
  return out;
}

void writeBundle(const Bundle &bundle, const std::string &path) {
  writeAtomically(path, serializeBundle(bundle), {}, 0644);
}

Bundle readBundleFromBytes(const uint8_t *data, size_t size,
                           const std::string &name) {
  if (size < kMinSize)
    throw BundleError(name + ": truncated: " + std::to_string(size) +
                      " bytes, a bundle has at least " +
                      std::to_string(kMinSize));
  if (std::memcmp(data, kMagic, 8) != 0)
    throw BundleError(name + ": not a mind bundle (bad magic; expected "
                             "\"MINDBNDL\")");
  uint32_t version = getU32(data + 8);
  if (version != kBundleVersion)
    throw BundleError(name + ": unsupported bundle version " +
                      std::to_string(version) + " (this runtime reads " +
                      std::to_string(kBundleVersion) +
                      "; recompile it with this version's mindc)");
  std::pair<const uint8_t *, uint64_t> sec[kNumSections];
  size_t pos = 12;
  for (size_t i = 0; i < kNumSections; ++i) {
    // Lengths are checked against what is left before the checksum, so a
    // truncated or lying file is reported as such, not as a bad checksum.
    if (size - 4 - pos < 8)
      throw BundleError(name + ": truncated in the length of section '" +
                        kSectionNames[i] + "'");
    uint64_t len = getU64(data + pos);
    pos += 8;
    if (len > size - 4 - pos)
      throw BundleError(name + ": section '" + kSectionNames[i] +
                        "' declares " + std::to_string(len) +
                        " bytes but only " + std::to_string(size - 4 - pos) +
                        " remain before the checksum (truncated file?)");
    sec[i] = {data + pos, len};
    pos += len;
  }
  if (pos + 4 != size)
    throw BundleError(name + ": " + std::to_string(size - 4 - pos) +
                      " unexpected bytes after the last section");
  uint32_t stored = getU32(data + pos), computed = crc32(data, pos);
  if (stored != computed)
    throw BundleError(name + ": checksum mismatch (stored " + hex32(stored) +
                      ", computed " + hex32(computed) +
                      "): the bundle is corrupt");

  Bundle b;
  try {
    // The plan's config and meta are copied recursively: bounded nesting.
    auto json = nlohmann::json::parse(
        sec[0].first, sec[0].first + sec[0].second,
        depthLimitedCallback<nlohmann::json>([] {
          throw std::runtime_error("the plan is " + jsonTooDeepProblem());
        }));
    b.plan = planFromJson(json);
  } catch (const nlohmann::json::exception &e) {
    throw BundleError(name + ": plan JSON: " + e.what());
  } catch (const std::runtime_error &e) {
    throw BundleError(name + ": " + e.what());
  }
  b.cubin.assign(sec[1].first, sec[1].first + sec[1].second);
  auto text = [&](size_t i) {
    return std::string(reinterpret_cast<const char *>(sec[i].first),
                       sec[i].second);
  };
  b.ptx = text(2);
  b.cudaSource = text(3);
  b.mlir = text(4);
  try {
    validatePlan(b.plan);
  } catch (const BundleError &e) {
    throw BundleError(name + ": " + e.what());
  }
  if (!b.plan.kernels.empty() && b.cubin.empty() && b.ptx.empty())
    throw BundleError(name + ": the plan has " +
                      std::to_string(b.plan.kernels.size()) +
                      " kernels but the bundle carries neither cubin nor PTX");
  return b;
}

Bundle readBundle(const std::string &path) {
  if (std::string problem = regularFileProblem(path, "bundle");
      !problem.empty())
    throw BundleError(problem);
  std::vector<uint8_t> bytes = readFile(path);
  return readBundleFromBytes(bytes.data(), bytes.size(), path);
}

std::optional<Bundle> readEmbeddedBundle(const std::string &exePath) {
  std::ifstream in(exePath, std::ios::binary | std::ios::ate);
  if (!in)
    throw BundleError(exePath + ": cannot open: " + std::strerror(errno));
  uint64_t fileSize = static_cast<uint64_t>(in.tellg());
  if (fileSize < kTrailerSize)
    return std::nullopt;
  uint8_t tail[kTrailerSize];
  in.seekg(static_cast<std::streamoff>(fileSize - kTrailerSize));
  if (!in.read(reinterpret_cast<char *>(tail), kTrailerSize))
    throw BundleError(exePath + ": cannot read the trailer");
  auto trailer = parseTrailer(tail, fileSize, exePath);
  if (!trailer)
    return std::nullopt;
  std::vector<uint8_t> bytes(trailer->second);
  in.seekg(static_cast<std::streamoff>(trailer->first));
  if (!in.read(reinterpret_cast<char *>(bytes.data()),
               static_cast<std::streamsize>(bytes.size())))
    throw BundleError(exePath + ": cannot read the embedded bundle");
  return readBundleFromBytes(bytes.data(), bytes.size(),
                             exePath + " (embedded bundle)");
}

void writeEmbeddedExecutable(const std::string &trainerExe,
                             const Bundle &bundle, const std::string &outPath) {
  std::vector<uint8_t> exe = readFile(trainerExe);
  // Re-embedding replaces the bundle rather than stacking a second one.
  if (exe.size() >= kTrailerSize)
    if (auto t = parseTrailer(exe.data() + exe.size() - kTrailerSize,
                              exe.size(), trainerExe))
      exe.resize(t->first);
  std::vector<uint8_t> tail = serializeBundle(bundle);
  uint64_t offset = exe.size(), length = tail.size();
  putU64(tail, offset);
  putU64(tail, length);
  tail.insert(tail.end(), kTrailerMagic, kTrailerMagic + 8);
  writeAtomically(outPath, exe, tail, 0755);
}

} // namespace mind::runtime
