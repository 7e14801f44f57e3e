//===- CheckpointTest.cpp - weights-only and resume checkpoint tests ------===//
//
// Round trips, the --keep_last policy, world-size rescaling, SHA-256, and
// every fault the loader must catch: truncation, bit flips anywhere (an
// exhaustive sweep over the header and the data), trailing bytes, an
// oversized header, another config, another tokenizer, missing or misshapen
// tensors. Each must give a clear error, never a wrong model.
//
//===----------------------------------------------------------------------===//

#include "SampleCheckpoint.h"

#include "mind/io/Checkpoint.h"
#include "mind/io/Safetensors.h"
#include "mind/io/Sha256.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sys/stat.h>
#include <unistd.h>

using namespace mind::runtime;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

class CheckpointTest : public ::testing::Test {
protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mind-checkpoint-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir = tmpl;
    specs = samples::sampleSpecs();
    config = samples::sampleConfig();
    ck.state = samples::sampleResumeState(config);
    std::mt19937 rng(7);
    std::normal_distribution<float> dist;
    for (const TensorSpec &s : specs) {
      size_t n = numElements(s.shape);
      for (TensorList *l : {&ck.weights, &ck.expAvg, &ck.expAvgSq}) {
        l->emplace_back(n);
        for (float &x : l->back())
          x = dist(rng);
      }
    }
  }
  void TearDown() override { fs::remove_all(dir); }

  std::string load(const std::string &path) { // "" on success
    try {
      loadResumeFile(path, specs, config, ck.state.tokenizerSha256);
    } catch (const CheckpointError &e) {
      return e.what();
    }
    return "";
  }
  std::string saved() { // a valid resume file
    std::string p = dir + "/r.safetensors";
    writeResumeFile(p, specs, ck);
    return p;
  }
  static std::string readAll(const std::string &p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }
  static void writeAll(const std::string &p, const std::string &bytes) {
    std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
  }
  static uint64_t headerLen(const std::string &bytes) {
    uint64_t n;
    std::memcpy(&n, bytes.data(), 8);
    return n;
  }

  std::string dir;
  std::vector<TensorSpec> specs;
  json config;
  ResumeCheckpoint ck;
};

#define EXPECT_LOAD_ERROR(path, needle)                                        \
  do {                                                                         \
    std::string msg = load(path);                                              \
    EXPECT_NE(msg.find(needle), std::string::npos) << "message: " << msg;      \
    EXPECT_NE(msg.find(path), std::string::npos) << "no file: " << msg;        \
  } while (0)

