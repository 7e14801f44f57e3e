//===- Checkpoint.cpp - weights-only and resume checkpoints ---------------===//

#include "mind/io/Checkpoint.h"

#include "mind/abi/JsonDepth.h"
#include "mind/io/Safetensors.h"
#include "mind/io/Sha256.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include <fcntl.h>
#include <unistd.h>

using namespace mind::runtime;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {
// Metadata keys of both file kinds.
constexpr const char *kKind = "mind.kind";
constexpr const char *kState = "mind.state";
constexpr const char *kStateSha = "mind.state_sha256";
constexpr const char *kTensorsSha = "mind.tensors_sha256";
constexpr const char *kConfig = "mind.config";

[[noreturn]] void fail(const std::string &path, const std::string &msg) {
  throw CheckpointError(path + ": " + msg);
}

// Digest of tensors sorted by name: name, dtype, shape and bytes of each,
// length-prefixed so that no two different tensor sets hash alike.
std::string tensorsDigest(const std::vector<const TensorView *> &views) {
  Sha256 h;
  auto u64 = [&](uint64_t v) {
    uint8_t b[8];
    for (int i = 0; i < 8; ++i)
      b[i] = static_cast<uint8_t>(v >> (8 * i));
    h.update(b, 8);
  };
  for (const TensorView *v : views) {
    u64(v->name.size());
    h.update(v->name);
    h.update(dtypeName(v->dtype));
    u64(v->shape.size());
    for (int64_t d : v->shape)
      u64(static_cast<uint64_t>(d));
    u64(v->nbytes);
    h.update(v->data, v->nbytes);
  }
  return h.finishHex();
}

std::string fileTensorsDigest(const SafetensorsFile &file) {
  std::vector<const TensorView *> views;
  for (const std::string &name : file.names())
    views.push_back(&file.get(name));
  return tensorsDigest(views);
}

SafetensorsFile loadFile(const std::string &path) {
  std::error_code ec;
  if (!fs::exists(path, ec))
    fail(path, "no such file");
  SafetensorsFile file;
  try {
    file = SafetensorsFile::load(path);
  } catch (const SafetensorsError &e) {
    throw CheckpointError(e.what());
  }
  // nlohmann::json stops at a NUL byte, so a space of the header padding
  // turned into NUL (one flipped bit) would pass the reader; catch it here.
  std::ifstream in(path, std::ios::binary);
  uint8_t len[8] = {};
  in.read(reinterpret_cast<char *>(len), 8);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i)
    n = (n << 8) | len[i];
  std::string header(n, '\0');
  in.read(header.data(), static_cast<std::streamsize>(n));
  if (!in || header.find('\0') != std::string::npos)
    fail(path, "header is corrupted (a NUL byte after the JSON)");
  return file;
}

void checkTensorsDigest(const SafetensorsFile &file) {
  auto it = file.metadata().find(kTensorsSha);
  if (it == file.metadata().end())
    return;
  if (fileTensorsDigest(file) != it->second)
    fail(file.path(), "tensor data is corrupted: the SHA-256 of the tensors "
                      "does not match the one stored in the metadata");
}

std::string describeConfigDiffs(const json &saved, const json &current) {
  std::string msg;
  for (const FieldDiff &d : diffJson(saved, current)) {
    if (!msg.empty())
      msg += "; ";
    msg += "checkpoint was written for " + d.field + " " + d.saved +
           ", this model has " + d.current;
  }
  return msg.empty() ? "the model config differs" : msg;
}

void checkConfig(const std::string &path, const json &saved,
                 const json &current) {
  if (current.is_null() || canonicalJson(saved) == canonicalJson(current))
    return;
  fail(path, describeConfigDiffs(saved, current));
}

// The state JSON of a resume file, after checking its digest.
json readState(const SafetensorsFile &file) {
  const auto &md = file.metadata();
  auto state = md.find(kState), sha = md.find(kStateSha);
  if (state == md.end() || sha == md.end())
    fail(file.path(), std::string("resume metadata lacks '") +
                          (state == md.end() ? kState : kStateSha) + "'");
  if (sha256Hex(state->second) != sha->second)
    fail(file.path(), "resume metadata is corrupted: the SHA-256 of the state "
                      "does not match the stored one");
  try {
    // Copied and printed recursively (the config's digest): bounded nesting.
    return json::parse(state->second, depthLimitedCallback<json>([&] {
                         fail(file.path(),
                              "resume state is " + jsonTooDeepProblem());
                       }));
  } catch (const json::exception &e) {
    fail(file.path(),
         std::string("resume state is not valid JSON: ") + e.what());
  }
}

