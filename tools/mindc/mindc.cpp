//===- mindc.cpp - the mindc compiler driver ------------------------------===//
//
//   mindc ir CONFIG [--stage=forward|train|fused|plan] [--dump-ir=DIR]
//                                                    print IR (or the plan)
//   mindc report CONFIG [--json]                             sizes and FLOPs
//   mindc eval CONFIG --weights W --batch B -o OUT           run a train step
//
// Standard MLIR flags (--mlir-print-ir-after-all, --mlir-timing, ...) work
// for every command that runs passes.
//
//===----------------------------------------------------------------------===//

#include "mind/Analysis/Cost.h"
#include "mind/Conversion/LowerToPlan.h"
#include "mind/Dialect/Mind/IR/MindOps.h"
#include "mind/Frontend/MiniMind.h"
#include "mind/InitAll.h"
#include "mind/Interpreter/CpuTrainer.h"
#include "mind/Pipelines/Pipelines.h"
#include "mind/abi/Bundle.h"
#ifdef MIND_HAVE_NVRTC
#include "mind/kernels/Nvrtc.h"
#endif
#include "mind/io/Safetensors.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassInstrumentation.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <nlohmann/json.hpp>

#include <iostream>

using namespace mlir;
namespace ref = mind::ref;
namespace cl = llvm::cl;

namespace {
cl::OptionCategory irCat("mindc ir options");
cl::OptionCategory reportCat("mindc report options");
cl::OptionCategory evalCat("mindc eval options");
cl::OptionCategory compileCat("mindc compile options");
cl::OptionCategory shapeCat("Micro-step shape (ir, report)");
cl::OptionCategory dtypeCat("Precision");

cl::opt<std::string> configPath(cl::Positional, cl::desc("CONFIG.json"),
                                cl::Required);
cl::opt<std::string> stage("stage",
                           cl::desc("IR stage to print: forward, train, "
                                    "fused, or plan (the GPU plan as text)"),
                           cl::init("train"), cl::cat(irCat));
cl::opt<std::string> dumpDir("dump-ir",
                             cl::desc("Write the IR after every stage to DIR"),
                             cl::value_desc("DIR"), cl::cat(irCat));
cl::opt<std::string> dtypeOpt(
    "dtype",
    cl::desc("Compute type: bfloat16 (MiniMind's default), float16 or "
             "float32 (eval defaults to float32, to check numerics)"),
    cl::init(""), cl::cat(dtypeCat));
cl::opt<bool> jsonOut("json", cl::desc("Print the report as JSON"),
                      cl::cat(reportCat));
cl::opt<int64_t> batchSize("batch_size", cl::desc("Sequences per micro-step"),
                           cl::init(32), cl::cat(shapeCat));
cl::opt<int64_t> maxSeqLen(
    "max_seq_len",
    cl::desc("Tokens per sample; a micro-step trains max_seq_len - 1"),
    cl::init(512), cl::cat(shapeCat));
cl::opt<std::string> weightsPath(
    "weights", cl::desc("safetensors with every parameter by its name"),
    cl::value_desc("W.safetensors"), cl::cat(evalCat));
cl::opt<std::string> batchPath(
    "batch", cl::desc("safetensors with ids, targets, mask [batch, seq]"),
    cl::value_desc("B.safetensors"), cl::cat(evalCat));
cl::opt<std::string> outPath("o", cl::desc("Output file"),
                             cl::value_desc("OUT"), cl::cat(evalCat),
                             cl::cat(compileCat));
cl::opt<std::string> emitKind(
    "emit",
    cl::desc("compile: 'trainer' (an executable), 'bundle', or 'cuda' (the "
             "CUDA C++ of the kernels emitted from the IR, for reading)"),
    cl::init("trainer"), cl::cat(compileCat));
cl::opt<std::string> archOpt(
    "arch", cl::desc("compile: GPU architecture for NVRTC (sm_90a, sm_80)"),
    cl::init("sm_90a"), cl::cat(compileCat));
cl::opt<std::string> trainerRuntime(
    "trainer-runtime",
    cl::desc("compile: the mind-trainer executable to embed the bundle in "
             "(default: mind-trainer next to mindc)"),
    cl::cat(compileCat));
cl::opt<int64_t> accumulationSteps(
    "accumulation_steps",
    cl::desc("eval: gradients are of (loss + aux) / accumulation_steps"),
    cl::init(1), cl::cat(evalCat));

const char *kOverview = R"(mindc: compile MiniMind configs into trainers

Commands:
  mindc ir CONFIG [--stage=forward|train|fused|plan] [--dump-ir=DIR] [--dtype=T] [MLIR flags]
      Print the IR of the model at a stage (default: train, bfloat16);
      plan: the GPU plan lowered from the fused IR (buffers, then steps).
  mindc report CONFIG [--json]
      Parameter count, matmul FLOPs per token and per micro-step, planned
      device memory.
  mindc compile CONFIG -o OUT [--emit=trainer|bundle|cuda] [--dtype=T] [--arch=sm_90a]
      Compile the training step for the GPU: a trainer executable (the
      mind-trainer runtime with the bundle embedded), the bundle alone, or
      the CUDA source of the kernels emitted from the IR.
  mindc eval CONFIG --weights W.safetensors --batch B.safetensors -o OUT.safetensors
      Run one train step on the reference interpreter and write loss,
      aux_loss, logits and grad.<param>.
)";

