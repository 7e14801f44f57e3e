//===- TrainerFlags.cpp - MiniMind's trainer flags, shared ----------------===//

#include "mind/exec/TrainerFlags.h"

#include <stdexcept>

using namespace mind::runtime;

void mind::runtime::addTrainerOptions(cxxopts::Options &opts,
                                      const TrainerFlagDefaults &d) {
  auto withDefault = [](auto value, int64_t def) {
    if (def > 0)
      value->default_value(std::to_string(def));
    return value;
  };
  std::string fromBundle = " (default: the bundle's)";
  auto dtype = cxxopts::value<std::string>();
  if (!d.dtype.empty())
    dtype->default_value(d.dtype);
  // clang-format off
  opts.add_options()
    ("device", d.deviceHelp,
     cxxopts::value<std::string>()->default_value(d.device))
    ("epochs", "Epochs", cxxopts::value<int64_t>()->default_value("1"))
    ("batch_size", std::string("Sequences per micro-step") +
     (d.batchSize > 0 ? "" : fromBundle),
     withDefault(cxxopts::value<int64_t>(), d.batchSize))
    ("learning_rate", "Peak learning rate (cosine schedule down to lr/10)",
     cxxopts::value<double>()->default_value("5e-4"))
    ("accumulation_steps", "Micro-steps per optimizer step",
     cxxopts::value<int64_t>()->default_value("8"))
    ("grad_clip", "Global gradient-norm clip",
     cxxopts::value<double>()->default_value("1.0"))
    ("dtype", d.dtypeHelp, dtype)
    ("max_seq_len", std::string("Tokens per sample, max_seq_len - 1 are "
     "trained") + (d.maxSeqLen > 0 ? "" : fromBundle),
     withDefault(cxxopts::value<int64_t>(), d.maxSeqLen))
    ("log_interval", "Log every N micro-steps",
     cxxopts::value<int64_t>()->default_value("100"))
    ("save_interval", "Save weights and resume state every N optimizer steps "
     "(0: only at the end)",
     cxxopts::value<int64_t>()->default_value("100"))
    ("keep_last", "Resume files to keep: 1 keeps {stem}_resume.safetensors "
     "only; K > 1 also keeps the last K as {stem}_resume_step{N}.safetensors",
     cxxopts::value<int64_t>()->default_value("1"))
    ("save_dir", "Checkpoint directory",
     cxxopts::value<std::string>()->default_value("out"))
    ("save_weight", "Checkpoint name prefix",
     cxxopts::value<std::string>()->default_value("pretrain"))
    ("from_weight", "Start from these weights (a weights-only file in fp16 "
     "or fp32, or a resume file; 'none': fresh init)",
     cxxopts::value<std::string>()->default_value("none"))
    ("from_resume", "1: continue from {save_dir}/{save_weight}_{hidden}"
     "{_moe}_resume.safetensors if it exists (else start fresh)",
     cxxopts::value<int>()->default_value("0"))
    ("data_path", "Token data: a shard (*.mtok) or a directory of shards "
     "(streamed), safetensors with a 1-D int 'tokens' tensor, or a text file "
     "of whitespace-separated ids; empty: synthetic data",
     cxxopts::value<std::string>()->default_value(""))
    ("tokenizer", "tokenizer.json the data was encoded with: its SHA-256 is "
     "stored in resume files and checked when resuming ('none': not recorded)",
     cxxopts::value<std::string>()->default_value("none"))
    ("synthetic_samples", "Samples of synthetic data when no --data_path",
     cxxopts::value<int64_t>()->default_value("256"))
    ("max_steps", "Stop once N micro-steps of the run are done, counting "
     "those before a resume (0: full epochs)",
     cxxopts::value<int64_t>()->default_value("0"))
    ("metrics", "Append one JSON line per logged micro-step to FILE",
     cxxopts::value<std::string>()->default_value(""))
    ("seed", "Random seed (init and data order)",
     cxxopts::value<int64_t>()->default_value("42"))
    ("shuffle", "1: shuffle the samples every epoch (seeded); 0: train them "
     "in file order (for parity runs against another trainer)",
     cxxopts::value<int>()->default_value("1"));
  // clang-format on
}

