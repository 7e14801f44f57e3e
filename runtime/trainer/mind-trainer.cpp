//===- mind-trainer.cpp - train a compiled MiniMind on the GPU ------------===//
//
// Runs the plan of a bundle (appended to this executable by `mindc compile`,
// or given with --bundle) through the runtime's one training loop
// (TrainingLoop.h, the GpuBackend of GpuBackend.h), exactly as
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
#include "mind/data/Dataset.h"
#include "mind/exec/Distributed.h"
#include "mind/exec/GpuBackend.h"
#include "mind/exec/TrainerFlags.h"
#include "mind/exec/TrainingLoop.h"

#include <cxxopts.hpp>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>

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

    GpuBackendOptions go;
    go.executor.cudaGraph = !f.noCudaGraph;
    go.executor.syncEachStep = f.syncEachStep;
    go.optimizer.maxGradNorm = f.gradClip;
    go.optimizer.accumulationSteps = f.accumulationSteps;
    go.optimizer.dynamicLossScale = f.dtype == "float16";
    go.dtype = f.dtype;
    go.batchSize = f.batchSize;
    go.seqLen = ti.seq;
    go.prefetch = trainerLoaderOptions(f.batchSize, 0, false).prefetch;
    GpuBackend backend(bundle, go, dist);

    TrainingOptions run;
    run.tool = "mind-trainer";
    run.sourceName = source;
    run.flags = f;
    run.config = bundle.plan.config;
    run.dist = dist;
    runTraining(backend, run);
    if (f.profile > 0 && dist.rank == 0)
      printProfile(backend.executor(), f.profile);
  } catch (const std::exception &e) {
    fail(e.what());
  }
  return 0;
}