[[noreturn]] void fail(const std::string &msg) {
  llvm::errs() << "mindc: error: " << msg << "\n";
  std::exit(1);
}

mind::MiniMindConfig loadConfigOrDie() {
  try {
    auto parsed = mind::loadConfig(configPath);
    for (const std::string &w : parsed.warnings)
      llvm::errs() << "mindc: warning: " << w << "\n";
    return parsed.config;
  } catch (const std::exception &e) {
    fail(e.what());
  }
}

OwningOpRef<ModuleOp> buildForward(MLIRContext &ctx,
                                   const mind::MiniMindConfig &cfg,
                                   mind::TrainShape shape) {
  try {
    return mind::buildMiniMindForward(ctx, cfg, shape);
  } catch (const std::exception &e) {
    fail(configPath + ": " + e.what());
  }
}

/// Writes the module after each pass to DIR/NN-<pass>.mlir.
class DumpAfterEachPass : public PassInstrumentation {
public:
  explicit DumpAfterEachPass(std::string dir) : dir(std::move(dir)) {}
  void runAfterPass(Pass *pass, Operation *op) override {
    if (isa<ModuleOp>(op))
      dump(op, pass->getArgument().str());
  }
  void dump(Operation *op, const std::string &name) {
    std::string path =
        llvm::formatv("{0}/{1:02}-{2}.mlir", dir, index++, name).str();
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    if (ec)
      fail("cannot write " + path + ": " + ec.message());
    op->print(os);
  }

private:
  std::string dir;
  int index = 0;
};

/// The pipeline spelling of --dtype, with `fallback` when it is not given.
std::string computeType(llvm::StringRef fallback) {
  std::string d = dtypeOpt.empty() ? fallback.str() : dtypeOpt.getValue();
  if (d == "bfloat16" || d == "bf16")
    return "bf16";
  if (d == "float16" || d == "f16")
    return "f16";
  if (d == "float32" || d == "f32")
    return "f32";
  fail("--dtype must be bfloat16, float16 or float32, got '" + d + "'");
}

