//===- mind-trainer.cpp - train a compiled MiniMind on the GPU ------------===//
//
// Runs the plan of a bundle (appended to this executable by `mindc compile`,
// or given with --bundle) with MiniMind's trainer semantics, exactly as
// `mind-train --device=cpu` does on the interpreter: LR set every
// micro-step by MiniMind's cosine schedule (base at the first micro-step,
// base/10 at the end), gradients of (loss + aux) /
// accumulation_steps accumulated in fp32, then every accumulation_steps
// micro-steps global-norm clipping and AdamW on the fp32 master weights
// (on the device; float16 adds GradScaler-style dynamic loss scaling).
// Same flags, same log line, same checkpoint files (Checkpoint.h): a
// weights-only fp16 file and, at optimizer-step boundaries, a resume file
// from which --from_resume 1 continues exactly (docs/Checkpoints.md).
// Under torchrun each rank trains its DistributedSampler share and the
// gradients are averaged with NCCL before every optimizer step
// (Distributed.h, Nccl.h); rank 0 logs and saves.
//
//===----------------------------------------------------------------------===//

#include "mind/abi/Bundle.h"
#include "mind/io/Checkpoint.h"
#include "mind/exec/Cuda.h"
#include "mind/data/Dataset.h"
#include "mind/exec/Distributed.h"
#include "mind/exec/Executor.h"
#include "mind/exec/Nccl.h"
#include "mind/exec/Optimizer.h"
#include "mind/exec/PinnedBatches.h"
#include "mind/io/Sha256.h"
#include "mind/exec/TrainerFlags.h"
#include "mind/data/TokenData.h"

#include <cxxopts.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <numeric>
#include <optional>

using namespace mind::runtime;

