//===- mind-train.cpp - train a MiniMind config -----------------------------===//
//
// `mind-train --device=cpu CONFIG`: compiles the config to @train_step and
// trains it on the reference interpreter with MiniMind's trainer semantics.
// Meant for tiny configs (the CPU path is an oracle, not fast); the GPU
// trainer takes the same flags.
//
//===----------------------------------------------------------------------===//

#include "mind/Frontend/MiniMind.h"
#include "mind/InitAll.h"
#include "mind/Interpreter/CpuTrainer.h"
#include "mind/Pipelines/Pipelines.h"
#include "mind/runtime/Safetensors.h"
#include "mind/runtime/TokenData.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"

#include <cxxopts.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

using namespace mlir;
namespace ref = mind::ref;

namespace {
struct Flags {
  std::string config, device, dtype, dataPath, saveDir, saveWeight, fromWeight,
      metrics;
  int64_t epochs, batchSize, accumulationSteps, maxSeqLen, logInterval,
      saveInterval, syntheticSamples, maxSteps, seed;
  double learningRate, gradClip;
  int fromResume;
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
  // clang-format off
  opts.add_options()
    ("config", "Model config (JSON)", cxxopts::value<std::string>())
    ("device", "cpu (reference interpreter); cuda comes with the GPU backend",
     cxxopts::value<std::string>()->default_value("cpu"))
    ("epochs", "Epochs", cxxopts::value<int64_t>()->default_value("1"))
    ("batch_size", "Sequences per micro-step",
     cxxopts::value<int64_t>()->default_value("32"))
    ("learning_rate", "Peak learning rate (cosine schedule down to lr/10)",
     cxxopts::value<double>()->default_value("5e-4"))
    ("accumulation_steps", "Micro-steps per optimizer step",
     cxxopts::value<int64_t>()->default_value("8"))
    ("grad_clip", "Global gradient-norm clip",
     cxxopts::value<double>()->default_value("1.0"))
    ("dtype", "float32 on the CPU (bfloat16/float16 on the GPU)",
     cxxopts::value<std::string>()->default_value("float32"))
    ("max_seq_len", "Tokens per sample (max_seq_len - 1 are trained)",
     cxxopts::value<int64_t>()->default_value("512"))
    ("log_interval", "Log every N micro-steps",
     cxxopts::value<int64_t>()->default_value("100"))
    ("save_interval", "Save weights every N micro-steps (0: only at the end)",
     cxxopts::value<int64_t>()->default_value("100"))
    ("save_dir", "Checkpoint directory",
     cxxopts::value<std::string>()->default_value("out"))
    ("save_weight", "Checkpoint name prefix",
     cxxopts::value<std::string>()->default_value("pretrain"))
    ("from_weight", "Start from this safetensors file ('none': fresh init)",
     cxxopts::value<std::string>()->default_value("none"))
    ("from_resume", "Resume from the last checkpoint (not implemented yet)",
     cxxopts::value<int>()->default_value("0"))
    ("data_path", "Token data: safetensors with a 1-D int 'tokens' tensor, or "
     "a text file of whitespace-separated ids; empty: synthetic data",
     cxxopts::value<std::string>()->default_value(""))
    ("synthetic_samples", "Samples of synthetic data when no --data_path",
     cxxopts::value<int64_t>()->default_value("256"))
    ("max_steps", "Stop after N micro-steps (0: full epochs)",
     cxxopts::value<int64_t>()->default_value("0"))
    ("metrics", "Append one JSON line per logged micro-step to FILE",
     cxxopts::value<std::string>()->default_value(""))
    ("seed", "Random seed", cxxopts::value<int64_t>()->default_value("42"))
    ("h,help", "Show this help");
  // clang-format on
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
  f.config = r["config"].as<std::string>();
  f.device = r["device"].as<std::string>();
  f.dtype = r["dtype"].as<std::string>();
  f.dataPath = r["data_path"].as<std::string>();
  f.saveDir = r["save_dir"].as<std::string>();
  f.saveWeight = r["save_weight"].as<std::string>();
  f.fromWeight = r["from_weight"].as<std::string>();
  f.metrics = r["metrics"].as<std::string>();
  f.epochs = r["epochs"].as<int64_t>();
  f.batchSize = r["batch_size"].as<int64_t>();
  f.accumulationSteps = r["accumulation_steps"].as<int64_t>();
  f.maxSeqLen = r["max_seq_len"].as<int64_t>();
  f.logInterval = r["log_interval"].as<int64_t>();
  f.saveInterval = r["save_interval"].as<int64_t>();
  f.syntheticSamples = r["synthetic_samples"].as<int64_t>();
  f.maxSteps = r["max_steps"].as<int64_t>();
  f.seed = r["seed"].as<int64_t>();
  f.learningRate = r["learning_rate"].as<double>();
  f.gradClip = r["grad_clip"].as<double>();
  f.fromResume = r["from_resume"].as<int>();