/// Runs the stages up to `target`: "forward" runs none, "train" precision
/// and autodiff, "fused" also fusion.
void runStages(ModuleOp module, llvm::StringRef target,
               llvm::StringRef defaultDtype = "bfloat16") {
  std::unique_ptr<DumpAfterEachPass> dumper;
  if (!dumpDir.empty()) {
    if (auto ec = llvm::sys::fs::create_directories(dumpDir))
      fail("cannot create " + dumpDir + ": " + ec.message());
    dumper = std::make_unique<DumpAfterEachPass>(dumpDir);
    dumper->dump(module, "forward");
  }
  if (target == "forward")
    return;
  PassManager pm(module->getContext());
  if (failed(applyPassManagerCLOptions(pm)))
    fail("invalid pass manager options");
  if (dumper)
    pm.addInstrumentation(std::move(dumper));
  mind::TrainPipelineOptions options;
  options.dtype = computeType(defaultDtype);
  if (target == "fused")
    mind::buildFusedPipeline(pm, options);
  else
    mind::buildTrainPipeline(pm, options);
  if (failed(pm.run(module)))
    fail("compilation failed");
}

int runIr(MLIRContext &ctx) {
  if (stage != "forward" && stage != "train" && stage != "fused" &&
      stage != "plan")
    fail("--stage must be 'forward', 'train', 'fused' or 'plan', got '" +
         stage + "'");
  auto cfg = loadConfigOrDie();
  auto module = buildForward(ctx, cfg, {batchSize, maxSeqLen - 1});
  if (stage == "plan") {
    runStages(*module, "fused");
    FailureOr<mind::LoweredTrainStep> lowered =
        mind::lowerToPlan(module->lookupSymbol<func::FuncOp>("train_step"));
    if (failed(lowered))
      fail("lowering to the GPU plan failed");
    llvm::outs() << mind::runtime::describePlan(lowered->plan);
    return 0;
  }
  runStages(*module, stage);
  module->print(llvm::outs());
  llvm::outs() << "\n";
  return 0;
}

int runReport(MLIRContext &ctx) {
  auto cfg = loadConfigOrDie();
  mind::TrainShape shape{batchSize, maxSeqLen - 1};
  auto module = buildForward(ctx, cfg, shape);
  runStages(*module, "fused");
  auto fwd = module->lookupSymbol<func::FuncOp>("forward");
  auto step = module->lookupSymbol<func::FuncOp>("train_step");
  mind::FunctionCost fwdCost = mind::analyzeCost(fwd);
  mind::FunctionCost stepCost = mind::analyzeCost(step);
  int64_t tokens = shape.batch * shape.seqLen;
  // Planned device memory: the arena of one micro-step (weights, gradient
  // accumulators, activations), AdamW's two fp32 moments per parameter and
  // the cuBLASLt workspace. (CUDA's own context is not counted.)
  FailureOr<mind::LoweredTrainStep> lowered = mind::lowerToPlan(step);
  if (failed(lowered))
    fail("lowering to the GPU plan failed");
  const mind::runtime::Plan *plan = &lowered->plan;
  uint64_t paramBytes = 0;
  for (const auto &b : plan->buffers)
    if (b.kind == mind::runtime::BufferKind::Param)
      paramBytes += b.bytes;
  uint64_t optimizerBytes = 2 * paramBytes;
  uint64_t gemmBytes = mind::runtime::kGemmWorkspaceBytes;
  uint64_t plannedBytes = plan->arenaBytes + optimizerBytes + gemmBytes;
  nlohmann::json j = {
      {"config", configPath.getValue()},
      {"parameters", fwdCost.parameters},
      {"batch_size", shape.batch},
      {"trained_tokens_per_sample", shape.seqLen},
      {"tokens_per_micro_step", tokens},
      {"forward_flops_per_token", fwdCost.flops / tokens},
      {"train_flops_per_token", stepCost.flops / tokens},
      {"train_flops_per_micro_step", stepCost.flops},
      {"dtype", computeType("bfloat16")},
      {"planned_device_bytes", plannedBytes},
      {"arena_bytes", plan->arenaBytes},
      {"optimizer_state_bytes", optimizerBytes},
      {"gemm_workspace_bytes", gemmBytes},
  };
  if (jsonOut) {
    llvm::outs() << j.dump(2) << "\n";
    return 0;
  }
  auto num = [](int64_t v) {
    std::string s = std::to_string(v);
    for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3)
      s.insert(i, ",");
    return s;
  };
  llvm::outs() << "config:                     " << configPath << "\n"
               << "parameters:                 " << num(fwdCost.parameters)
               << "\n"
               << "micro-step:                 " << shape.batch << " x "
               << shape.seqLen << " = " << num(tokens) << " tokens\n"
               << "forward FLOPs per token:    " << num(fwdCost.flops / tokens)
               << "\n"
               << "train FLOPs per token:      "
               << num(stepCost.flops / tokens) << "\n"
               << "train FLOPs per micro-step: " << num(stepCost.flops)
               << "\n"
               << llvm::formatv("planned device memory:      {0:f1} MiB "
                                "({1}; arena {2:f1} + AdamW state {3:f1} + "
                                "GEMM workspace {4:f1})\n",
                                plannedBytes / 1048576.0,
                                computeType("bfloat16"),
                                plan->arenaBytes / 1048576.0,
                                optimizerBytes / 1048576.0,
                                gemmBytes / 1048576.0)
               << "(matmul and attention FLOPs, 2 per multiply-add)\n";
  return 0;
}

