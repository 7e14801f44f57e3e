//===- TrainingLoop.cpp - MiniMind's training loop, once ------------------===//

#include "mind/exec/TrainingLoop.h"

#include "mind/abi/Files.h"
#include "mind/data/Dataset.h"
#include "mind/data/Shard.h"
#include "mind/exec/Optimizer.h"
#include "mind/io/Sha256.h"

#include <chrono>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <stdexcept>

namespace mind::runtime {

namespace {

[[noreturn]] void fail(const std::string &msg) { throw std::runtime_error(msg); }

int64_t configInt(const nlohmann::json &config, const char *key) {
  auto it = config.find(key);
  if (it == config.end() || !it->is_number_integer())
    fail(std::string("the model's config lacks an integer '") + key + "'");
  return it->get<int64_t>();
}

/// The resume state's rng.counters entry for the loss scaler's skipped-step
/// count (LossScalerState has no field for it; the metrics log it).
constexpr const char *kSkippedStepsCounter = "loss_scaler_skipped_steps";

/// Everything a save needs besides the backend.
struct SaveContext {
  std::string stem;
  std::vector<TensorSpec> specs;
  nlohmann::json config, training;
  std::string runId, tokenizerSha256 = "none";
  uint64_t seed = 0;
  int64_t batchSize = 0, iters = 0, keepLast = 1, worldSize = 1;
};

/// Writes the weights-only file and, at an optimizer-step boundary (the
/// gradient accumulators empty), the resume file whose cursor says the next
/// batch is `nextIt` of `nextEpoch`. Returns whether the resume file was
/// written. Both writes are atomic.
bool saveCheckpoint(const SaveContext &c, TrainingBackend &backend,
                    bool atBoundary, int64_t nextEpoch, int64_t nextIt) {
  TensorList weights = backend.weights();
  saveWeightsFile(weightsPath(c.stem), c.specs, weights, c.config);
  if (!atBoundary)
    return false;
  OptimizerSnapshot os = backend.optimizerState();
  ResumeCheckpoint ck;
  ResumeState &st = ck.state;
  st.step = os.step;
  st.microStep = nextEpoch * c.iters + nextIt;
  st.epoch = nextEpoch;
  st.worldSize = c.worldSize;
  st.cursor = {nextEpoch, nextIt, c.batchSize, c.iters};
  // Initialisation, synthetic data and the data order are pure functions of
  // (seed[, epoch]); the step draws no random numbers (no dropout).
  st.rng.seed = c.seed;
  st.rng.counters["data_order_epoch"] = static_cast<uint64_t>(nextEpoch);
  if (os.lossScaling)
    st.rng.counters[kSkippedStepsCounter] =
        static_cast<uint64_t>(os.skippedSteps);
  st.lossScaler.enabled = os.lossScaling;
  st.lossScaler.scale = os.lossScaling ? os.lossScale : 1.0;
  st.lossScaler.growthTracker = os.lossScaling ? os.growthTracker : 0;
  st.runId = c.runId;
  st.tokenizerSha256 = c.tokenizerSha256;
  st.config = c.config;
  st.training = c.training;
  ck.weights = std::move(weights);
  ck.expAvg = std::move(os.expAvg);
  ck.expAvgSq = std::move(os.expAvgSq);
  saveResume(c.stem, c.specs, ck, c.keepLast);
  return true;
}

/// The --tokenizer file's bytes, read once for both of its hashes (the
/// shards' FNV-1a, the checkpoints' SHA-256).
std::string readTokenizer(const std::string &tokenizer) {
  if (std::string problem = regularFileProblem(tokenizer, "tokenizer.json");
      !problem.empty())
    fail("--tokenizer " + problem);
  std::ifstream in(tokenizer, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  if (!in && !in.eof())
    fail("--tokenizer " + tokenizer + ": read failed");
  return text;
}

/// --tokenizer (its bytes `text`) must be the tokenizer the shards were
/// encoded with (their headers carry its FNV-1a hash).
void checkTokenizer(const std::string &tokenizer, const std::string &text,
                    const SampleSource &data) {
  auto *shards = dynamic_cast<const Dataset *>(&data);
  if (tokenizer == "none" || !shards || shards->tokenizerHash() == 0)
    return;
  uint64_t h = fnv1a64(text.data(), text.size());
  if (h != shards->tokenizerHash()) {
    char buf[96];
    std::snprintf(buf, sizeof(buf), "(hash %016llx; the shards say %016llx)",
                  static_cast<unsigned long long>(h),
                  static_cast<unsigned long long>(shards->tokenizerHash()));
    fail("--tokenizer " + tokenizer +
         " is not the tokenizer the data was encoded with " + buf);
  }
}

/// Fails now, not at the first save after training ran, when checkpoints
/// cannot be written to `dir`.
void checkSaveDir(const std::string &dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    fail("--save_dir " + dir + ": cannot create it: " + ec.message());
  if (!std::filesystem::is_directory(dir, ec))
    fail("--save_dir " + dir + ": not a directory");
  std::string probe = (std::filesystem::path(dir) /
                       (".mind-write-test-" + newRunId()))
                          .string();
  {
    std::ofstream out(probe);
    if (!out)
      fail("--save_dir " + dir + ": cannot write there: " +
           std::strerror(errno));
  }
  std::filesystem::remove(probe, ec);
}

} // namespace

void runTraining(TrainingBackend &backend, const TrainingOptions &o) {
  const TrainerFlags &f = o.flags;
  const DistEnv &dist = o.dist;
  // As in MiniMind, only rank 0 logs and saves.
  const bool lead = dist.rank == 0;
  const char *tool = o.tool.c_str();
  int64_t vocab = configInt(o.config, "vocab_size");
  int64_t hidden = configInt(o.config, "hidden_size");
  bool useMoe = o.config.value("use_moe", false);
  int64_t seq = f.maxSeqLen - 1;

  std::shared_ptr<const SampleSource> data =
      f.dataPath.empty()
          ? syntheticSamples(f.syntheticSamples, f.maxSeqLen, vocab,
                             static_cast<uint64_t>(f.seed))
          : openTokenSamples(f.dataPath, f.maxSeqLen, vocab);
  const std::string tokenizerText =
      f.tokenizer == "none" ? "" : readTokenizer(f.tokenizer);
  checkTokenizer(f.tokenizer, tokenizerText, *data);
  LoaderOptions loaderOptions = trainerLoaderOptions(
      f.batchSize, static_cast<uint64_t>(f.seed), f.shuffle != 0);
  loaderOptions.sampler.rank = dist.rank;
  loaderOptions.sampler.worldSize = dist.worldSize;
  int64_t iters =
      DistributedSampler(data->numSamples(), loaderOptions.sampler)
          .samplesPerRank() /
      f.batchSize;
  if (iters < 1)
    fail("the data holds " + std::to_string(data->numSamples()) +
         " samples of " + std::to_string(f.maxSeqLen) +
         " tokens: fewer than one batch of " + std::to_string(f.batchSize) +
         (dist.distributed()
              ? " for each of " + std::to_string(dist.worldSize) + " ranks"
              : std::string()));

  SaveContext save;
  save.stem = checkpointStem(f.saveDir, f.saveWeight, hidden, useMoe);
  save.specs = backend.parameters();
  save.config = o.config;
  save.training = trainingSettings(f, data->numSamples());
  save.seed = static_cast<uint64_t>(f.seed);
  save.batchSize = f.batchSize;
  save.iters = iters;
  save.worldSize = dist.worldSize;
  save.keepLast = f.keepLast;
  save.runId = newRunId();
  if (f.tokenizer != "none")
    save.tokenizerSha256 = sha256Hex(tokenizerText);

  // A resume file takes precedence over --from_weight (as in MiniMind).
  std::optional<ResumeCheckpoint> resumed;
  std::string resumeFile = resumePath(save.stem);
  if (f.fromResume) {
    if (std::filesystem::exists(resumeFile))
      resumed = loadResumeFile(resumeFile, save.specs, save.config,
                               save.tokenizerSha256);
    else if (lead)
      std::printf("%s: no resume file %s; starting fresh\n", tool,
                  resumeFile.c_str());
  }
  {
    TensorList init;
    if (resumed) {
      init = std::move(resumed->weights);
    } else if (f.fromWeight != "none") {
      init = loadWeightsFile(f.fromWeight, save.specs, save.config);
    } else {
      std::vector<std::vector<int64_t>> shapes;
      for (const TensorSpec &s : save.specs)
        shapes.push_back(s.shape);
      init = pytorchDefaultInit(shapes, static_cast<uint64_t>(f.seed));
    }
    backend.setWeights(init);
  }
  int64_t paramCount = 0;
  for (const TensorSpec &s : save.specs) {
    int64_t n = 1;
    for (int64_t d : s.shape)
      n *= d;
    paramCount += n;
  }
  if (dist.distributed() && lead)
    std::printf("%s: data parallel over %d ranks (NCCL), %lld samples per "
                "rank per epoch\n",
                tool, dist.worldSize,
                static_cast<long long>(iters * f.batchSize));
  if (lead)
    std::printf("%s: %s, %.3fM parameters, %s, %lld samples x %lld tokens, "
                "%lld micro-steps per epoch%s\n",
                tool, o.sourceName.c_str(), paramCount / 1e6,
                backend.deviceDescription().c_str(),
                static_cast<long long>(data->numSamples()),
                static_cast<long long>(seq), static_cast<long long>(iters),
                backend.startSuffix().c_str());

  // Optimizer calls so far (AdamW steps plus steps a loss scaler skipped):
  // what --save_interval counts.
  int64_t optimizerCalls = 0;
  int64_t startEpoch = 0, startIt = 0;
  if (resumed) {
    const ResumeState &st = resumed->state;
    for (const auto &d : diffJson(st.training, save.training))
      std::cerr << tool << ": warning: resuming with " << d.field << " "
                << d.current << " (the checkpoint was written with " << d.saved
                << "): the run will differ from an uninterrupted one\n";
    // MiniMind's rule: the global batch changed with the world size.
    int64_t it = rescaleStepForWorldSize(st.cursor.batchIndex, st.worldSize,
                                         dist.worldSize);
    startEpoch = st.cursor.epoch + it / iters;
    startIt = it % iters;
    OptimizerSnapshot os;
    os.step = st.step;
    auto skipped = st.rng.counters.find(kSkippedStepsCounter);
    os.skippedSteps = skipped != st.rng.counters.end()
                          ? static_cast<int64_t>(skipped->second)
                          : 0;
    os.lossScaling = st.lossScaler.enabled;
    os.lossScale = st.lossScaler.scale;
    os.growthTracker = st.lossScaler.growthTracker;
    os.expAvg = std::move(resumed->expAvg);
    os.expAvgSq = std::move(resumed->expAvgSq);
    backend.restoreOptimizer(os);
    optimizerCalls = os.step + os.skippedSteps;
    save.runId = st.runId;
    if (lead)
      std::printf("%s: resumed from %s (run %s): epoch %lld, micro-step "
                  "%lld/%lld, optimizer step %lld\n",
                  tool, resumeFile.c_str(), st.runId.c_str(),
                  static_cast<long long>(startEpoch + 1),
                  static_cast<long long>(startIt),
                  static_cast<long long>(iters),
                  static_cast<long long>(st.step));
    resumed.reset();
  }

  // After the inputs were read (a bad --from_weight creates nothing), before
  // any training.
  if (lead)
    checkSaveDir(f.saveDir);
  std::ofstream metrics;
  if (!f.metrics.empty() && lead) {
    std::error_code ec;
    if (std::filesystem::is_directory(f.metrics, ec))
      fail("--metrics " + f.metrics + ": is a directory, expected a file");
    std::filesystem::path parent =
        std::filesystem::path(f.metrics).parent_path();
    if (!parent.empty())
      std::filesystem::create_directories(parent, ec);
    metrics.open(f.metrics, std::ios::app);
    if (!metrics)
      fail("--metrics " + f.metrics + ": cannot open for appending: " +
           std::strerror(errno));
  }

  // `done` counts micro-steps since the start of the run (resumes
  // included), so --max_steps and the LR schedule ignore interruptions. A
  // resume starts at an optimizer-step boundary: the window is empty.
  int64_t total = f.epochs * iters, microInWindow = 0;
  int64_t scheduleLength = f.epochs * iters;
  if (f.maxSteps > 0 && f.maxSteps < total)
    total = f.maxSteps;
  int64_t done = startEpoch * iters + startIt, startDone = done;
  auto trySave = [&](int64_t nextEpoch, int64_t nextIt) {
    if (!lead)
      return false;
    try {
      return saveCheckpoint(save, backend, microInWindow == 0, nextEpoch,
                            nextIt);
    } catch (const std::exception &e) {
      fail("cannot save the checkpoint of optimizer step " +
           std::to_string(optimizerCalls) + ": " + e.what() +
           "; the checkpoint files on disk are the last complete ones");
    }
  };
  // Batches are built (and staged, where the backend stages them) on the
  // loader's thread while this one trains.
  loaderOptions.stage = backend.batchStager();
  DataLoader loader(data, loaderOptions, {startEpoch, startIt * f.batchSize});
  auto start = std::chrono::steady_clock::now();
  TokenBatch batch;
  for (int64_t epoch = startEpoch; epoch < f.epochs && done < total;
       ++epoch) {
    int64_t first = epoch == startEpoch ? startIt : 0;
    for (int64_t it = first; it < iters && done < total; ++it, ++done) {
      nextTrainingBatch(loader, batch, epoch, it * f.batchSize);
      double lr =
          minimindLr(epoch * iters + it, scheduleLength, f.learningRate);
      MicroStepLosses l = backend.microStep(batch);
      if (!std::isfinite(l.loss) || !std::isfinite(l.aux))
        fail(std::string(std::isfinite(l.loss) ? "aux loss" : "loss") +
             " is " + std::to_string(std::isfinite(l.loss) ? l.aux : l.loss) +
             " at epoch " + std::to_string(epoch + 1) + " step " +
             std::to_string(it) + " (micro-step " + std::to_string(done) +
             ")");
      bool stepped = false;
      if (++microInWindow == f.accumulationSteps) {
        microInWindow = 0;
        backend.optimizerStep(lr);
        ++optimizerCalls;
        stepped = true;
      }
      backend.afterMicroStep();
      bool last = done + 1 == total;
      if (lead && ((it + 1) % f.logInterval == 0 || it == 0 || last)) {
        double secs = std::chrono::duration<double>(
                          std::chrono::steady_clock::now() - start)
                          .count();
        int64_t ran = done + 1 - startDone;
        double perStep = secs / ran;
        // All ranks together (the loss is rank 0's, as MiniMind logs it).
        double tokS = ran * f.batchSize * seq * dist.worldSize / secs;
        std::printf("Epoch:[%lld/%lld](%lld/%lld) loss:%.6f lr:%.8f "
                    "epoch_Time:%.1fmin tokens/s:%.0f\n",
                    static_cast<long long>(epoch + 1),
                    static_cast<long long>(f.epochs),
                    static_cast<long long>(it + 1),
                    static_cast<long long>(iters), l.loss + l.aux, lr,
                    perStep * (total - done - 1) / 60.0, tokS);
        std::fflush(stdout);
        if (metrics.is_open()) {
          metrics << "{\"epoch\":" << epoch + 1 << ",\"step\":" << it + 1
                  << ",\"loss\":" << l.loss << ",\"aux_loss\":" << l.aux
                  << ",\"lr\":" << lr << ",\"tokens_per_s\":" << tokS;
          backend.writeMetrics(metrics);
          metrics << "}\n";
          metrics.flush();
          if (!metrics)
            fail(f.metrics + ": write failed");
        }
      }
      if (!last && stepped && f.saveInterval > 0 &&
          optimizerCalls % f.saveInterval == 0) {
        bool wrap = it + 1 == iters;
        trySave(wrap ? epoch + 1 : epoch, wrap ? 0 : it + 1);
      }
    }
  }
  backend.finish();
  if (!lead)
    return;
  bool wrote = trySave(done / iters, done % iters);
  std::printf("%s: saved %s\n", tool, weightsPath(save.stem).c_str());
  if (wrote)
    std::printf("%s: saved %s (optimizer step %lld)\n", tool,
                resumeFile.c_str(), static_cast<long long>(optimizerCalls));
  else
    std::printf("%s: resume file not updated: the run stopped %lld "
                "micro-step(s) into an accumulation window (resume files are "
                "written at optimizer-step boundaries)\n",
                tool, static_cast<long long>(microInWindow));
}

} // namespace mind::runtime
