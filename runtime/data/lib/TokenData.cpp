//===- TokenData.cpp - token samples for the trainers ---------------------===//

#include "mind/data/TokenData.h"

#include "mind/abi/Files.h"
#include "mind/data/Dataset.h"
#include "mind/io/Safetensors.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <sstream>
#include <stdexcept>

using namespace mind::runtime;

TokenSamples::TokenSamples(std::vector<std::vector<int64_t>> samples,
                           int64_t length)
    : samples(std::move(samples)), length(length) {
  for (const auto &smp : this->samples)
    if (static_cast<int64_t>(smp.size()) != length)
      throw std::invalid_argument("TokenSamples: a sample of " +
                                  std::to_string(smp.size()) +
                                  " tokens, expected " +
                                  std::to_string(length));
}

void TokenSamples::sample(int64_t i, int64_t *out) const {
  if (i < 0 || i >= numSamples())
    throw std::out_of_range("sample " + std::to_string(i) +
                            " is outside [0, " + std::to_string(numSamples()) +
                            ")");
  std::copy(samples[i].begin(), samples[i].end(), out);
}

std::shared_ptr<const TokenSamples>
mind::runtime::syntheticSamples(int64_t count, int64_t length, int64_t vocab,
                                uint64_t seed) {
  if (vocab < 8)
    throw std::runtime_error("synthetic data needs a vocabulary of >= 8");
  std::mt19937_64 rng(seed);
  int64_t span = std::min<int64_t>(vocab - 3, 512);
  std::uniform_int_distribution<int64_t> start(0, span - 1), stride(1, 7);
  std::vector<std::vector<int64_t>> samples;
  for (int64_t i = 0; i < count; ++i) {
    int64_t a = start(rng), d = stride(rng);
    std::vector<int64_t> s(length);
    for (int64_t t = 0; t < length; ++t)
      s[t] = 3 + (a + t * d) % span;
    samples.push_back(std::move(s));
  }
  return std::make_shared<TokenSamples>(std::move(samples), length);
}

namespace {
std::vector<int64_t> readTextIds(const std::string &path) {
  std::ifstream in(path);
  if (!in)
    throw std::runtime_error(path + ": cannot open");
  std::vector<int64_t> ids;
  std::string line;
  for (int64_t lineNo = 1; std::getline(in, line); ++lineNo) {
    std::istringstream words(line);
    std::string w;
    while (words >> w) {
      size_t used = 0;
      int64_t v = -1;
      try {
        v = std::stoll(w, &used);
      } catch (const std::exception &) {
      }
      if (used != w.size() || v < 0)
        throw std::runtime_error(path + ":" + std::to_string(lineNo) +
                                 ": '" + w + "' is not a token id");
      ids.push_back(v);
    }
  }
  return ids;
}
// A token shard (or a directory of them): by extension or magic.
bool isShardPath(const std::string &path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return true;
  if (path.size() >= 5 && path.compare(path.size() - 5, 5, ".mtok") == 0)
    return true;
  char magic[8] = {};
  std::ifstream in(path, std::ios::binary);
  return in.read(magic, 8) && std::memcmp(magic, ShardHeader::kMagic, 8) == 0;
}
} // namespace

std::shared_ptr<const SampleSource>
mind::runtime::openTokenSamples(const std::string &path, int64_t length,
                                int64_t vocab) {
  // A directory is one of shards; anything else must exist (else it read
  // as a text file of no ids, or failed in whichever reader it reached).
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) {
    std::string problem = inputFileProblem(path, "token");
    if (!problem.empty())
      throw std::runtime_error(problem);
  }
  if (isShardPath(path)) {
    // MiniMind's PretrainDataset: one document per sample.
    DatasetOptions opts;
    opts.maxLength = length;
    opts.expectVocab = vocab;
    try {
      return Dataset::open({path}, opts);
    } catch (const DataError &e) {
      throw std::runtime_error(e.what());
    }
  }
  std::vector<int64_t> ids;
  bool isSafetensors = path.size() >= 12 &&
                       path.compare(path.size() - 12, 12, ".safetensors") == 0;
  if (isSafetensors) {
    SafetensorsFile f = SafetensorsFile::load(path);
    const TensorView *t = f.find("tokens");
    if (!t || t->shape.size() != 1 || isFloatingPoint(t->dtype))
      throw std::runtime_error(path +
                               ": needs a 1-D integer tensor named 'tokens'");
    ids = f.toInt64("tokens");
  } else {
    ids = readTextIds(path);
  }
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] < 0 || ids[i] >= vocab)
      throw std::runtime_error(path + ": token #" + std::to_string(i) +
                               " = " + std::to_string(ids[i]) +
                               " is outside the vocabulary [0, " +
                               std::to_string(vocab) + ")");
  std::vector<std::vector<int64_t>> samples;
  for (size_t i = 0; i < ids.size(); i += length) {
    std::vector<int64_t> s(ids.begin() + i,
                           ids.begin() + std::min(ids.size(), i + length));
    s.resize(length, 0);
    samples.push_back(std::move(s));
  }
  return std::make_shared<TokenSamples>(std::move(samples), length);
}