ref::Tensor readTokens(const mind::runtime::SafetensorsFile &f,
                       const std::string &name) {
  const auto *t = f.find(name);
  if (!t)
    fail(f.path() + ": no tensor named '" + name + "'");
  if (t->shape.size() != 2)
    fail(f.path() + ": '" + name + "' must be [batch, seq]");
  if (t->dtype != mind::runtime::DType::I64 &&
      t->dtype != mind::runtime::DType::I32)
    fail(f.path() + ": '" + name + "' must be int32 or int64, got " +
         mind::runtime::dtypeName(t->dtype));
  std::vector<int64_t> v = f.toInt64(name);
  return ref::Tensor::fromData(t->shape, {v.begin(), v.end()});
}

/// Lowers the train step to a plan and compiles its kernels with NVRTC.
mind::runtime::Bundle compileBundle(ModuleOp module,
                                    const mind::MiniMindConfig &cfg,
                                    mind::TrainShape shape,
                                    const std::string &dtype) {
  auto step = module.lookupSymbol<func::FuncOp>("train_step");
  FailureOr<mind::LoweredTrainStep> lowered = mind::lowerToPlan(step);
  if (failed(lowered))
    fail("lowering to the GPU plan failed");
  mind::runtime::Bundle bundle;
  bundle.plan = std::move(lowered->plan);
  std::string source = mind::runtime::kernelLibrarySource() +
                       "\n// ---- kernels emitted from the IR\n" +
                       lowered->emittedSource;
  bundle.plan.config = mind::toJson(cfg);
  static const char *names[] = {"float32", "bfloat16", "float16"};
  std::string dtypeName = dtype == "f32" ? names[0]
                          : dtype == "bf16" ? names[1]
                                            : names[2];
  bundle.plan.meta = {{"batch_size", shape.batch},
                      {"seq_len", shape.seqLen},
                      {"dtype", dtypeName},
                      {"arch", archOpt.getValue()},
                      {"compiler", "mindc"}};
  std::vector<std::string> nameExprs;
  for (const auto &k : bundle.plan.kernels)
    nameExprs.push_back(k.nameExpr);
#ifndef MIND_HAVE_NVRTC
  fail("this mindc was built without the CUDA toolkit: it cannot compile "
       "kernels (rebuild with CUDA 13 at /usr/local/cuda)");
#else
  try {
    auto compiled =
        mind::runtime::compileKernels(source, nameExprs, archOpt);
    for (size_t i = 0; i < nameExprs.size(); ++i)
      bundle.plan.kernels[i].loweredName = compiled.loweredNames[i];
    bundle.cubin = std::move(compiled.cubin);
    bundle.ptx = std::move(compiled.ptx);
  } catch (const std::exception &e) {
    fail(std::string("kernel compilation failed: ") + e.what());
  }
#endif
  bundle.cudaSource = std::move(source);
  llvm::raw_string_ostream os(bundle.mlir);
  module.print(os);
  return bundle;
}

