//===- mind-train.cpp - train a MiniMind config -----------------------------===//
//
// `mind-train --device=cpu CONFIG`: compiles the config to @train_step and
// trains it on the reference interpreter through the runtime's one training
// loop (TrainingLoop.h), the same the GPU trainer runs. Meant for tiny
// configs (the CPU path is an oracle, not fast); the GPU trainer takes the
// same flags.
//
//===----------------------------------------------------------------------===//

#include "CpuBackend.h"

#include "mind/Frontend/Config.h"
#include "mind/Frontend/MiniMind.h"
#include "mind/InitAll.h"
#include "mind/Pipelines/Pipelines.h"
#include "mind/exec/TrainerFlags.h"
#include "mind/exec/TrainingLoop.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"

#include <cxxopts.hpp>

#include <csignal>
#include <iostream>

using namespace mlir;
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
    DialectRegistry registry;
    mind::registerAllDialects(registry);
    MLIRContext ctx(registry);
    auto module =
        mind::buildMiniMindForward(ctx, cfg, {f.batchSize, f.maxSeqLen - 1});
    PassManager pm(&ctx);
    mind::buildTrainPipeline(pm);
    if (failed(pm.run(*module)))
      fail("compilation failed");

    mind::CpuTrainerOptions opts;
    opts.accumulationSteps = f.accumulationSteps;
    opts.gradClip = f.gradClip;
    mind::CpuBackend backend(module->lookupSymbol<func::FuncOp>("train_step"),
                             opts);
    runtime::TrainingOptions run;
    run.tool = "mind-train";
    run.sourceName = f.config;
    run.flags = f;
    run.config = mind::toJson(cfg);
    runtime::runTraining(backend, run);
  } catch (const std::exception &e) {
    fail(e.what());
  }
  return 0;
}
