//===- ResumeState.cpp - the resume file's state JSON and helpers ---------===//

#include "mind/io/Checkpoint.h"

#include "mind/io/Sha256.h"

#include <cstdio>
#include <random>
#include <set>

using namespace mind::runtime;
using nlohmann::json;

namespace {
[[noreturn]] void fail(const std::string &path, const std::string &msg) {
  throw CheckpointError(path + ": " + msg);
}

// Typed access to state fields with errors naming the dotted field.
struct StateReader {
  const std::string &path;
  const json &root;
  const json &at(const std::string &dotted) const {
    const json *cur = &root;
    size_t pos = 0;
    while (true) {
      size_t dot = dotted.find('.', pos);
      std::string key = dotted.substr(pos, dot - pos);
      if (!cur->is_object() || !cur->contains(key))
        fail(path, "resume state lacks field '" + dotted + "'");
      cur = &(*cur)[key];
      if (dot == std::string::npos)
        return *cur;
      pos = dot + 1;
    }
  }
  int64_t i64(const std::string &f, int64_t min = 0) const {
    const json &v = at(f);
    if (!v.is_number_integer() || v.get<int64_t>() < min)
      fail(path, "resume state field '" + f + "' must be an integer >= " +
                     std::to_string(min) + ", got " + v.dump());
    return v.get<int64_t>();
  }
  std::string str(const std::string &f) const {
    const json &v = at(f);
    if (!v.is_string())
      fail(path, "resume state field '" + f + "' must be a string");
    return v.get<std::string>();
  }
};

} // namespace

ResumeState mind::runtime::resumeStateFromJson(const json &s,
                                               const std::string &path) {
  StateReader r{path, s};
  int64_t version = r.i64("format_version");
  if (version != kResumeFormatVersion)
    fail(path, "resume format version " + std::to_string(version) +
                   " is not supported (this build reads version " +
                   std::to_string(kResumeFormatVersion) + ")");
  ResumeState st;
  st.step = r.i64("step");
  st.microStep = r.i64("micro_step");
  st.epoch = r.i64("epoch");
  st.worldSize = r.i64("world_size", 1);
  st.cursor.epoch = r.i64("data_cursor.epoch");
  st.cursor.batchIndex = r.i64("data_cursor.batch_index");
  st.cursor.batchSize = r.i64("data_cursor.batch_size", 1);
  st.cursor.itersPerEpoch = r.i64("data_cursor.iters_per_epoch", 1);
  const json &seed = r.at("rng.seed");
  if (!seed.is_number_unsigned() && !seed.is_number_integer())
    fail(path, "resume state field 'rng.seed' must be an integer");
  st.rng.seed = seed.get<uint64_t>();
  const json &counters = r.at("rng.counters");
  if (!counters.is_object())
    fail(path, "resume state field 'rng.counters' must be an object");
  for (const auto &[k, v] : counters.items()) {
    if (!v.is_number_unsigned() && !(v.is_number_integer() && v >= 0))
      fail(path, "resume state field 'rng.counters." + k +
                     "' must be a non-negative integer");
    st.rng.counters[k] = v.get<uint64_t>();
  }
  const json &enabled = r.at("loss_scaler.enabled");
  const json &scale = r.at("loss_scaler.scale");
  if (!enabled.is_boolean() || !scale.is_number())
    fail(path, "resume state field 'loss_scaler' is malformed");
  st.lossScaler.enabled = enabled.get<bool>();
  st.lossScaler.scale = scale.get<double>();
  st.lossScaler.growthTracker = r.i64("loss_scaler.growth_tracker");
  st.runId = r.str("run_id");
  st.config = r.at("config");
  st.tokenizerSha256 = r.str("tokenizer_sha256");
  st.training = r.at("training");
  if (r.str("config_sha256") != sha256Hex(canonicalJson(st.config)))
    fail(path, "resume state is inconsistent: config_sha256 does not match "
               "the stored config");
  return st;
}

json mind::runtime::resumeStateToJson(const ResumeState &st) {
  return json{{"format_version", kResumeFormatVersion},
              {"step", st.step},
              {"micro_step", st.microStep},
              {"epoch", st.epoch},
              {"world_size", st.worldSize},
              {"data_cursor",
               {{"epoch", st.cursor.epoch},
                {"batch_index", st.cursor.batchIndex},
                {"batch_size", st.cursor.batchSize},
                {"iters_per_epoch", st.cursor.itersPerEpoch}}},
              {"rng", {{"seed", st.rng.seed}, {"counters", st.rng.counters}}},
              {"loss_scaler",
               {{"enabled", st.lossScaler.enabled},
                {"scale", st.lossScaler.scale},
                {"growth_tracker", st.lossScaler.growthTracker}}},
              {"run_id", st.runId},
              {"config", st.config},
              {"config_sha256", sha256Hex(canonicalJson(st.config))},
              {"tokenizer_sha256", st.tokenizerSha256},
              {"training", st.training}};
}

std::string mind::runtime::canonicalJson(const json &value) {
  return value.dump(); // nlohmann::json objects are std::maps: keys sorted
}

std::vector<FieldDiff> mind::runtime::diffJson(const json &saved,
                                               const json &current) {
  std::vector<FieldDiff> out;
  auto walk = [&](auto &self, const json &a, const json &b,
                  const std::string &prefix) -> void {
    std::set<std::string> keys;
    for (const auto &[k, v] : a.items())
      keys.insert(k);
    for (const auto &[k, v] : b.items())
      keys.insert(k);
    for (const std::string &k : keys) {
      std::string field = prefix.empty() ? k : prefix + "." + k;
      bool inA = a.contains(k), inB = b.contains(k);
      if (inA && inB && a[k].is_object() && b[k].is_object())
        self(self, a[k], b[k], field);
      else if (!inA || !inB || a[k] != b[k])
        out.push_back({field, inA ? a[k].dump() : "(absent)",
                       inB ? b[k].dump() : "(absent)"});
    }
  };
  if (saved.is_object() && current.is_object())
    walk(walk, saved, current, "");
  else if (saved != current)
    out.push_back({"(config)", saved.dump(), current.dump()});
  return out;
}

int64_t mind::runtime::rescaleStepForWorldSize(int64_t step,
                                               int64_t savedWorldSize,
                                               int64_t currentWorldSize) {
  if (savedWorldSize < 1 || currentWorldSize < 1)
    throw CheckpointError("world sizes must be positive (saved " +
                          std::to_string(savedWorldSize) + ", current " +
                          std::to_string(currentWorldSize) + ")");
  if (step < 0)
    throw CheckpointError("negative step " + std::to_string(step));
  int64_t product;
  if (__builtin_mul_overflow(step, savedWorldSize, &product))
    throw CheckpointError("step " + std::to_string(step) + " * world size " +
                          std::to_string(savedWorldSize) + " overflows");
  return product / currentWorldSize; // Python's // for non-negative values
}

std::string mind::runtime::newRunId() {
  std::random_device rd;
  uint64_t v = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}
