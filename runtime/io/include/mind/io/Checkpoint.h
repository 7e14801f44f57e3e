//===- Checkpoint.h - weights-only and resume checkpoints -------*- C++ -*-===//
//
// MiniMind's two checkpoint files (MINIMIND-SPEC §6), as safetensors:
//   {save_dir}/{save_weight}_{hidden}{_moe}.safetensors         weights, fp16
//   {save_dir}/{save_weight}_{hidden}{_moe}_resume.safetensors  resume state
// The resume file holds fp32 master weights (`param.<name>`), the AdamW
// moments (`adam.m.<name>`, `adam.v.<name>`) and, in __metadata__, a JSON
// state (steps, data cursor, RNG, loss scaler, run id, the model config and
// its SHA-256, the tokenizer's SHA-256) plus SHA-256 digests of that state
// and of every tensor, so corruption anywhere is detected: safetensors itself
// has no data checksum. Every write is atomic (see SafetensorsWriter::write).
// Format and semantics: docs/Checkpoints.md. Pure C++17, no MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_IO_CHECKPOINT_H
#define MIND_IO_CHECKPOINT_H

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace mind::runtime {

/// Every checkpoint failure (including the safetensors layer's, rethrown).
/// The message starts with the file name and says what is wrong.
class CheckpointError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// Version of the resume file's state JSON; bumped on incompatible changes.
constexpr int kResumeFormatVersion = 1;

/// One model parameter: PyTorch state_dict name and shape.
struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;
};
/// fp32 values, one vector per TensorSpec, in the same order.
using TensorList = std::vector<std::vector<float>>;

/// `{saveDir}/{saveWeight}_{hiddenSize}{_moe}`: the stem of both files.
std::string checkpointStem(const std::string &saveDir,
                           const std::string &saveWeight, int64_t hiddenSize,
                           bool useMoe);
/// stem + ".safetensors"
std::string weightsPath(const std::string &stem);
/// stem + "_resume.safetensors"
std::string resumePath(const std::string &stem);
/// stem + "_resume_step{step}.safetensors" (the --keep_last copies)
std::string resumeStepPath(const std::string &stem, int64_t step);

/// Position in the data: the next batch to train is batch `batchIndex` of
/// epoch `epoch` in the DataLoader's order (Dataset.h; the loader's own
/// cursor is sample batchIndex * batchSize). `batchSize` is per rank;
/// `itersPerEpoch` the batches per epoch per rank.
struct ResumeCursor {
  int64_t epoch = 0;
  int64_t batchIndex = 0;
  int64_t batchSize = 0;
  int64_t itersPerEpoch = 0;
};

/// The trainer's randomness: the base seed and the position of every
/// stateful generator (name -> draws or offset).
struct RngState {
  uint64_t seed = 0;
  std::map<std::string, uint64_t> counters;
};

/// torch.amp.GradScaler's state (float16 training); the CPU trainer computes
/// in fp32 and stores the disabled placeholder.
struct LossScalerState {
  bool enabled = false;
  double scale = 1.0;
  int64_t growthTracker = 0;
};

/// Everything in a resume file except the tensors.
struct ResumeState {
  int64_t step = 0;      ///< optimizer steps taken (AdamW's t)
  int64_t microStep = 0; ///< micro-steps trained since the start of the run
  int64_t epoch = 0;     ///< 0-based epoch of the cursor
  int64_t worldSize = 1;
  ResumeCursor cursor;
  RngState rng;
  LossScalerState lossScaler;
  std::string runId;
  nlohmann::json config;                ///< model config (mind::toJson)
  std::string tokenizerSha256 = "none"; ///< hex SHA-256, or "none"
  nlohmann::json training = nlohmann::json::object(); ///< trainer settings
};

/// The state as stored in a resume file's "mind.state" metadata (also holds
/// format_version and config_sha256).
nlohmann::json resumeStateToJson(const ResumeState &state);
/// Parses and checks a stored state (every field present and typed, format
/// version supported, config_sha256 consistent); errors start with `where`.
ResumeState resumeStateFromJson(const nlohmann::json &state,
                                const std::string &where);

/// A resume checkpoint: state plus fp32 master weights and AdamW moments
/// (zeros when step == 0), each in TensorSpec order.
struct ResumeCheckpoint {
  ResumeState state;
  TensorList weights, expAvg, expAvgSq;
};

/// The canonical text of a JSON value (sorted keys, no whitespace): what the
/// config SHA-256 is computed over.
std::string canonicalJson(const nlohmann::json &value);

/// One differing field of two JSON objects (nested keys dotted).
struct FieldDiff {
  std::string field;
  std::string saved;   ///< JSON text, "(absent)" if missing
  std::string current; ///< JSON text, "(absent)" if missing
};
std::vector<FieldDiff> diffJson(const nlohmann::json &saved,
                                const nlohmann::json &current);

/// MiniMind's world-size rule for the data cursor when resuming on another
/// number of ranks: step * savedWorldSize / currentWorldSize, rounded down
/// (the global batch changed; no sample is skipped, at most one global batch
/// is seen twice). Throws CheckpointError on non-positive sizes, a negative
/// step or overflow.
int64_t rescaleStepForWorldSize(int64_t step, int64_t savedWorldSize,
                                int64_t currentWorldSize);

/// A fresh random run id (16 hex digits).
std::string newRunId();

/// Writes the weights-only file atomically: fp16, PyTorch names, metadata
/// {"format": "pt", "mind.kind": "weights", "mind.config": canonical config,
/// "mind.tensors_sha256": digest}. `config` may be null (omitted then).
void saveWeightsFile(const std::string &path,
                     const std::vector<TensorSpec> &specs,
                     const TensorList &weights, const nlohmann::json &config);

/// Reads model weights as fp32 from a weights-only file (F16/BF16/F32/F64,
/// with or without mind metadata, so files written by Python load too) or
/// from a resume file (its `param.*` tensors). Verifies the checksums that
/// are present, diffs the stored config against `config` (when both exist),
/// and requires every spec with its shape; the only extra tensor allowed is
/// lm_head.weight (tied to the embedding, ignored).
TensorList loadWeightsFile(const std::string &path,
                           const std::vector<TensorSpec> &specs,
                           const nlohmann::json &config);

/// Writes one resume file atomically.
void writeResumeFile(const std::string &path,
                     const std::vector<TensorSpec> &specs,
                     const ResumeCheckpoint &checkpoint);

/// The --keep_last policy: always (re)writes resumePath(stem); with
/// keepLast > 1 the state is first written to resumeStepPath(stem, step),
/// resumePath(stem) becomes a hard link to it (a copy where links fail), and
/// step files beyond the newest keepLast with step <= this one are deleted.
/// Step files of later steps (another run's) are never touched.
void saveResume(const std::string &stem, const std::vector<TensorSpec> &specs,
                const ResumeCheckpoint &checkpoint, int64_t keepLast);

/// The step-numbered resume files of `stem`, sorted by step.
std::vector<std::pair<int64_t, std::string>>
listResumeStepFiles(const std::string &stem);

/// Loads and validates a resume file against the current model: format
/// version, state and tensor checksums, config (error names every differing
/// field: "checkpoint was written for hidden_size 512, this model has 768"),
/// tokenizer hash, and every tensor's presence, dtype (F32) and shape.
ResumeCheckpoint loadResumeFile(const std::string &path,
                                const std::vector<TensorSpec> &specs,
                                const nlohmann::json &config,
                                const std::string &tokenizerSha256);

} // namespace mind::runtime

#endif // MIND_IO_CHECKPOINT_H