  if (f.device != "cpu")
    fail("--device=" + f.device +
         " is not available yet: this build trains on the CPU only "
         "(--device=cpu)");
  if (f.dtype != "float32")
    fail("--dtype=" + f.dtype + ": the CPU trainer computes in float32");
  if (f.fromResume != 0)
    fail("--from_resume 1 is not implemented yet");
  auto positive = [](int64_t v, const char *name) {
    if (v < 1)
      fail(std::string("--") + name + " must be positive");
  };
  positive(f.epochs, "epochs");
  positive(f.batchSize, "batch_size");
  positive(f.accumulationSteps, "accumulation_steps");
  positive(f.logInterval, "log_interval");
  if (f.maxSeqLen < 2)
    fail("--max_seq_len must be at least 2");
  if (f.learningRate <= 0)
    fail("--learning_rate must be positive");
  return f;
}

std::string checkpointPath(const Flags &f, const mind::MiniMindConfig &cfg) {
  return f.saveDir + "/" + f.saveWeight + "_" +
         std::to_string(cfg.hiddenSize) + (cfg.useMoe ? "_moe" : "") +
         ".safetensors";
}

/// Weights-only checkpoint: fp16, PyTorch names (MINIMIND-SPEC §6).
void saveWeights(const std::string &path, const mind::CpuTrainer &trainer) {
  std::filesystem::create_directories(
      std::filesystem::path(path).parent_path());
  mind::runtime::SafetensorsWriter w;
  for (auto [p, v] : llvm::zip(trainer.params(), trainer.weights()))
    w.addF16FromF32(p.name, p.shape, v);
  w.write(path);
}
} // namespace

int main(int argc, char **argv) {
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
    mind::runtime::TokenSamples data =
        f.dataPath.empty()
            ? mind::runtime::syntheticSamples(f.syntheticSamples, f.maxSeqLen,
                                     cfg.vocabSize, f.seed)
            : mind::runtime::loadTokenSamples(f.dataPath, f.maxSeqLen, cfg.vocabSize);
    int64_t iters = data.numSamples() / f.batchSize;
    if (iters < 1)
      fail("the data holds " + std::to_string(data.numSamples()) +
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

    std::vector<std::vector<float>> init;
    if (f.fromWeight != "none")
      init = mind::loadParameters(
          mind::runtime::SafetensorsFile::load(f.fromWeight), params);
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
                static_cast<long long>(data.numSamples()),
                static_cast<long long>(seq), static_cast<long long>(iters));
    std::ofstream metrics;
    if (!f.metrics.empty())
      metrics.open(f.metrics, std::ios::app);

    auto start = std::chrono::steady_clock::now();
    int64_t done = 0, total = f.epochs * iters;
    if (f.maxSteps > 0 && f.maxSteps < total)
      total = f.maxSteps;
    std::string ckpt = checkpointPath(f, cfg);
    for (int64_t epoch = 0; epoch < f.epochs && done < total; ++epoch) {
      std::vector<int64_t> order = data.epochOrder(static_cast<uint64_t>(f.seed), epoch);
      for (int64_t it = 0; it < iters && done < total; ++it, ++done) {
        auto batch = data.batch(order, it * f.batchSize, f.batchSize);
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
          double perStep = secs / (done + 1);
          double tokS = (done + 1) * f.batchSize * seq / secs;
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
        if (f.saveInterval > 0 && (it + 1) % f.saveInterval == 0)
          saveWeights(ckpt, trainer);
      }
    }
    saveWeights(ckpt, trainer);
    std::printf("mind-train: saved %s\n", ckpt.c_str());
  } catch (const std::exception &e) {
    fail(e.what());
  }
  return 0;
}