namespace {
struct Flags : TrainerFlags {
  std::string bundle;
  int64_t profile = 0;
  bool noCudaGraph = false, syncEachStep = false;
};

/// This process's rank in a data-parallel run (-1: a single process).
int gRank = -1;

[[noreturn]] void fail(const std::string &msg) {
  std::cerr << "mind-trainer";
  if (gRank >= 0)
    std::cerr << "[rank " << gRank << "]";
  std::cerr << ": error: " << msg << "\n";
  std::exit(1);
}

Flags parseFlags(int argc, char **argv) {
  cxxopts::Options opts(
      "mind-trainer",
      "Train the MiniMind model compiled into a bundle on the GPU (device 0; "
      "under `torchrun --nproc_per_node N --no-python` one process per GPU, "
      "data parallel over NCCL), with MiniMind's flags. The bundle fixes the "
      "model, batch_size, max_seq_len and dtype: those flags default to the "
      "bundle's values and must match them when given. The CPU reference "
      "trainer is `mind-train --device=cpu CONFIG`.");
  TrainerFlagDefaults defaults;
  defaults.device = "cuda";
  defaults.deviceHelp = "cuda (GPU 0; the only device this trainer runs on)";
  defaults.dtypeHelp = "float32, bfloat16 or float16 (default: the bundle's; "
                       "float16 adds dynamic loss scaling)";
  // clang-format off
  opts.add_options()
    ("bundle", "Bundle file to run (default: the bundle appended to this "
     "executable by `mindc compile`)",
     cxxopts::value<std::string>()->default_value(""));
  addTrainerOptions(opts, defaults);
  opts.add_options()
    ("profile", "After training, time N extra micro-steps step by step and "
     "print where the time goes, per kernel (the run's weights are saved "
     "first; the profiled steps change no weights)",
     cxxopts::value<int64_t>()->default_value("0"))
    ("no_cuda_graph", "Launch every step eagerly instead of replaying the "
     "micro-step as a CUDA graph")
    ("sync_each_step", "Debugging: wait after every plan step, so a device "
     "fault names its step (slow; implies --no_cuda_graph)")
    ("config", "", cxxopts::value<std::string>())
    ("h,help", "Show this help");
  // clang-format on
  opts.parse_positional({"config"});
  opts.positional_help("").custom_help("[OPTION...]");
  cxxopts::ParseResult r;
  try {
    r = opts.parse(argc, argv);
  } catch (const std::exception &e) {
    fail(e.what());
  }
  if (r.count("help")) {
    std::cout << opts.help() << "\n";
    std::exit(0);
  }
  if (r.count("config"))
    fail("unexpected argument '" + r["config"].as<std::string>() +
         "': the model comes from the bundle (mindc compile CONFIG.json)");
  Flags f;
  try {
    static_cast<TrainerFlags &>(f) = readTrainerFlags(r, defaults);
  } catch (const std::exception &e) {
    fail(e.what());
  }
  f.bundle = r["bundle"].as<std::string>();
  f.noCudaGraph = r.count("no_cuda_graph") > 0;
  f.profile = r["profile"].as<int64_t>();
  f.syncEachStep = r.count("sync_each_step") > 0;
  if (f.device != "cuda")
    fail("--device=" + f.device +
         ": the compiled trainer runs on the GPU (--device=cuda); the CPU "
         "reference trainer is `mind-train --device=cpu`");
  if (f.profile < 0)
    fail("--profile must not be negative");
  return f;
}

/// The bundle's compile-time shape decides batch_size, max_seq_len, dtype.
void reconcileWithBundle(Flags &f, const TrainingInterface &ti) {
  auto mismatch = [](const std::string &flag, const std::string &given,
                     const std::string &compiled) {
    fail("--" + flag + "=" + given +
         " does not match the bundle, compiled "
         "for " +
         flag + "=" + compiled +
         " (recompile with mindc, or drop "
         "the flag)");
  };
  if (f.batchSize == 0)
    f.batchSize = ti.batch;
  else if (f.batchSize != ti.batch)
    mismatch("batch_size", std::to_string(f.batchSize),
             std::to_string(ti.batch));
  if (f.maxSeqLen == 0)
    f.maxSeqLen = ti.seq + 1;
  else if (f.maxSeqLen != ti.seq + 1)
    mismatch("max_seq_len", std::to_string(f.maxSeqLen),
             std::to_string(ti.seq + 1));
  if (f.dtype.empty())
    f.dtype = ti.dtype;
  else if (f.dtype != ti.dtype)
    mismatch("dtype", f.dtype, ti.dtype);
}

int64_t configInt(const nlohmann::json &config, const char *key) {
  auto it = config.find(key);
  if (it == config.end() || !it->is_number_integer())
    fail(std::string("the bundle's config lacks an integer '") + key + "'");
  return it->get<int64_t>();
}

/// The parameters' shapes, in plan order.
std::vector<std::vector<int64_t>> paramShapes(const Plan &plan,
                                              const ParamLayout &l) {
  std::vector<std::vector<int64_t>> shapes;
  for (int64_t id : l.params)
    shapes.push_back(plan.buffers[static_cast<size_t>(id)].shape);
  return shapes;
}


/// Device memory this process uses beyond what was in use when it was
/// created (cudaMemGetInfo, so it counts every allocation: arena, cuBLASLt
/// workspace, modules, graphs), and the largest value seen by sample().
class PeakMemory {
public:
  PeakMemory() {
    if (!cudaDeviceAvailable())
      return; // the Executor reports the missing device
    enabled = true;
    MIND_CUDA_CHECK(cudaFree(nullptr), "initialise device 0");
    size_t total = 0;
    MIND_CUDA_CHECK(cudaMemGetInfo(&freeAtStart, &total),
                    "query free device memory");
  }
  void sample() {
    if (!enabled)
      return;
    size_t freeNow = 0, total = 0;
    MIND_CUDA_CHECK(cudaMemGetInfo(&freeNow, &total),
                    "query free device memory");
    if (freeNow < freeAtStart)
      peak = std::max(peak, freeAtStart - freeNow);
  }
  double mib() const { return static_cast<double>(peak) / (1024.0 * 1024.0); }

private:
  bool enabled = false;
  size_t freeAtStart = 0, peak = 0;
};

/// Times `steps` micro-steps step by step (eagerly, with events between
/// steps) on the inputs last set and prints the time per kernel, largest
/// first. Gradients accumulate into the (already saved) run's buffers.
void printProfile(Executor &ex, int64_t steps) {
  std::map<std::string, std::pair<double, int64_t>> byKind;
  double total = 0;
  for (int64_t s = 0; s < steps; ++s) {
    std::vector<double> ms = ex.profileMicroStep();
    for (size_t i = 0; i < ms.size(); ++i) {
      auto &e = byKind[ex.stepKind(i)];
      e.first += ms[i];
      e.second += 1;
      total += ms[i];
    }
  }
  std::vector<std::pair<std::string, std::pair<double, int64_t>>> rows(
      byKind.begin(), byKind.end());
  std::sort(rows.begin(), rows.end(), [](const auto &a, const auto &b) {
    return a.second.first > b.second.first;
  });
  std::printf("mind-trainer: profile of %lld micro-steps (eager, step by "
              "step): %.3f ms per micro-step\n",
              static_cast<long long>(steps), total / steps);
  std::printf("%10s %7s %7s  %s\n", "ms/step", "%", "calls", "kernel");
  for (const auto &[kind, v] : rows)
    std::printf("%10.3f %6.1f%% %7lld  %s\n", v.first / steps,
                100.0 * v.first / total,
                static_cast<long long>(v.second / steps), kind.c_str());
}

/// Everything a save needs besides the executor: names, model and run info.
struct SaveContext {
  std::string stem;
  std::vector<TensorSpec> specs;
  nlohmann::json config, training;
  std::string runId, tokenizerSha256 = "none";
  uint64_t seed = 0;
  int64_t batchSize = 0, iters = 0, keepLast = 1, worldSize = 1;
  bool lossScaling = false;
};

/// The resume state's rng.counters entry for the GradScaler's skipped-step
/// count (LossScalerState has no field for it; the metrics log it).
constexpr const char *kSkippedStepsCounter = "loss_scaler_skipped_steps";

/// Writes the weights-only file and, at an optimizer-step boundary (the
/// gradient accumulators empty), the resume file whose cursor says the next
/// batch is `nextIt` of `nextEpoch`, as mind-train does. Returns whether the
/// resume file was written. Both writes are atomic.
bool saveCheckpoint(const SaveContext &c, Executor &ex, bool atBoundary,
                    int64_t nextEpoch, int64_t nextIt) {
  TensorList weights;
  for (const TensorSpec &t : c.specs)
    weights.push_back(ex.downloadParam(t.name));
  saveWeightsFile(weightsPath(c.stem), c.specs, weights, c.config);
  if (!atBoundary)
    return false;
  OptimizerState os = ex.optimizerState();
  ResumeCheckpoint ck;
  ResumeState &st = ck.state;
  st.step = os.step;
  st.microStep = nextEpoch * c.iters + nextIt;
  st.epoch = nextEpoch;
  st.worldSize = c.worldSize;
  st.cursor = {nextEpoch, nextIt, c.batchSize, c.iters};
  // Initialisation, synthetic data and the data order are pure functions of
  // (seed[, epoch]); the plan draws no random numbers (no dropout).
  st.rng.seed = c.seed;
  st.rng.counters["data_order_epoch"] = static_cast<uint64_t>(nextEpoch);
  st.rng.counters[kSkippedStepsCounter] =
      static_cast<uint64_t>(os.skippedSteps);
  st.lossScaler.enabled = c.lossScaling;
  st.lossScaler.scale = c.lossScaling ? static_cast<double>(os.scale) : 1.0;
  st.lossScaler.growthTracker = c.lossScaling ? os.goodSteps : 0;
  st.runId = c.runId;
  st.tokenizerSha256 = c.tokenizerSha256;
  st.config = c.config;
  st.training = c.training;
  ck.weights = std::move(weights);
  for (const TensorSpec &t : c.specs) {
    ck.expAvg.push_back(ex.downloadExpAvg(t.name));
    ck.expAvgSq.push_back(ex.downloadExpAvgSq(t.name));
  }
  saveResume(c.stem, c.specs, ck, c.keepLast);
  return true;
}
} // namespace