TEST(Sha256Test, KnownVectors) {
  EXPECT_EQ(sha256Hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(
      sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  Sha256 h; // one million 'a' in uneven pieces
  std::string chunk(997, 'a');
  size_t left = 1000000;
  while (left) {
    size_t n = std::min(left, chunk.size());
    h.update(chunk.data(), n);
    left -= n;
  }
  EXPECT_EQ(h.finishHex(),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(CheckpointNames, MiniMindLayout) {
  std::string stem = checkpointStem("out", "pretrain", 512, false);
  EXPECT_EQ(stem, "out/pretrain_512");
  EXPECT_EQ(checkpointStem("o", "full_sft", 640, true), "o/full_sft_640_moe");
  EXPECT_EQ(weightsPath(stem), "out/pretrain_512.safetensors");
  EXPECT_EQ(resumePath(stem), "out/pretrain_512_resume.safetensors");
  EXPECT_EQ(resumeStepPath(stem, 300),
            "out/pretrain_512_resume_step300.safetensors");
}

TEST(CheckpointWorldSize, MiniMindRescaling) {
  EXPECT_EQ(rescaleStepForWorldSize(10, 1, 1), 10);
  EXPECT_EQ(rescaleStepForWorldSize(10, 2, 1), 20); // 8 -> 1 GPU: more steps
  EXPECT_EQ(rescaleStepForWorldSize(10, 1, 2), 5);
  EXPECT_EQ(rescaleStepForWorldSize(11, 1, 2), 5); // floor, like Python //
  EXPECT_EQ(rescaleStepForWorldSize(7, 3, 2), 10);
  EXPECT_EQ(rescaleStepForWorldSize(0, 8, 3), 0);
  EXPECT_THROW(rescaleStepForWorldSize(1, 0, 1), CheckpointError);
  EXPECT_THROW(rescaleStepForWorldSize(1, 1, 0), CheckpointError);
  EXPECT_THROW(rescaleStepForWorldSize(-1, 1, 1), CheckpointError);
  EXPECT_THROW(rescaleStepForWorldSize(INT64_MAX / 2, 4, 1), CheckpointError);
}

TEST(CheckpointJson, DiffNamesFields) {
  json a = {{"hidden_size", 512}, {"rope", {{"factor", 16}}}, {"x", 1}};
  json b = {{"hidden_size", 768}, {"rope", {{"factor", 8}}}, {"y", true}};
  auto d = diffJson(a, b);
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d[0].field, "hidden_size");
  EXPECT_EQ(d[0].saved, "512");
  EXPECT_EQ(d[0].current, "768");
  EXPECT_EQ(d[1].field, "rope.factor");
  EXPECT_EQ(d[2].field, "x");
  EXPECT_EQ(d[2].current, "(absent)");
  EXPECT_EQ(d[3].saved, "(absent)");
  EXPECT_TRUE(diffJson(a, a).empty());
  EXPECT_EQ(canonicalJson(json::parse(R"({"b":1, "a":[1, 2]})")),
            R"({"a":[1,2],"b":1})");
}

TEST_F(CheckpointTest, ResumeRoundTripIsExact) {
  std::string p = saved();
  ResumeCheckpoint got =
      loadResumeFile(p, specs, config, ck.state.tokenizerSha256);
  EXPECT_EQ(got.weights, ck.weights); // bitwise: fp32 in, fp32 out
  EXPECT_EQ(got.expAvg, ck.expAvg);
  EXPECT_EQ(got.expAvgSq, ck.expAvgSq);
  const ResumeState &s = got.state;
  EXPECT_EQ(s.step, 12);
  EXPECT_EQ(s.microStep, 96);
  EXPECT_EQ(s.epoch, 1);
  EXPECT_EQ(s.worldSize, 2);
  EXPECT_EQ(s.cursor.epoch, 1);
  EXPECT_EQ(s.cursor.batchIndex, 8);
  EXPECT_EQ(s.cursor.batchSize, 4);
  EXPECT_EQ(s.cursor.itersPerEpoch, 44);
  EXPECT_EQ(s.rng.seed, 42u);
  EXPECT_EQ(s.rng.counters, ck.state.rng.counters);
  EXPECT_TRUE(s.lossScaler.enabled);
  EXPECT_EQ(s.lossScaler.scale, 32768.0);
  EXPECT_EQ(s.lossScaler.growthTracker, 7);
  EXPECT_EQ(s.runId, "0123456789abcdef");
  EXPECT_EQ(s.config, config);
  EXPECT_EQ(s.training, ck.state.training);
  // The fp32 weights are also loadable as initial weights.
  EXPECT_EQ(loadWeightsFile(p, specs, config), ck.weights);
}

TEST_F(CheckpointTest, WeightsFileIsFp16WithPyTorchNames) {
  std::string p = dir + "/sub/w.safetensors"; // the directory is created
  saveWeightsFile(p, specs, ck.weights, config);
  SafetensorsFile f = SafetensorsFile::load(p);
  EXPECT_EQ(f.get("model.norm.weight").dtype, DType::F16);
  EXPECT_EQ(f.metadata().at("format"), "pt");
  EXPECT_EQ(f.size(), specs.size());
  TensorList got = loadWeightsFile(p, specs, config);
  for (size_t i = 0; i < specs.size(); ++i)
    for (size_t j = 0; j < got[i].size(); ++j)
      EXPECT_EQ(got[i][j], f16ToFloat(floatToF16(ck.weights[i][j])));
  // A file without mind metadata (written by Python) loads on shapes alone;
  // the tied lm_head.weight is accepted and ignored.
  SafetensorsWriter w;
  for (size_t i = 0; i < specs.size(); ++i)
    w.addF32(specs[i].name, specs[i].shape, ck.weights[i]);
  w.addF32("lm_head.weight", {4, 3}, ck.weights[0]);
  w.write(dir + "/py.safetensors");
  EXPECT_EQ(loadWeightsFile(dir + "/py.safetensors", specs, config),
            ck.weights);
  // Another config is named; so is a wrong shape and a stray tensor.
  json other = config;
  other["hidden_size"] = 768;
  try {
    loadWeightsFile(p, specs, other);
    ADD_FAILURE() << "loaded with another config";
  } catch (const CheckpointError &e) {
    EXPECT_NE(std::string(e.what()).find(
                  "checkpoint was written for hidden_size 3, this model has "
                  "768"),
              std::string::npos)
        << e.what();
  }
  w.addF32("model.extra.weight", {1}, {1.0f});
  w.write(dir + "/py.safetensors");
  EXPECT_THROW(loadWeightsFile(dir + "/py.safetensors", specs, config),
               CheckpointError);
  // Not a resume file.
  EXPECT_LOAD_ERROR(p, "not a resume file");
}

TEST_F(CheckpointTest, WrongConfigNamesEveryDifferingField) {
  std::string p = saved();
  config["hidden_size"] = 768;
  config["rope_scaling"]["factor"] = 4.0;
  std::string msg = load(p);
  EXPECT_NE(msg.find("checkpoint was written for hidden_size 3, this model "
                     "has 768"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("rope_scaling.factor 16.0, this model has 4.0"),
            std::string::npos)
      << msg;
  EXPECT_EQ(msg.find("vocab_size"), std::string::npos) << msg;
}

TEST_F(CheckpointTest, WrongTokenizerOrTensors) {
  std::string p = saved();
  try {
    loadResumeFile(p, specs, config, "none");
    ADD_FAILURE();
  } catch (const CheckpointError &e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer sha256"),
              std::string::npos);
  }
  auto more = specs;
  more.push_back({"model.layers.1.input_layernorm.weight", {3}});
  try {
    loadResumeFile(p, more, config, ck.state.tokenizerSha256);
    ADD_FAILURE();
  } catch (const CheckpointError &e) {
    EXPECT_NE(std::string(e.what()).find(
                  "no tensor named 'param.model.layers.1.input_layernorm"),
              std::string::npos)
        << e.what();
  }
  auto shaped = specs;
  shaped[2].shape = {4};
  try {
    loadResumeFile(p, shaped, config, ck.state.tokenizerSha256);
    ADD_FAILURE();
  } catch (const CheckpointError &e) {
    EXPECT_NE(std::string(e.what()).find("has shape [3], the model needs [4]"),
              std::string::npos)
        << e.what();
  }
  auto fewer = specs;
  fewer.pop_back();
  try {
    loadResumeFile(p, fewer, config, ck.state.tokenizerSha256);
    ADD_FAILURE();
  } catch (const CheckpointError &e) {
    EXPECT_NE(std::string(e.what()).find("unexpected tensor"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(CheckpointTest, TruncatedFiles) {
  std::string p = saved();
  std::string bytes = readAll(p);
  uint64_t hl = headerLen(bytes);
  for (size_t len : {size_t(0), size_t(5), size_t(8), size_t(8 + hl / 2),
                     size_t(8 + hl), size_t(8 + hl + 5), bytes.size() - 1}) {
    writeAll(p, bytes.substr(0, len));
    std::string msg = load(p);
    EXPECT_FALSE(msg.empty()) << "truncated to " << len << " bytes loaded";
    EXPECT_NE(msg.find(p), std::string::npos) << msg;
  }
  fs::remove(p);
  EXPECT_LOAD_ERROR(p, "no such file");
}

TEST_F(CheckpointTest, TrailingBytesAndOversizedHeader) {
  std::string p = saved();
  std::string bytes = readAll(p);
  writeAll(p, bytes + std::string(4, '\0'));
  EXPECT_LOAD_ERROR(p, "4 trailing bytes");
  std::string big = bytes;
  uint64_t huge = 200'000'000;
  std::memcpy(&big[0], &huge, 8);
  writeAll(p, big);
  EXPECT_LOAD_ERROR(p, "exceeds the limit");
}

TEST_F(CheckpointTest, NamedBitFlipsAreDiagnosed) {
  std::string p = saved();
  std::string bytes = readAll(p);
  // Inside the stored config hash (part of the state JSON).
  size_t at = bytes.find("config_sha256");
  ASSERT_NE(at, std::string::npos);
  std::string flipped = bytes;
  flipped[bytes.find(':', at) + 5] ^= 0x01;
  writeAll(p, flipped);
  EXPECT_LOAD_ERROR(p, "resume metadata is corrupted");
  // Inside the tensor data.
  flipped = bytes;
  flipped[bytes.size() - 7] ^= 0x10;
  writeAll(p, flipped);
  EXPECT_LOAD_ERROR(p, "tensor data is corrupted");
}

// Every single-bit flip of the whole file must be rejected: a corrupted
// checkpoint may fail to load but must never load as a different model.
TEST_F(CheckpointTest, EverySingleBitFlipIsRejected) {
  std::string bytes = readAll(saved());
  // ~16k rewrites: on tmpfs when there is one, so a busy disk cannot slow
  // the test down.
  std::string p = dir + "/flip.safetensors";
  char shm[] = "/dev/shm/mind-ckflip-XXXXXX";
  int fd = fs::is_directory("/dev/shm") ? mkstemp(shm) : -1;
  if (fd >= 0) {
    close(fd);
    p = shm;
  }
  size_t accepted = 0, flips = 0;
  for (size_t i = 0; i < bytes.size(); ++i)
    for (int bit = 0; bit < 8; ++bit) {
      std::string b = bytes;
      b[i] ^= static_cast<char>(1 << bit);
      writeAll(p, b);
      ++flips;
      if (load(p).empty()) {
        ++accepted;
        ADD_FAILURE() << "flip of bit " << bit << " at byte " << i
                      << " was accepted";
      }
    }
  EXPECT_EQ(accepted, 0u) << "of " << flips << " flips";
  if (fd >= 0)
    fs::remove(p);
}

TEST_F(CheckpointTest, UnsupportedFormatVersion) {
  json state =
      json::parse(SafetensorsFile::load(saved()).metadata().at("mind.state"));
  state["format_version"] = kResumeFormatVersion + 1;
  SafetensorsWriter w;
  w.addF32("x", {1}, {1.0f});
  std::string text = canonicalJson(state);
  w.setMetadata("mind.kind", "resume");
  w.setMetadata("mind.state", text);
  w.setMetadata("mind.state_sha256", sha256Hex(text));
  std::string p = dir + "/v.safetensors";
  w.write(p);
  EXPECT_LOAD_ERROR(p, "resume format version 2 is not supported");
}

// JSON nested 100,000 deep inside the metadata (the state's digest made to
// match) parsed, then overflowed the stack when the config was copied or
// printed (found by LoaderFuzzTest). Nesting is limited to 128 levels.
TEST_F(CheckpointTest, DeeplyNestedMetadataIsRejected) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  std::string state =
      SafetensorsFile::load(saved()).metadata().at("mind.state");
  size_t at = state.find("\"config\":{");
  ASSERT_NE(at, std::string::npos);
  state.insert(at + 10, "\"deep\":" + deep + ","); // inside the config
  SafetensorsWriter w;
  w.addF32("x", {1}, {1.0f});
  w.setMetadata("mind.kind", "resume");
  w.setMetadata("mind.state", state);
  w.setMetadata("mind.state_sha256", sha256Hex(state));
  std::string p = dir + "/deep.safetensors";
  w.write(p);
  EXPECT_LOAD_ERROR(p, "resume state is JSON nested deeper than 128 levels");
  try {
    loadWeightsFile(p, specs, config);
    ADD_FAILURE() << "a deeply nested state loaded";
  } catch (const CheckpointError &e) {
    EXPECT_NE(std::string(e.what()).find(p + ": resume state is JSON nested"),
              std::string::npos)
        << e.what();
  }

  SafetensorsWriter weights;
  weights.addF32("x", {1}, {1.0f});
  weights.setMetadata("mind.config", deep);
  weights.write(p);
  try {
    loadWeightsFile(p, specs, config);
    ADD_FAILURE() << "a deeply nested config loaded";
  } catch (const CheckpointError &e) {
    EXPECT_NE(std::string(e.what()).find(
                  p + ": metadata 'mind.config' is JSON nested deeper than "
                      "128 levels"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(CheckpointTest, KeepLastKeepsNewestStepFiles) {
  std::string stem = dir + "/pretrain_3";
  // A later step file of another run must survive the pruning.
  ck.state.step = 90;
  writeResumeFile(resumeStepPath(stem, 90), specs, ck);
  for (int64_t step = 1; step <= 5; ++step) {
    ck.state.step = step;
    saveResume(stem, specs, ck, 3);
  }
  std::vector<int64_t> steps;
  for (auto &f : listResumeStepFiles(stem))
    steps.push_back(f.first);
  EXPECT_EQ(steps, (std::vector<int64_t>{3, 4, 5, 90}));
  auto latest =
      loadResumeFile(resumePath(stem), specs, config, ck.state.tokenizerSha256);
  EXPECT_EQ(latest.state.step, 5);
  // The main name is a hard link to the newest step file (no second copy).
  struct stat a, b;
  ASSERT_EQ(stat(resumePath(stem).c_str(), &a), 0);
  ASSERT_EQ(stat(resumeStepPath(stem, 5).c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  // keep_last 1 writes only the main file.
  ck.state.step = 6;
  saveResume(stem, specs, ck, 1);
  EXPECT_FALSE(fs::exists(resumeStepPath(stem, 6)));
  EXPECT_EQ(loadResumeFile(resumeStepPath(stem, 5), specs, config,
                           ck.state.tokenizerSha256)
                .state.step,
            5); // untouched by the new write (the link was replaced)
  EXPECT_THROW(saveResume(stem, specs, ck, 0), CheckpointError);
}

TEST_F(CheckpointTest, FailedWriteKeepsThePreviousFile) {
  std::string p = saved();
  // Make the temporary file impossible to create.
  fs::create_directory(p + ".tmp");
  ck.state.step = 13;
  try {
    writeResumeFile(p, specs, ck);
    ADD_FAILURE() << "write succeeded";
  } catch (const CheckpointError &e) {
    EXPECT_NE(std::string(e.what()).find("cannot create"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(load(p), "");
  EXPECT_EQ(
      loadResumeFile(p, specs, config, ck.state.tokenizerSha256).state.step,
      12);
}

} // namespace