void checkList(const char *what, const std::vector<TensorSpec> &specs,
               const TensorList &list) {
  if (list.size() != specs.size())
    throw CheckpointError(std::string("checkpoint: ") + what + " holds " +
                          std::to_string(list.size()) + " tensors, the model " +
                          std::to_string(specs.size()));
  for (size_t i = 0; i < specs.size(); ++i) {
    uint64_t n = numElements(specs[i].shape);
    if (list[i].size() != n)
      throw CheckpointError(std::string("checkpoint: ") + what + " of '" +
                            specs[i].name + "' has " +
                            std::to_string(list[i].size()) +
                            " elements, expected " + std::to_string(n));
  }
}

void fsyncDir(const std::string &dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    throw CheckpointError(
        dir + ": cannot open directory to fsync: " + std::strerror(errno));
  int rc = ::fsync(fd), err = errno;
  ::close(fd);
  if (rc != 0)
    throw CheckpointError(dir +
                          ": directory fsync failed: " + std::strerror(err));
}

std::string dirOf(const std::string &path) {
  fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? "." : parent.string();
}
} // namespace

//===----------------------------------------------------------------------===//
// Names, JSON helpers, world size
//===----------------------------------------------------------------------===//

std::string mind::runtime::checkpointStem(const std::string &saveDir,
                                          const std::string &saveWeight,
                                          int64_t hiddenSize, bool useMoe) {
  return saveDir + "/" + saveWeight + "_" + std::to_string(hiddenSize) +
         (useMoe ? "_moe" : "");
}
std::string mind::runtime::weightsPath(const std::string &stem) {
  return stem + ".safetensors";
}
std::string mind::runtime::resumePath(const std::string &stem) {
  return stem + "_resume.safetensors";
}
std::string mind::runtime::resumeStepPath(const std::string &stem,
                                          int64_t step) {
  return stem + "_resume_step" + std::to_string(step) + ".safetensors";
}

//===----------------------------------------------------------------------===//
// Weights-only files
//===----------------------------------------------------------------------===//

void mind::runtime::saveWeightsFile(const std::string &path,
                                    const std::vector<TensorSpec> &specs,
                                    const TensorList &weights,
                                    const json &config) {
  checkList("weights", specs, weights);
  std::vector<std::vector<uint16_t>> halves(specs.size());
  std::map<std::string, TensorView> views;
  SafetensorsWriter w;
  for (size_t i = 0; i < specs.size(); ++i) {
    halves[i].resize(weights[i].size());
    for (size_t j = 0; j < weights[i].size(); ++j)
      halves[i][j] = floatToF16(weights[i][j]);
    size_t nbytes = halves[i].size() * 2;
    const auto *data = reinterpret_cast<const uint8_t *>(halves[i].data());
    w.addBorrowed(specs[i].name, DType::F16, specs[i].shape, data, nbytes);
    views[specs[i].name] = {specs[i].name, DType::F16, specs[i].shape, data,
                            nbytes};
  }
  std::vector<const TensorView *> sorted;
  for (const auto &kv : views)
    sorted.push_back(&kv.second);
  w.setMetadata("format", "pt");
  w.setMetadata(kKind, "weights");
  if (!config.is_null())
    w.setMetadata(kConfig, canonicalJson(config));
  w.setMetadata(kTensorsSha, tensorsDigest(sorted));
  try {
    fs::create_directories(dirOf(path));
    w.write(path);
  } catch (const std::exception &e) {
    throw CheckpointError(e.what());
  }
}