int main(int argc, char **argv) {
  // A write past RLIMIT_FSIZE must fail with EFBIG (a clear error, the old
  // checkpoint kept), not kill the process with SIGXFSZ.
  std::signal(SIGXFSZ, SIG_IGN);
  Flags f = parseFlags(argc, argv);
  DistEnv dist;
  try {
    dist = distEnvFromEnvironment();
  } catch (const std::exception &e) {
    fail(e.what());
  }
  if (dist.distributed())
    gRank = dist.rank;
  // As in MiniMind, only rank 0 logs and saves.
  const bool lead = dist.rank == 0;
  try {
    Bundle bundle;
    std::string source = f.bundle;
    if (!f.bundle.empty()) {
      bundle = readBundle(f.bundle);
    } else if (auto embedded = readEmbeddedBundle()) {
      bundle = std::move(*embedded);
      source = "embedded bundle";
    } else {
      fail("no bundle: this executable carries none; pass --bundle FILE "
           "(`mindc compile --emit=bundle`) or run a trainer built by "
           "`mindc compile`");
    }
    TrainingInterface ti = trainingInterface(bundle.plan);
    reconcileWithBundle(f, ti);
    const nlohmann::json &config = bundle.plan.config;
    int64_t vocab = configInt(config, "vocab_size");
    int64_t hidden = configInt(config, "hidden_size");
    bool useMoe = config.value("use_moe", false);
    int64_t seq = ti.seq;

    std::shared_ptr<const SampleSource> data =
        f.dataPath.empty()
            ? syntheticSamples(f.syntheticSamples, f.maxSeqLen, vocab,
                               static_cast<uint64_t>(f.seed))
            : openTokenSamples(f.dataPath, f.maxSeqLen, vocab);
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

    if (dist.distributed())
      MIND_CUDA_CHECK(cudaSetDevice(dist.localRank),
                      "select device " + std::to_string(dist.localRank) +
                          " (LOCAL_RANK)");
    PeakMemory peakMemory; // before anything of ours is on the device
    ExecutorOptions eo;
    eo.device = dist.localRank;
    eo.cudaGraph = !f.noCudaGraph;
    eo.syncEachStep = f.syncEachStep;
    Executor ex(bundle, eo);
    const Plan &plan = ex.plan();
    const ParamLayout &layout = ex.layout();
    // Data parallel: gradients are averaged before every optimizer step, so
    // all ranks apply the same update to the same weights.
    std::unique_ptr<NcclComm> comm;
    if (dist.distributed())
      comm = NcclComm::create(dist);

    SaveContext save;
    save.stem = checkpointStem(f.saveDir, f.saveWeight, hidden, useMoe);
    for (int64_t id : layout.params) {
      const BufferDesc &b = plan.buffers[static_cast<size_t>(id)];
      save.specs.push_back({b.name, b.shape});
    }
    save.config = config;
    save.training = trainingSettings(f, data->numSamples());
    save.seed = static_cast<uint64_t>(f.seed);
    save.batchSize = f.batchSize;
    save.iters = iters;
    save.worldSize = dist.worldSize;
    save.keepLast = f.keepLast;
    save.lossScaling = f.dtype == "float16";
    save.runId = newRunId();
    if (f.tokenizer != "none")
      save.tokenizerSha256 = sha256FileHex(f.tokenizer);

    // A resume file takes precedence over --from_weight (as in MiniMind).
    std::optional<ResumeCheckpoint> resumed;
    std::string resumeFile = resumePath(save.stem);
    if (f.fromResume) {
      if (std::filesystem::exists(resumeFile))
        resumed = loadResumeFile(resumeFile, save.specs, save.config,
                                 save.tokenizerSha256);
      else if (lead)
        std::printf("mind-trainer: no resume file %s; starting fresh\n",
                    resumeFile.c_str());
    }
    TensorList init;
    if (resumed)
      init = std::move(resumed->weights);
    else if (f.fromWeight != "none")
      init = loadWeightsFile(f.fromWeight, save.specs, save.config);
    else
      init = pytorchDefaultInit(paramShapes(plan, layout),
                                static_cast<uint64_t>(f.seed));
    int64_t paramCount = 0;
    for (size_t i = 0; i < save.specs.size(); ++i) {
      ex.uploadParam(save.specs[i].name, init[i]);
      paramCount += static_cast<int64_t>(init[i].size());
    }
    init.clear();

    DeviceOptimizerConfig oc;
    oc.maxGradNorm = f.gradClip;
    oc.accumulationSteps = f.accumulationSteps;
    oc.dynamicLossScale = f.dtype == "float16";
    ex.initOptimizer(oc); // also sets grad_scale = scale / accumulation
    cudaDeviceProp prop{};
    MIND_CUDA_CHECK(cudaGetDeviceProperties(&prop, eo.device),
                    "query device " + std::to_string(eo.device));
    if (dist.distributed() && lead)
      std::printf("mind-trainer: data parallel over %d ranks (NCCL), %lld "
                  "samples per rank per epoch\n",
                  dist.worldSize,
                  static_cast<long long>(iters * f.batchSize));
    if (lead)
      std::printf(
        "mind-trainer: %s, %.3fM parameters, device %s (%s), dtype "
        "%s, %lld samples x %lld tokens, %lld micro-steps per epoch%s\n",
        source.c_str(), paramCount / 1e6, prop.name, deviceArch().c_str(),
        f.dtype.c_str(), static_cast<long long>(data->numSamples()),
        static_cast<long long>(seq), static_cast<long long>(iters),
        eo.cudaGraph && !eo.syncEachStep ? ", CUDA graph" : "");

    // Optimizer calls so far (AdamW steps plus steps the loss scaler skipped):
    // what --save_interval counts.
    int64_t optimizerCalls = 0;
    int64_t startEpoch = 0, startIt = 0;
    if (resumed) {
      const ResumeState &st = resumed->state;
      for (const auto &d : diffJson(st.training, save.training))
        std::cerr << "mind-trainer: warning: resuming with " << d.field << " "
                  << d.current << " (the checkpoint was written with "
                  << d.saved << "): the run will differ from an "
                  << "uninterrupted one\n";
      // MiniMind's rule: the global batch changed with the world size.
      int64_t it =
          rescaleStepForWorldSize(st.cursor.batchIndex, st.worldSize,
                                  dist.worldSize);
      startEpoch = st.cursor.epoch + it / iters;
      startIt = it % iters;
      for (size_t i = 0; i < save.specs.size(); ++i) {
        ex.uploadExpAvg(save.specs[i].name, resumed->expAvg[i]);
        ex.uploadExpAvgSq(save.specs[i].name, resumed->expAvgSq[i]);
      }
      OptimizerState os = ex.optimizerState(); // initOptimizer's
      os.step = st.step;
      auto skipped = st.rng.counters.find(kSkippedStepsCounter);
      os.skippedSteps =
          skipped != st.rng.counters.end()
              ? static_cast<int64_t>(skipped->second)
              : 0;
      if (oc.dynamicLossScale && st.lossScaler.enabled) {
        os.scale = static_cast<float>(st.lossScaler.scale);
        os.goodSteps = st.lossScaler.growthTracker;
      }
      ex.setOptimizerState(os); // grad_scale follows the restored scale
      optimizerCalls = os.step + os.skippedSteps;
      save.runId = st.runId;
      if (lead)
        std::printf("mind-trainer: resumed from %s (run %s): epoch %lld, "
                  "micro-step %lld/%lld, optimizer step %lld\n",
                  resumeFile.c_str(), st.runId.c_str(),
                  static_cast<long long>(startEpoch + 1),
                  static_cast<long long>(startIt),
                  static_cast<long long>(iters),
                  static_cast<long long>(st.step));
      resumed.reset();
    }

    std::ofstream metrics;
    if (!f.metrics.empty() && lead) {
      std::filesystem::path parent =
          std::filesystem::path(f.metrics).parent_path();
      std::error_code ec;
      if (!parent.empty())
        std::filesystem::create_directories(parent, ec);
      metrics.open(f.metrics, std::ios::app);
      if (!metrics)
        fail(f.metrics + ": cannot open for appending");
    }

    // `done` counts micro-steps since the start of the run (resumes
    // included), so --max_steps and the LR schedule ignore interruptions.
    // A resume starts at an optimizer-step boundary: the window is empty.
    int64_t total = f.epochs * iters, microInWindow = 0;
    int64_t scheduleLength = f.epochs * iters;
    if (f.maxSteps > 0 && f.maxSteps < total)
      total = f.maxSteps;
    int64_t done = startEpoch * iters + startIt, startDone = done;
    auto trySave = [&](int64_t nextEpoch, int64_t nextIt) {
      if (!lead)
        return false;
      try {
        return saveCheckpoint(save, ex, microInWindow == 0, nextEpoch,
                              nextIt);
      } catch (const std::exception &e) {
        fail("cannot save the checkpoint of optimizer step " +
             std::to_string(optimizerCalls) + ": " + e.what() +
             "; the checkpoint files on disk are the last complete ones");
      }
    };
    // Batches are built and copied into pinned memory on the loader's
    // thread while the GPU runs; the stager outlives the loader that calls
    // it.
    PinnedBatchStager stager(ex, f.batchSize, seq, loaderOptions.prefetch);
    loaderOptions.stage = [&stager](TokenBatch &b) { stager.stage(b); };
    DataLoader loader(data, loaderOptions,
                      {startEpoch, startIt * f.batchSize});
    auto start = std::chrono::steady_clock::now();
    TokenBatch batch;
    for (int64_t epoch = startEpoch; epoch < f.epochs && done < total;
         ++epoch) {
      int64_t first = epoch == startEpoch ? startIt : 0;
      for (int64_t it = first; it < iters && done < total; ++it, ++done) {
        nextTrainingBatch(loader, batch, epoch, it * f.batchSize);
        double lr =
            minimindLr(epoch * iters + it, scheduleLength, f.learningRate);
        stager.upload(batch);
        ex.runMicroStep();
        double loss = ex.readOutput("loss");
        double aux = ti.auxLoss >= 0 ? ex.readOutput("aux_loss") : 0.0;
        if (!std::isfinite(loss) || !std::isfinite(aux))
          fail(std::string(std::isfinite(loss) ? "aux loss" : "loss") + " is " +
               std::to_string(std::isfinite(loss) ? aux : loss) + " at epoch " +
               std::to_string(epoch + 1) + " step " + std::to_string(it) +
               " (micro-step " + std::to_string(done) + ")");
        bool stepped = false;
        if (++microInWindow == f.accumulationSteps) {
          microInWindow = 0;
          if (comm)
            comm->allReduceMean(ex.gradRegion(), layout.numElements(),
                                ex.stream());
          ex.optimizerStep(lr);
          ++optimizerCalls;
          stepped = true;
        }
        peakMemory.sample();
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
                      static_cast<long long>(iters), loss + aux, lr,
                      perStep * (total - done - 1) / 60.0, tokS);
          std::fflush(stdout);
          if (metrics) {
            metrics << "{\"epoch\":" << epoch + 1 << ",\"step\":" << it + 1
                    << ",\"loss\":" << loss << ",\"aux_loss\":" << aux
                    << ",\"lr\":" << lr << ",\"tokens_per_s\":" << tokS
                    << ",\"peak_device_memory_mib\":" << peakMemory.mib();
            if (oc.dynamicLossScale) {
              OptimizerState st = ex.optimizerState();
              metrics << ",\"loss_scale\":" << st.scale
                      << ",\"skipped_steps\":" << st.skippedSteps;
            }
            metrics << "}\n";
            metrics.flush();
          }
        }
        if (!last && stepped && f.saveInterval > 0 &&
            optimizerCalls % f.saveInterval == 0) {
          bool wrap = it + 1 == iters;
          trySave(wrap ? epoch + 1 : epoch, wrap ? 0 : it + 1);
        }
      }
    }
    ex.synchronize();
    peakMemory.sample();
    if (!lead)
      return 0;
    std::printf("mind-trainer: peak device memory: %.1f MiB\n",
                peakMemory.mib());
    bool wrote = trySave(done / iters, done % iters);
    std::printf("mind-trainer: saved %s\n", weightsPath(save.stem).c_str());
    if (wrote)
      std::printf("mind-trainer: saved %s (optimizer step %lld)\n",
                  resumeFile.c_str(), static_cast<long long>(optimizerCalls));
    else
      std::printf("mind-trainer: resume file not updated: the run stopped "
                  "%lld micro-step(s) into an accumulation window (resume "
                  "files are written at optimizer-step boundaries)\n",
                  static_cast<long long>(microInWindow));
    if (f.profile > 0)
      printProfile(ex, f.profile);
  } catch (const std::exception &e) {
    fail(e.what());
  }
  return 0;
}