int runCompile(MLIRContext &ctx, const char *argv0) {
  if (outPath.empty())
    fail("compile needs -o OUT");
  if (emitKind != "trainer" && emitKind != "bundle" && emitKind != "cuda")
    fail("--emit must be 'trainer', 'bundle' or 'cuda', got '" + emitKind +
         "'");
  auto cfg = loadConfigOrDie();
  mind::TrainShape shape{batchSize, maxSeqLen - 1};
  auto module = buildForward(ctx, cfg, shape);
  runStages(*module, "fused");
  if (emitKind == "cuda") {
    auto step = module->lookupSymbol<func::FuncOp>("train_step");
    FailureOr<mind::LoweredTrainStep> lowered = mind::lowerToPlan(step);
    if (failed(lowered))
      fail("lowering to the GPU plan failed");
    std::error_code ec;
    llvm::raw_fd_ostream os(outPath, ec);
    if (ec)
      fail("cannot write " + outPath + ": " + ec.message());
    os << lowered->emittedSource;
    return 0;
  }
  auto bundle = compileBundle(*module, cfg, shape, computeType("bfloat16"));
  try {
    mind::runtime::validatePlan(bundle.plan);
    if (emitKind == "bundle") {
      mind::runtime::writeBundle(bundle, outPath);
    } else {
      std::string runtime = trainerRuntime;
      if (runtime.empty()) {
        llvm::SmallString<256> dir(
            llvm::sys::fs::getMainExecutable(argv0, (void *)&runCompile));
        llvm::sys::path::remove_filename(dir);
        llvm::sys::path::append(dir, "mind-trainer");
        runtime = dir.str().str();
      }
      if (!llvm::sys::fs::exists(runtime))
        fail("the trainer runtime '" + runtime +
             "' does not exist (build mind-trainer, or pass "
             "--trainer-runtime, or use --emit=bundle)");
      mind::runtime::writeEmbeddedExecutable(runtime, bundle, outPath);
    }
  } catch (const std::exception &e) {
    fail(e.what());
  }
  llvm::outs() << llvm::formatv(
      "mindc: wrote {0} ({1}): {2} steps, {3} kernels, arena {4:f1} MiB, "
      "cubin {5} KiB ({6}), PTX {7} KiB\n",
      outPath, emitKind, bundle.plan.steps.size(), bundle.plan.kernels.size(),
      bundle.plan.arenaBytes / 1048576.0, bundle.cubin.size() / 1024,
      archOpt.getValue(), bundle.ptx.size() / 1024);
  return 0;
}