TensorList mind::runtime::loadWeightsFile(const std::string &path,
                                          const std::vector<TensorSpec> &specs,
                                          const json &config) {
  SafetensorsFile file = loadFile(path);
  const auto &md = file.metadata();
  auto kind = md.find(kKind);
  std::string prefix;
  json saved;
  if (kind != md.end() && kind->second == "resume") {
    saved = resumeStateFromJson(readState(file), path).config;
    prefix = "param.";
  } else if (md.count(kConfig)) {
    try {
      saved = json::parse(md.at(kConfig), depthLimitedCallback<json>([&] {
                            fail(path, "metadata 'mind.config' is " +
                                           jsonTooDeepProblem());
                          }));
    } catch (const json::exception &e) {
      fail(path,
           std::string("metadata 'mind.config' is not JSON: ") + e.what());
    }
  }
  if (!saved.is_null())
    checkConfig(path, saved, config);
  checkTensorsDigest(file);

  std::set<std::string> expected;
  TensorList out;
  for (const TensorSpec &s : specs) {
    std::string name = prefix + s.name;
    expected.insert(name);
    const TensorView *t = file.find(name);
    if (!t)
      fail(path, "no tensor named '" + name + "'");
    if (!isFloatingPoint(t->dtype) || dtypeSize(t->dtype) < 2)
      fail(path, "tensor '" + name + "' has dtype " + dtypeName(t->dtype) +
                     "; weights must be F16, BF16, F32 or F64");
    if (t->shape != s.shape)
      fail(path, "tensor '" + name + "' has shape " + shapeText(t->shape) +
                     ", the model needs " + shapeText(s.shape));
    out.push_back(file.toFloat32(name));
  }
  for (const std::string &name : file.names()) {
    // In a resume file only the param.* tensors are weights.
    if (expected.count(name) || name.compare(0, prefix.size(), prefix) != 0)
      continue;
    if (name == prefix + "lm_head.weight") // tied to model.embed_tokens
      continue;
    fail(path,
         "unexpected tensor '" + name + "' (not a parameter of this model)");
  }
  return out;
}

//===----------------------------------------------------------------------===//
// Resume files
//===----------------------------------------------------------------------===//

void mind::runtime::writeResumeFile(const std::string &path,
                                    const std::vector<TensorSpec> &specs,
                                    const ResumeCheckpoint &ck) {
  checkList("weights", specs, ck.weights);
  checkList("adam.m", specs, ck.expAvg);
  checkList("adam.v", specs, ck.expAvgSq);
  SafetensorsWriter w;
  std::map<std::string, TensorView> views;
  auto add = [&](const std::string &name, const TensorSpec &s,
                 const std::vector<float> &v) {
    const auto *data = reinterpret_cast<const uint8_t *>(v.data());
    size_t nbytes = v.size() * sizeof(float);
    w.addBorrowed(name, DType::F32, s.shape, data, nbytes);
    views[name] = {name, DType::F32, s.shape, data, nbytes};
  };
  for (size_t i = 0; i < specs.size(); ++i) {
    add("param." + specs[i].name, specs[i], ck.weights[i]);
    add("adam.m." + specs[i].name, specs[i], ck.expAvg[i]);
    add("adam.v." + specs[i].name, specs[i], ck.expAvgSq[i]);
  }
  std::vector<const TensorView *> sorted;
  for (const auto &kv : views)
    sorted.push_back(&kv.second);
  std::string state = canonicalJson(resumeStateToJson(ck.state));
  w.setMetadata(kKind, "resume");
  w.setMetadata(kState, state);
  w.setMetadata(kStateSha, sha256Hex(state));
  w.setMetadata(kTensorsSha, tensorsDigest(sorted));
  try {
    fs::create_directories(dirOf(path));
    w.write(path);
  } catch (const std::exception &e) {
    throw CheckpointError(e.what());
  }
}

