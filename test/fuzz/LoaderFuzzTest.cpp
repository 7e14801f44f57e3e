//===- LoaderFuzzTest.cpp - fuzzing safetensors and checkpoints -----------===//
//
// Mutants of valid safetensors files written by the project's own writers
// (a file of every kind of tensor, a weights-only file, a resume file) fed
// to SafetensorsFile::load, loadWeightsFile and loadResumeFile. Each must
// load (and then hold exactly the file's bytes) or throw SafetensorsError /
// CheckpointError naming the file; FuzzSupport.h says what else fails.
//
// The other loaders of this binary: TokenizerFuzz.cpp, ShardFuzz.cpp,
// BundleFuzz.cpp and (with the compiler) ConfigFuzz.cpp. Mutants are seeded
// (std::mt19937_64 from fixed constants), so every run tries the same inputs
// and prints the same tables.
//
//===----------------------------------------------------------------------===//

#include "FuzzSupport.h"
#include "SampleCheckpoint.h"

#include "mind/io/Checkpoint.h"
#include "mind/io/Safetensors.h"
#include "mind/io/Sha256.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

using namespace mind::runtime;
using namespace mind::fuzz;
using nlohmann::json;

namespace {

// Words a mutated header may use: dtype spellings right and wrong, field
// names, metadata keys.
const std::vector<std::string> kHeaderWords = {"F32",
                                               "F16",
                                               "BF16",
                                               "F64",
                                               "I64",
                                               "U64",
                                               "I32",
                                               "U8",
                                               "BOOL",
                                               "F8_E4M3",
                                               "F8_E5M2",
                                               "f32",
                                               "float32",
                                               "F128",
                                               "I4",
                                               "",
                                               "F32 ",
                                               "dtype",
                                               "shape",
                                               "data_offsets",
                                               "__metadata__",
                                               "mind.kind",
                                               "mind.state",
                                               "mind.config",
                                               "resume",
                                               "weights",
                                               "mind.tensors_sha256",
                                               "mind.state_sha256"};

uint64_t headerLength(const Bytes &b) {
  uint64_t n = 0;
  std::memcpy(&n, b.data(), 8);
  return n;
}
json parseHeader(const Bytes &b) {
  const uint8_t *h = b.data() + 8;
  return json::parse(h, h + headerLength(b));
}
// A file from a header text and a data buffer, with a correct length field.
Bytes frame(const std::string &header, const Bytes &data) {
  uint64_t n = header.size();
  Bytes b(8 + header.size() + data.size());
  std::memcpy(b.data(), &n, 8);
  std::copy(header.begin(), header.end(), b.begin() + 8);
  std::copy(data.begin(), data.end(), b.begin() + 8 + header.size());
  return b;
}
Bytes dataOf(const Bytes &file) {
  return Bytes(file.begin() + 8 + headerLength(file), file.end());
}
// The header as text; metadata that a mutation left ill-formed as UTF-8 is
// replaced rather than refused, so that every mutant can be written.
std::string dumpHeader(const json &h) {
  return h.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Offsets where the structure changes: after the length, after the header,
// at each tensor's start.
std::vector<size_t> marksOf(const Bytes &file) {
  std::vector<size_t> marks = {8, 8 + headerLength(file)};
  json h = parseHeader(file);
  for (auto &[name, t] : h.items())
    if (name != "__metadata__")
      marks.push_back(8 + headerLength(file) +
                      t["data_offsets"][0].get<size_t>());
  return marks;
}

const std::vector<Field> kLengthFields = {{0, 8, "header length"},
                                          {0, 4, "header length (low)"},
                                          {4, 4, "header length (high)"}};

// A structure-aware change of one tensor entry: the dtype, the shape or the
// data offsets set to values the reader must refuse (or accept exactly).
std::string mutateTensorEntry(Mutator &m, json &header) {
  std::vector<std::string> names;
  for (auto &[name, t] : header.items())
    if (name != "__metadata__")
      names.push_back(name);
  if (names.empty())
    return "no tensor";
  const std::string &name = m.pick(names);
  json &t = header[name];
  json &other = header[m.pick(names)];
  uint64_t b = t["data_offsets"][0], e = t["data_offsets"][1];
  uint64_t ob = other["data_offsets"][0], oe = other["data_offsets"][1];
  const uint64_t big = UINT64_MAX, i64max = uint64_t(INT64_MAX);
  switch (m.below(3)) {
  case 0:
    t["dtype"] = m.pick(kHeaderWords);
    return "tensor '" + name + "' dtype := " + t["dtype"].dump();
  case 1: {
    using A = json;
    const std::vector<json> shapes = {
        A::array(),
        A::array({0}),
        A::array({-1}),
        A::array({3, -2}),
        A::array({0, big}),
        A::array({uint64_t(1) << 32, uint64_t(1) << 32}),
        A::array({uint64_t(1) << 62, 4}),
        A::array({i64max}),
        A::array({i64max + 1}),
        A::array({big}),
        A::array({1, 1, 1, 1, 1, 1, 1, 1}),
        A::array({1.5}),
        A::array({"2"}),
        A::array({nullptr}),
        A::array({e - b}),
        A::array({e - b + 1})};
    t["shape"] = m.pick(shapes);
    return "tensor '" + name + "' shape := " + t["shape"].dump();
  }
  default: {
    using A = json;
    const uint64_t n = e - b;
    const std::vector<json> offsets = {A::array({0, 0}),
                                       A::array({b, e + 1}),
                                       A::array({b + 1, e + 1}),
                                       A::array({b - 1, e - 1}),
                                       A::array({e, b}),
                                       A::array({ob, oe}),
                                       A::array({ob, ob + n}),
                                       A::array({oe - 1, oe - 1 + n}),
                                       A::array({b, big}),
                                       A::array({big, big}),
                                       A::array({big - 1, big}),
                                       A::array({i64max, i64max + n}),
                                       A::array({b}),
                                       A::array({b, e, e}),
                                       A::array({-1, e}),
                                       A::array({b, 1e20})};
    t["data_offsets"] = m.pick(offsets);
    return "tensor '" + name + "' data_offsets := " + t["data_offsets"].dump();
  }
  }
}

// One random mutant of a safetensors seed: raw bytes, the length field, the
// header's JSON (re-framed with a correct length), one tensor entry, or the
// data buffer. `metadata` names a metadata value holding JSON (a resume
// file's state, a weights file's config) that may be mutated as JSON, with
// its SHA-256 (`shaKey`, when not empty) recomputed so the loader reads it.
Bytes mutateSafetensors(Mutator &m, const Bytes &seed, std::string &desc,
                        const std::string &metadata = "",
                        const std::string &shaKey = "") {
  Bytes b = seed;
  unsigned pick = static_cast<unsigned>(m.below(metadata.empty() ? 8 : 10));
  if (pick <= 1) {
    desc = m.havoc(b, kLengthFields);
    return b;
  }
  if (pick == 2) {
    desc = m.setField(b, m.pick(kLengthFields));
    return b;
  }
  json header = parseHeader(seed);
  Bytes data = dataOf(seed);
  std::string text;
  if (pick <= 4) {
    text = m.mutateJson(header, kHeaderWords, desc, m.chance(20));
  } else if (pick <= 6) {
    desc = mutateTensorEntry(m, header);
    text = dumpHeader(header);
  } else if (pick == 7) {
    desc = "data: " + m.mutateBytes(data, {});
    text = dumpHeader(header);
  } else {
    std::string sub;
    std::string value = sanitizeUtf8(m.mutateJson(
        json::parse(header["__metadata__"][metadata].get<std::string>()), {},
        sub));
    header["__metadata__"][metadata] = value;
    if (!shaKey.empty())
      header["__metadata__"][shaKey] = sha256Hex(value);
    desc = metadata + ": " + sub;
    text = dumpHeader(header);
  }
  return frame(text, data);
}

// A loaded file must hold exactly the bytes its header declares.
void checkLoaded(const SafetensorsFile &f, const Bytes &file) {
  json h = parseHeader(file);
  size_t dataStart = 8 + headerLength(file);
  for (const std::string &name : f.names()) {
    const TensorView &t = f.get(name);
    FUZZ_SANE(h.contains(name), "tensor '" + name + "' is not in the header");
    uint64_t begin = h[name]["data_offsets"][0],
             end = h[name]["data_offsets"][1];
    FUZZ_SANE(end - begin == t.nbytes && dataStart + end <= file.size(),
              "tensor '" + name + "' lies outside the file");
    FUZZ_SANE(t.nbytes == t.numel() * dtypeSize(t.dtype),
              "tensor '" + name + "' has a size unlike its shape");
    FUZZ_SANE(
        t.nbytes == 0 ||
            std::memcmp(t.data, file.data() + dataStart + begin, t.nbytes) == 0,
        "tensor '" + name + "' does not view the file's bytes");
    FUZZ_SANE(f.toFloat64(name).size() == t.numel(),
              "tensor '" + name + "' converts to the wrong count");
  }
}

// The model of the checkpoint seeds (as CheckpointTest's).
struct Model {
  std::vector<TensorSpec> specs = samples::sampleSpecs();
  json config = samples::sampleConfig();
  ResumeCheckpoint ck;
  Model() {
    ck.state = samples::sampleResumeState(config);
    float x = 0.25f;
    for (const TensorSpec &s : specs)
      for (TensorList *l : {&ck.weights, &ck.expAvg, &ck.expAvgSq}) {
        l->emplace_back(numElements(s.shape));
        for (float &v : l->back())
          v = (x = -x * 1.5f + 0.125f);
      }
  }
  void checkWeights(const TensorList &w) const {
    FUZZ_SANE(w.size() == specs.size(), "wrong number of weights");
    for (size_t i = 0; i < specs.size(); ++i)
      FUZZ_SANE(w[i].size() == numElements(specs[i].shape),
                "weights of '" + specs[i].name + "' have the wrong size");
  }
};

} // namespace

TEST(LoaderFuzz, Safetensors) {
  TempDir dir;
  SafetensorsWriter w;
  w.addF32("a.f32", {2, 3}, {1.5f, -2.0f, 0.0f, 1e-30f, -7.0f, 3.25f});
  w.addBF16FromF32("b.bf16", {4}, {1.0f, -1.0f, 0.5f, 65504.0f});
  w.addI64("c.i64", {3}, {1, -2, INT64_MAX});
  w.add("d.u8", DType::U8, {0}, nullptr, 0);
  w.add("e.bool", DType::BOOL, {2}, "\x01\x00", 2);
  w.add("f.f8", DType::F8_E4M3, {3}, "\x7f\x38\xff", 3);
  w.addF64("g.scalar", {}, {2.5});
  w.addF16FromF32("h.f16", {1, 2}, {0.1f, -65504.0f});
  w.setMetadata("format", "pt");
  w.setMetadata("note", "fuzz seed");
  Bytes seed = w.serialize();
  ASSERT_EQ(SafetensorsFile::fromBuffer(seed, "seed").size(), 8u);

  std::string path = dir.file("mutant.safetensors");
  Tally tally("SafetensorsFile::load");
  forEachMutant(
      0x5AFE7E5504C0FFEEULL, {{"seed", seed}}, {marksOf(seed)}, 160, 8000,
      [&](Mutator &m, std::string &desc) {
        return mutateSafetensors(m, seed, desc);
      },
      [&](size_t index, uint64_t s, const std::string &desc, const Bytes &b) {
        writeFile(path, b);
        tally.run<SafetensorsError>(index, s, desc, path, b.size(), [&] {
          checkLoaded(SafetensorsFile::load(path), b);
        });
      });
  tally.print(40);
}

TEST(LoaderFuzz, WeightsFile) {
  TempDir dir;
  Model model;
  std::string seedPath = dir.file("seed.safetensors");
  saveWeightsFile(seedPath, model.specs, model.ck.weights, model.config);
  Bytes seed = readFile(seedPath);

  std::string path = dir.file("mutant.safetensors");
  Tally tally("loadWeightsFile");
  forEachMutant(
      0x3E1647500F11E5ULL, {{"weights seed", seed}}, {marksOf(seed)}, 96, 5000,
      [&](Mutator &m, std::string &desc) {
        return mutateSafetensors(m, seed, desc, "mind.config");
      },
      [&](size_t index, uint64_t s, const std::string &desc, const Bytes &b) {
        writeFile(path, b);
        tally.run<CheckpointError>(index, s, desc, path, b.size(), [&] {
          model.checkWeights(loadWeightsFile(path, model.specs, model.config));
        });
      });
  tally.print(40);
}

TEST(LoaderFuzz, ResumeFile) {
  TempDir dir;
  Model model;
  std::string seedPath = dir.file("seed.safetensors");
  writeResumeFile(seedPath, model.specs, model.ck);
  Bytes seed = readFile(seedPath);

  // Each mutant goes to both readers of resume files.
  std::string path = dir.file("mutant_resume.safetensors");
  Tally resume("loadResumeFile"), weights("loadWeightsFile (resume mutants)");
  forEachMutant(
      0x4E5E3EF11EULL, {{"resume seed", seed}}, {marksOf(seed)}, 64, 4000,
      [&](Mutator &m, std::string &desc) {
        return mutateSafetensors(m, seed, desc, "mind.state",
                                 "mind.state_sha256");
      },
      [&](size_t index, uint64_t s, const std::string &desc, const Bytes &b) {
        writeFile(path, b);
        resume.run<CheckpointError>(index, s, desc, path, b.size(), [&] {
          ResumeCheckpoint ck = loadResumeFile(path, model.specs, model.config,
                                               model.ck.state.tokenizerSha256);
          model.checkWeights(ck.weights);
          model.checkWeights(ck.expAvg);
          model.checkWeights(ck.expAvgSq);
          FUZZ_SANE(ck.state.step >= 0 && ck.state.worldSize >= 1 &&
                        ck.state.cursor.batchSize >= 1,
                    "the state holds out-of-range counters");
        });
        weights.run<CheckpointError>(index, s, desc, path, b.size(), [&] {
          model.checkWeights(loadWeightsFile(path, model.specs, model.config));
        });
      });
  resume.print(30);
  weights.print(20);
}