int runEval(MLIRContext &ctx) {
  if (weightsPath.empty() || batchPath.empty() || outPath.empty())
    fail("eval needs --weights, --batch and -o");
  if (accumulationSteps < 1)
    fail("--accumulation_steps must be positive");
  auto cfg = loadConfigOrDie();
  try {
    auto batch = mind::runtime::SafetensorsFile::load(batchPath);
    ref::Tensor ids = readTokens(batch, "ids");
    ref::Tensor targets = readTokens(batch, "targets");
    ref::Tensor mask = readTokens(batch, "mask");
    if (targets.shape != ids.shape || mask.shape != ids.shape)
      fail(batchPath + ": ids, targets and mask must have the same shape");
    for (double id : ids.data)
      if (id < 0 || id >= cfg.vocabSize)
        fail(batchPath + ": token id " + std::to_string((int64_t)id) +
             " is outside the vocabulary [0, " +
             std::to_string(cfg.vocabSize) + ")");
    auto module = buildForward(ctx, cfg, {ids.shape[0], ids.shape[1]});
    runStages(*module, "train", "float32");
    auto step = module->lookupSymbol<func::FuncOp>("train_step");
    auto params = mind::CpuTrainer::parameters(step);
    auto weights = mind::runtime::SafetensorsFile::load(weightsPath);
    auto values = mind::loadParameters(weights, params);

    std::vector<ref::Tensor> args;
    for (auto [p, w] : llvm::zip(params, values))
      args.push_back(ref::Tensor::fromData(p.shape, {w.begin(), w.end()}));
    args.push_back(ids);
    args.push_back(targets);
    args.push_back(mask);
    args.push_back(ref::Tensor::fromData(
        {}, {1.0 / static_cast<double>(accumulationSteps)}));
    // The logits are the cross-entropy's operand inside the step.
    Value logits;
    step.walk([&](mind::CrossEntropyOp op) { logits = op.getLogits(); });
    std::vector<ref::Tensor> tapped;
    mind::Interpreter interp;
    auto results = interp.run(step, args, {logits}, &tapped);

    mind::runtime::SafetensorsWriter out;
    auto toF32 = [](const ref::Tensor &t) {
      return std::vector<float>(t.data.begin(), t.data.end());
    };
    out.addF32("loss", {}, toF32(results[0]));
    out.addF32("aux_loss", {}, toF32(results[1]));
    out.addF32("logits", tapped[0].shape, toF32(tapped[0]));
    for (size_t i = 0; i < params.size(); ++i)
      out.addF32("grad." + params[i].name, params[i].shape,
                 toF32(results[2 + i]));
    out.setMetadata("config", configPath);
    out.write(outPath);
    llvm::outs() << llvm::formatv("loss {0:f6}  aux_loss {1:f6}  -> {2}\n",
                                  results[0].data[0], results[1].data[0],
                                  outPath);
  } catch (const std::exception &e) {
    fail(e.what());
  }
  return 0;
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  registerMLIRContextCLOptions();
  registerPassManagerCLOptions();
  registerAsmPrinterCLOptions();

  std::string command = argc > 1 ? argv[1] : "";
  if (command == "" || command == "--help" || command == "-h" ||
      command == "help") {
    llvm::outs() << kOverview
                 << "\nRun 'mindc COMMAND --help' for a command's options.\n";
    return command.empty() ? 1 : 0;
  }
  auto which = llvm::StringSwitch<int>(command)
                   .Case("ir", 0)
                   .Case("report", 1)
                   .Case("eval", 2)
                   .Case("compile", 3)
                   .Default(-1);
  if (which < 0)
    fail("unknown command '" + command +
         "' (expected ir, report, compile or eval)");

  // Shift the command out so that the option parser sees "mindc CONFIG ...".
  std::vector<const char *> args{argv[0]};
  for (int i = 2; i < argc; ++i)
    args.push_back(argv[i]);
  std::string toolName = "mindc " + command;
  args[0] = toolName.c_str();
  std::vector<const cl::OptionCategory *> cats = {&cl::getGeneralCategory(),
                                                 &dtypeCat};
  if (which == 0)
    cats.insert(cats.end(), {&irCat, &shapeCat});
  if (which == 1)
    cats.insert(cats.end(), {&reportCat, &shapeCat, &irCat});
  if (which == 2)
    cats.push_back(&evalCat);
  if (which == 3)
    cats.insert(cats.end(), {&compileCat, &shapeCat});
  cl::HideUnrelatedOptions(cats);
  cl::ParseCommandLineOptions(static_cast<int>(args.size()), args.data(),
                              kOverview);

  DialectRegistry registry;
  mind::registerAllDialects(registry);
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  switch (which) {
  case 0:
    return runIr(ctx);
  case 1:
    return runReport(ctx);
  case 2:
    return runEval(ctx);
  default:
    return runCompile(ctx, argv[0]);
  }
}
