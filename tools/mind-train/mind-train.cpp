//===- mind-train.cpp - train a MiniMind config -----------------------------===//
//
// `mind-train --device=cpu CONFIG`: compiles the config to @train_step and
// trains it on the reference interpreter with MiniMind's trainer semantics.
// Meant for tiny configs (the CPU path is an oracle, not fast); the GPU
// trainer takes the same flags.
//
//===----------------------------------------------------------------------===//

#include "mind/Frontend/Config.h"
#include "mind/Frontend/MiniMind.h"
#include "mind/InitAll.h"
#include "mind/Interpreter/CpuTrainer.h"
#include "mind/Pipelines/Pipelines.h"
#include "mind/io/Checkpoint.h"
#include "mind/data/Dataset.h"
#include "mind/io/Safetensors.h"
#include "mind/io/Sha256.h"
#include "mind/exec/TrainerFlags.h"
#include "mind/data/TokenData.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"

#include <cxxopts.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

using namespace mlir;
namespace ref = mind::ref;
namespace runtime = mind::runtime;

namespace {
struct Flags : runtime::TrainerFlags {
  std::string config;
};

[[noreturn]] void fail(const std::string &msg) {
  std::cerr << "mind-train: error: " << msg << "\n";
  std::exit(1);
}

Flags parseFlags(int argc, char **argv) {
  cxxopts::Options opts(
      "mind-train",
      "Train a MiniMind config (MiniMind's flags; --device=cpu runs the "
      "reference interpreter)");
  opts.positional_help("CONFIG.json");
  runtime::TrainerFlagDefaults defaults;
  defaults.device = "cpu";
  defaults.deviceHelp = "cpu: the reference interpreter (the GPU trainer is "
                        "the executable `mindc compile` writes)";
  defaults.batchSize = 32;
  defaults.maxSeqLen = 512;
  defaults.dtype = "float32";
  defaults.dtypeHelp = "float32 on the CPU (bfloat16/float16 on the GPU)";
  opts.add_options()("config", "Model config (JSON)",
                     cxxopts::value<std::string>());
  runtime::addTrainerOptions(opts, defaults);
  opts.add_options()("h,help", "Show this help");
  opts.parse_positional({"config"});
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
  if (!r.count("config"))
    fail("missing CONFIG.json (see --help)");
  Flags f;
  try {
    static_cast<runtime::TrainerFlags &>(f) =
        runtime::readTrainerFlags(r, defaults);
  } catch (const std::exception &e) {
    fail(e.what());
  }
  f.config = r["config"].as<std::string>();
  if (f.device != "cpu")
    fail("--device=" + f.device +
         ": mind-train runs on the CPU (--device=cpu); the GPU trainer is the "
         "executable `mindc compile CONFIG -o TRAINER` writes");
  if (f.dtype != "float32")
    fail("--dtype=" + f.dtype + ": the CPU trainer computes in float32");
  return f;
}

/// Everything a save needs besides the trainer: names, model and run info.
struct SaveContext {
  std::string stem;
  std::vector<runtime::TensorSpec> specs;
  nlohmann::json config, training;
  std::string runId, tokenizerSha256 = "none";
  uint64_t seed = 0;
  int64_t batchSize = 0, iters = 0, keepLast = 1;
};

/// Writes the weights-only file and, at an optimizer-step boundary, the
/// resume file whose cursor says the next batch is `nextIt` of `nextEpoch`.
/// Returns whether the resume file was written. Both writes are atomic, so
/// a failure (disk full, kill) leaves the previous files loadable.
bool saveCheckpoint(const SaveContext &c, const mind::CpuTrainer &trainer,
                    int64_t nextEpoch, int64_t nextIt) {
  runtime::saveWeightsFile(runtime::weightsPath(c.stem), c.specs,
                           trainer.weights(), c.config);
  if (!trainer.atOptimizerBoundary())
    return false;
  mind::CpuTrainerState s = trainer.exportState();
  runtime::ResumeCheckpoint ck;
  runtime::ResumeState &st = ck.state;
  st.step = s.optimizerSteps;
  st.microStep = nextEpoch * c.iters + nextIt;
  st.epoch = nextEpoch;
  st.worldSize = 1;
  st.cursor = {nextEpoch, nextIt, c.batchSize, c.iters};
  // The CPU trainer's generators (init, synthetic data, data order) are pure
  // functions of the seed and the epoch: no other position to record.
  st.rng.seed = c.seed;
  st.rng.counters["data_order_epoch"] = static_cast<uint64_t>(nextEpoch);
  st.runId = c.runId;
  st.tokenizerSha256 = c.tokenizerSha256;
  st.config = c.config;
  st.training = c.training;
  ck.weights = std::move(s.weights);
  ck.expAvg = std::move(s.expAvg);
  ck.expAvgSq = std::move(s.expAvgSq);
  runtime::saveResume(c.stem, c.specs, ck, c.keepLast);
  return true;
}
} // namespace