std::vector<std::pair<int64_t, std::string>>
mind::runtime::listResumeStepFiles(const std::string &stem) {
  std::vector<std::pair<int64_t, std::string>> out;
  fs::path dir = dirOf(stem);
  std::string prefix = fs::path(stem).filename().string() + "_resume_step";
  const std::string suffix = ".safetensors";
  std::error_code ec;
  for (const auto &entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name.size() <= prefix.size() + suffix.size() ||
        name.compare(0, prefix.size(), prefix) != 0 ||
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
      continue;
    std::string digits =
        name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
    if (digits.size() > 18 ||
        !std::all_of(digits.begin(), digits.end(),
                     [](unsigned char c) { return std::isdigit(c); }))
      continue;
    out.emplace_back(std::stoll(digits), (dir / name).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void mind::runtime::saveResume(const std::string &stem,
                               const std::vector<TensorSpec> &specs,
                               const ResumeCheckpoint &ck, int64_t keepLast) {
  if (keepLast < 1)
    throw CheckpointError("--keep_last must be at least 1");
  std::string mainPath = resumePath(stem);
  if (keepLast == 1) {
    writeResumeFile(mainPath, specs, ck);
    return;
  }
  std::string stepFile = resumeStepPath(stem, ck.state.step);
  writeResumeFile(stepFile, specs, ck);
  // Point the main name at the new file atomically: link to a temporary
  // name, then rename over the main name (no second copy on disk).
  std::string tmp = mainPath + ".link.tmp";
  ::unlink(tmp.c_str());
  if (::link(stepFile.c_str(), tmp.c_str()) == 0) {
    if (::rename(tmp.c_str(), mainPath.c_str()) != 0) {
      int err = errno;
      ::unlink(tmp.c_str());
      throw CheckpointError(mainPath + ": rename from " + tmp +
                            " failed: " + std::strerror(err));
    }
    fsyncDir(dirOf(mainPath));
  } else {
    writeResumeFile(mainPath, specs, ck); // file system without hard links
  }
  // Prune only after the new state is durable under both names.
  std::vector<std::pair<int64_t, std::string>> older;
  for (auto &f : listResumeStepFiles(stem))
    if (f.first <= ck.state.step)
      older.push_back(f);
  if (static_cast<int64_t>(older.size()) > keepLast) {
    for (size_t i = 0; i + keepLast < older.size(); ++i)
      ::unlink(older[i].second.c_str());
    fsyncDir(dirOf(mainPath));
  }
}

ResumeCheckpoint mind::runtime::loadResumeFile(
    const std::string &path, const std::vector<TensorSpec> &specs,
    const json &config, const std::string &tokenizerSha256) {
  SafetensorsFile file = loadFile(path);
  auto kind = file.metadata().find(kKind);
  if (kind == file.metadata().end())
    fail(path, "not a mind resume checkpoint (no 'mind.kind' metadata)");
  if (kind->second != "resume")
    fail(path, "is a '" + kind->second +
                   "' checkpoint, not a resume file (use --from_weight)");
  ResumeCheckpoint ck;
  ck.state = resumeStateFromJson(readState(file), path);
  checkConfig(path, ck.state.config, config);
  if (ck.state.tokenizerSha256 != tokenizerSha256)
    fail(path, "checkpoint was written with tokenizer sha256 " +
                   ck.state.tokenizerSha256 + ", this run uses " +
                   tokenizerSha256);

  std::set<std::string> expected;
  auto read = [&](const std::string &name, const TensorSpec &s) {
    expected.insert(name);
    const TensorView *t = file.find(name);
    if (!t)
      fail(path, "no tensor named '" + name + "'");
    if (t->dtype != DType::F32)
      fail(path, "tensor '" + name + "' has dtype " + dtypeName(t->dtype) +
                     ", resume files hold F32");
    if (t->shape != s.shape)
      fail(path, "tensor '" + name + "' has shape " + shapeText(t->shape) +
                     ", the model needs " + shapeText(s.shape));
    return file.toFloat32(name);
  };
  for (const TensorSpec &s : specs) {
    ck.weights.push_back(read("param." + s.name, s));
    ck.expAvg.push_back(read("adam.m." + s.name, s));
    ck.expAvgSq.push_back(read("adam.v." + s.name, s));
  }
  for (const std::string &name : file.names())
    if (!expected.count(name))
      fail(path,
           "unexpected tensor '" + name + "' (not part of this model's state)");
  // Last, as it reads every byte: a flipped bit anywhere in the data.
  if (!file.metadata().count(kTensorsSha))
    fail(path, "resume metadata lacks 'mind.tensors_sha256'");
  checkTensorsDigest(file);
  return ck;
}