TrainerFlags mind::runtime::readTrainerFlags(const cxxopts::ParseResult &r,
                                            const TrainerFlagDefaults &d) {
  auto bad = [](const std::string &msg) {
    throw std::invalid_argument(msg);
  };
  TrainerFlags f;
  f.device = r["device"].as<std::string>();
  // An option without a default has no value unless given.
  if (r.count("dtype") || !d.dtype.empty())
    f.dtype = r["dtype"].as<std::string>();
  f.dataPath = r["data_path"].as<std::string>();
  f.saveDir = r["save_dir"].as<std::string>();
  f.saveWeight = r["save_weight"].as<std::string>();
  f.fromWeight = r["from_weight"].as<std::string>();
  f.metrics = r["metrics"].as<std::string>();
  f.tokenizer = r["tokenizer"].as<std::string>();
  f.epochs = r["epochs"].as<int64_t>();
  if (r.count("batch_size") || d.batchSize > 0)
    f.batchSize = r["batch_size"].as<int64_t>();
  if (r.count("max_seq_len") || d.maxSeqLen > 0)
    f.maxSeqLen = r["max_seq_len"].as<int64_t>();
  f.accumulationSteps = r["accumulation_steps"].as<int64_t>();
  f.logInterval = r["log_interval"].as<int64_t>();
  f.saveInterval = r["save_interval"].as<int64_t>();
  f.keepLast = r["keep_last"].as<int64_t>();
  f.syntheticSamples = r["synthetic_samples"].as<int64_t>();
  f.maxSteps = r["max_steps"].as<int64_t>();
  f.seed = r["seed"].as<int64_t>();
  f.learningRate = r["learning_rate"].as<double>();
  f.gradClip = r["grad_clip"].as<double>();
  f.fromResume = r["from_resume"].as<int>();
  f.shuffle = r["shuffle"].as<int>();

  if (f.fromResume != 0 && f.fromResume != 1)
    bad("--from_resume must be 0 or 1");
  if (f.shuffle != 0 && f.shuffle != 1)
    bad("--shuffle must be 0 or 1");
  if (f.saveInterval < 0)
    bad("--save_interval must not be negative");
  if (f.maxSteps < 0)
    bad("--max_steps must not be negative");
  auto positive = [&](int64_t v, const char *name) {
    if (v < 1)
      bad(std::string("--") + name + " must be positive");
  };
  positive(f.epochs, "epochs");
  positive(f.accumulationSteps, "accumulation_steps");
  positive(f.logInterval, "log_interval");
  positive(f.keepLast, "keep_last");
  positive(f.syntheticSamples, "synthetic_samples");
  if (r.count("batch_size") || d.batchSize > 0)
    positive(f.batchSize, "batch_size");
  if ((r.count("max_seq_len") || d.maxSeqLen > 0) && f.maxSeqLen < 2)
    bad("--max_seq_len must be at least 2");
  if (!(f.learningRate > 0))
    bad("--learning_rate must be positive");
  if (!(f.gradClip > 0))
    bad("--grad_clip must be positive");
  return f;
}

nlohmann::json mind::runtime::trainingSettings(const TrainerFlags &f,
                                               int64_t numSamples) {
  return {{"epochs", f.epochs},
          {"batch_size", f.batchSize},
          {"learning_rate", f.learningRate},
          {"accumulation_steps", f.accumulationSteps},
          {"grad_clip", f.gradClip},
          {"max_seq_len", f.maxSeqLen},
          {"dtype", f.dtype},
          {"seed", f.seed},
          {"shuffle", f.shuffle},
          {"data",
           {{"path", f.dataPath.empty() ? "synthetic" : f.dataPath},
            {"num_samples", numSamples}}}};
}