int main(int argc, char **argv) {
  // A write past RLIMIT_FSIZE must fail with EFBIG (a clear error, the old
  // checkpoint kept), not kill the process with SIGXFSZ.
  std::signal(SIGXFSZ, SIG_IGN);
  Flags f = parseFlags(argc, argv);
  mind::MiniMindConfig cfg;
  try {
    auto parsed = mind::loadConfig(f.config);
    for (const auto &w : parsed.warnings)
      std::cerr << "mind-train: warning: " << w << "\n";
    cfg = parsed.config;
  } catch (const std::exception &e) {
    fail(e.what());
  }

  try {
    int64_t seq = f.maxSeqLen - 1;
    std::shared_ptr<const runtime::SampleSource> data =
        f.dataPath.empty()
            ? runtime::syntheticSamples(f.syntheticSamples, f.maxSeqLen,
                                        cfg.vocabSize, f.seed)
            : runtime::openTokenSamples(f.dataPath, f.maxSeqLen,
                                        cfg.vocabSize);
    int64_t iters = data->numSamples() / f.batchSize;
    if (iters < 1)
      fail("the data holds " + std::to_string(data->numSamples()) +
           " samples of " + std::to_string(f.maxSeqLen) +
           " tokens: fewer than one batch of " +
           std::to_string(f.batchSize));

    DialectRegistry registry;
    mind::registerAllDialects(registry);
    MLIRContext ctx(registry);
    auto module = mind::buildMiniMindForward(ctx, cfg, {f.batchSize, seq});
    PassManager pm(&ctx);
    mind::buildTrainPipeline(pm);
    if (failed(pm.run(*module)))
      fail("compilation failed");
    auto step = module->lookupSymbol<func::FuncOp>("train_step");
    auto params = mind::CpuTrainer::parameters(step);

    SaveContext save;
    save.stem = runtime::checkpointStem(f.saveDir, f.saveWeight, cfg.hiddenSize,
                                        cfg.useMoe);
    for (const auto &p : params)
      save.specs.push_back({p.name, p.shape});
    save.config = mind::toJson(cfg);
    save.training = runtime::trainingSettings(f, data->numSamples());
    save.seed = static_cast<uint64_t>(f.seed);
    save.batchSize = f.batchSize;
    save.iters = iters;
    save.keepLast = f.keepLast;
    save.runId = runtime::newRunId();
    if (f.tokenizer != "none")
      save.tokenizerSha256 = runtime::sha256FileHex(f.tokenizer);

    // A resume file takes precedence over --from_weight (as in MiniMind).
    std::optional<runtime::ResumeCheckpoint> resumed;
    std::string resumeFile = runtime::resumePath(save.stem);
    if (f.fromResume) {
      if (std::filesystem::exists(resumeFile))
        resumed = runtime::loadResumeFile(resumeFile, save.specs, save.config,
                                          save.tokenizerSha256);
      else
        std::printf("mind-train: no resume file %s; starting fresh\n",
                    resumeFile.c_str());
    }
    std::vector<std::vector<float>> init;
    if (resumed)
      init = resumed->weights;
    else if (f.fromWeight != "none")
      init = runtime::loadWeightsFile(f.fromWeight, save.specs, save.config);
    else
      init = mind::initParameters(params, static_cast<uint64_t>(f.seed));

    mind::CpuTrainerOptions opts;
    opts.accumulationSteps = f.accumulationSteps;
    opts.gradClip = f.gradClip;
    opts.learningRate = f.learningRate;
    opts.totalMicroSteps = f.epochs * iters;
    mind::CpuTrainer trainer(step, std::move(init), opts);

    int64_t paramCount = 0;
    for (const auto &p : params)
      paramCount += p.numel();
    std::printf("mind-train: %s, %.3fM parameters, device cpu (reference "
                "interpreter), %lld samples x %lld tokens, %lld micro-steps "
                "per epoch\n",
                f.config.c_str(), paramCount / 1e6,
                static_cast<long long>(data->numSamples()),
                static_cast<long long>(seq), static_cast<long long>(iters));

    int64_t startEpoch = 0, startIt = 0;
    if (resumed) {
      const runtime::ResumeState &st = resumed->state;
      for (const auto &d : runtime::diffJson(st.training, save.training))
        std::cerr << "mind-train: warning: resuming with " << d.field << " "
                  << d.current << " (the checkpoint was written with "
                  << d.saved << "): the run will differ from an "
                  << "uninterrupted one\n";
      // MiniMind's rule: the global batch changed with the world size.
      int64_t it = runtime::rescaleStepForWorldSize(st.cursor.batchIndex,
                                                    st.worldSize, 1);
      startEpoch = st.cursor.epoch + it / iters;
      startIt = it % iters;
      trainer.importState({std::move(resumed->weights), st.step,
                           std::move(resumed->expAvg),
                           std::move(resumed->expAvgSq)});
      save.runId = st.runId;
      std::printf("mind-train: resumed from %s (run %s): epoch %lld, "
                  "micro-step %lld/%lld, optimizer step %lld\n",
                  resumeFile.c_str(), st.runId.c_str(),
                  static_cast<long long>(startEpoch + 1),
                  static_cast<long long>(startIt),
                  static_cast<long long>(iters),
                  static_cast<long long>(st.step));
    }

    std::ofstream metrics;
    if (!f.metrics.empty())
      metrics.open(f.metrics, std::ios::app);

    // `done` counts micro-steps since the start of the run (resumes
    // included), so --max_steps and the LR schedule ignore interruptions.
    int64_t total = f.epochs * iters;
    if (f.maxSteps > 0 && f.maxSteps < total)
      total = f.maxSteps;
    int64_t done = startEpoch * iters + startIt, startDone = done;
    auto start = std::chrono::steady_clock::now();
    auto trySave = [&](int64_t nextEpoch, int64_t nextIt) {
      try {
        return saveCheckpoint(save, trainer, nextEpoch, nextIt);
      } catch (const std::exception &e) {
        fail("cannot save the checkpoint of optimizer step " +
             std::to_string(trainer.optimizer().stepCount()) + ": " + e.what() +
             "; the checkpoint files on disk are the last complete ones");
      }
    };
    // Batches are built on the loader's thread while this one computes.
    runtime::DataLoader loader(
        data,
        runtime::trainerLoaderOptions(f.batchSize,
                                      static_cast<uint64_t>(f.seed),
                                      f.shuffle != 0),
        {startEpoch, startIt * f.batchSize});
    runtime::TokenBatch batch;
    for (int64_t epoch = startEpoch; epoch < f.epochs && done < total;
         ++epoch) {
      int64_t first = epoch == startEpoch ? startIt : 0;
      for (int64_t it = first; it < iters && done < total; ++it, ++done) {
        runtime::nextTrainingBatch(loader, batch, epoch, it * f.batchSize);
        auto asTensor = [&](const std::vector<int64_t> &v) {
          return ref::Tensor::fromData({batch.batch, batch.seq},
                                       {v.begin(), v.end()});
        };
        auto r = trainer.microStep(epoch * iters + it, asTensor(batch.ids),
                                   asTensor(batch.targets),
                                   asTensor(batch.mask));
        if (!std::isfinite(r.loss))
          fail("loss is " + std::to_string(r.loss) + " at epoch " +
               std::to_string(epoch + 1) + " step " + std::to_string(it));
        bool last = done + 1 == total;
        if ((it + 1) % f.logInterval == 0 || it == 0 || last) {
          double secs = std::chrono::duration<double>(
                            std::chrono::steady_clock::now() - start)
                            .count();
          int64_t ran = done + 1 - startDone;
          double perStep = secs / ran;
          double tokS = ran * f.batchSize * seq / secs;
          std::printf("Epoch:[%lld/%lld](%lld/%lld) loss:%.6f lr:%.8f "
                      "epoch_Time:%.1fmin tokens/s:%.0f\n",
                      static_cast<long long>(epoch + 1),
                      static_cast<long long>(f.epochs),
                      static_cast<long long>(it + 1),
                      static_cast<long long>(iters), r.loss + r.auxLoss,
                      r.lr, perStep * (total - done - 1) / 60.0, tokS);
          std::fflush(stdout);
          if (metrics)
            metrics << "{\"epoch\":" << epoch + 1 << ",\"step\":" << it + 1
                    << ",\"loss\":" << r.loss << ",\"aux_loss\":" << r.auxLoss
                    << ",\"lr\":" << r.lr << ",\"tokens_per_s\":" << tokS
                    << "}\n";
        }
        if (!last && r.optimizerStep && f.saveInterval > 0 &&
            trainer.optimizer().stepCount() % f.saveInterval == 0) {
          bool wrap = it + 1 == iters;
          trySave(wrap ? epoch + 1 : epoch, wrap ? 0 : it + 1);
        }
      }
    }
    bool wrote = trySave(done / iters, done % iters);
    std::printf("mind-train: saved %s\n",
                runtime::weightsPath(save.stem).c_str());
    if (wrote)
      std::printf("mind-train: saved %s (optimizer step %lld)\n",
                  resumeFile.c_str(),
                  static_cast<long long>(trainer.optimizer().stepCount()));
    else
      std::printf("mind-train: resume file not updated: the run stopped "
                  "%lld micro-step(s) into an accumulation window (resume "
                  "files are written at optimizer-step boundaries)\n",
                  static_cast<long long>(trainer.pendingMicroSteps()));
  } catch (const std::exception &e) {
    fail(e.what());
  }
  return 0;
}
