//===- mindc.cpp - the mindc compiler driver ------------------------------===//
//
//   mindc ir INPUT [--stage=forward|train|fused|lowered|plan] [--dump-ir=DIR]
//                                                    print IR (or the plan)
//   mindc report INPUT [--json]                              sizes and FLOPs
//   mindc compile INPUT -o OUT [--emit=trainer|bundle|cuda]  the GPU trainer
//   mindc eval CONFIG --weights W --batch B -o OUT           run a train step
//
// INPUT is a MiniMind config.json or a .mlir module. The compiler's work is
// in its libraries (pipelines, lowering, CompileBundle.h); this file is the
// command line.
//
// Standard MLIR flags (--mlir-print-ir-after-all, --mlir-timing, ...) work
// for every command that runs passes.
//
//===----------------------------------------------------------------------===//

#include "mind/Analysis/Cost.h"
#include "mind/Bundle/CompileBundle.h"
#include "mind/Dialect/Mind/IR/MindOps.h"
#include "mind/Frontend/MiniMind.h"
#include "mind/InitAll.h"
#include "mind/Interpreter/CpuTrainer.h"
#include "mind/Pipelines/Pipelines.h"
#include "mind/abi/Files.h"
#include "mind/io/Checkpoint.h"
#include "mind/io/Safetensors.h"

#include "mlir/IR/AsmState.h"
#include "mlir/Parser/Parser.h"
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
#include "llvm/Support/SourceMgr.h"
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
cl::OptionCategory shapeCat("Micro-step shape (ir, report, compile)");
cl::OptionCategory dtypeCat("Precision and fusion");

cl::opt<std::string> inputPath(cl::Positional,
                               cl::desc("CONFIG.json or MODULE.mlir"),
                               cl::Required);
cl::opt<std::string> stage(
    "stage",
    cl::desc("IR stage to print: forward, train, fused, lowered (the plan "
             "dialect, memory planned) or plan (the runtime's plan as text)"),
    cl::init("train"), cl::cat(irCat));
cl::opt<std::string> dumpDir("dump-ir",
                             cl::desc("Write the IR after every stage to DIR"),
                             cl::value_desc("DIR"), cl::cat(irCat));
cl::opt<std::string> dtypeOpt(
    "dtype",
    cl::desc("Compute type: bfloat16 (MiniMind's default), float16 or "
             "float32 (eval defaults to float32, to check numerics)"),
    cl::init(""), cl::cat(dtypeCat));
cl::list<std::string> disableFusion(
    "disable-fusion",
    cl::desc("Fusions to leave out, comma-separated (the names: 'mindc "
             "--help'; each is a pass in docs/MindPasses.md)"),
    cl::CommaSeparated, cl::cat(dtypeCat));
cl::opt<bool> jsonOut("json", cl::desc("Print the report as JSON"),
                      cl::cat(reportCat));
cl::opt<int64_t> batchSize(
    "batch_size", cl::desc("Sequences per micro-step (CONFIG.json input)"),
    cl::init(32), cl::cat(shapeCat));
cl::opt<int64_t> maxSeqLen(
    "max_seq_len",
    cl::desc("Tokens per sample; a micro-step trains max_seq_len - 1 "
             "(CONFIG.json input)"),
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

Commands (INPUT: a MiniMind CONFIG.json, or a MODULE.mlir holding @forward or
@train_step, e.g. what `mindc ir --stage=forward` printed, then edited):
  mindc ir INPUT [--stage=forward|train|fused|lowered|plan] [--dump-ir=DIR] [--dtype=T] [MLIR flags]
      Print the IR of the model at a stage (default: train, bfloat16);
      lowered: the plan dialect; plan: the GPU plan as text (buffers with
      their arena offsets, then every step).
  mindc report INPUT [--json]
      Parameter count, matmul FLOPs per token and per micro-step, planned
      device memory.
  mindc compile INPUT -o OUT [--emit=trainer|bundle|cuda] [--dtype=T] [--arch=sm_90a]
      Compile the training step for the GPU: a trainer executable (the
      mind-trainer runtime with the bundle embedded), the bundle alone, or
      the CUDA source of the kernels emitted from the IR.
  mindc eval CONFIG --weights W.safetensors --batch B.safetensors -o OUT.safetensors
      Run one train step on the reference interpreter and write loss,
      aux_loss, logits and grad.<param>.
)";

/// The overview's last lines: the fusions come from the pipeline's own list.
std::string fusionHelp() {
  std::string names;
  for (const std::string &n : mind::fusionNames())
    names += (names.empty() ? "" : ",") + n;
  return "ir, report and compile take --disable-fusion=NAME,... to leave "
         "fusions out\n(the result trains the same model); NAME is one of " +
         names + ".\n";
}

[[noreturn]] void fail(const std::string &msg) {
  llvm::errs() << "mindc: error: " << msg << "\n";
  std::exit(1);
}

mind::MiniMindConfig loadConfigOrDie() {
  try {
    auto parsed = mind::loadConfig(inputPath);
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
    fail(inputPath + ": " + e.what());
  }
}

/// The stages a module goes through, in order.
enum class Stage { Forward, Train, Fused, Lowered };

Stage parseStage(llvm::StringRef s) {
  if (s == "forward")
    return Stage::Forward;
  if (s == "train")
    return Stage::Train;
  if (s == "fused")
    return Stage::Fused;
  if (s == "lowered" || s == "plan")
    return Stage::Lowered;
  fail("--stage must be 'forward', 'train', 'fused', 'lowered' or 'plan', "
       "got '" + s.str() + "'");
}

/// The model to compile and where it stands: built from a config (at the
/// forward stage), or parsed from a .mlir module.
struct Input {
  OwningOpRef<ModuleOp> module;
  Stage stage = Stage::Forward;
  nlohmann::json config; // MiniMind's config.json keys (null: unknown)
  mind::TrainShape shape;
};

Input loadInput(MLIRContext &ctx) {
  Input in;
  if (!llvm::StringRef(inputPath).ends_with(".mlir")) {
    mind::MiniMindConfig cfg = loadConfigOrDie();
    in.shape = {batchSize, maxSeqLen - 1};
    in.module = buildForward(ctx, cfg, in.shape);
    in.config = mind::toJson(cfg);
    return in;
  }
  llvm::SourceMgr sources;
  in.module = parseSourceFile<ModuleOp>(inputPath, sources, &ctx);
  if (!in.module)
    fail("cannot parse " + inputPath);
  auto fn = in.module->lookupSymbol<func::FuncOp>("train_step");
  in.stage = Stage::Train;
  if (!fn) {
    fn = in.module->lookupSymbol<func::FuncOp>("forward");
    in.stage = Stage::Forward;
  }
  if (!fn || fn.isDeclaration())
    fail(inputPath + ": expected a function @forward or @train_step");
  if (auto cfg = in.module->getOperation()->getAttrOfType<StringAttr>(
          "mind.config")) {
    in.config = nlohmann::json::parse(cfg.getValue().str(), nullptr, false);
    if (in.config.is_discarded() || !in.config.is_object())
      fail(inputPath + ": the module's mind.config is not a JSON object");
  }
  for (unsigned i = 0; i < fn.getNumArguments(); ++i)
    if (auto name = fn.getArgAttrOfType<StringAttr>(i, "mind.input"))
      if (name.getValue() == "ids") {
        auto t = dyn_cast<RankedTensorType>(fn.getArgument(i).getType());
        if (t && t.getRank() == 2) {
          in.shape = {t.getDimSize(0), t.getDimSize(1)};
          return in;
        }
      }
  fail(inputPath + ": @" + fn.getSymName().str() +
       " needs an input `mind.input = \"ids\"` of shape [batch, seq]");
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

/// Takes `in` from its stage to `target`: precision and autodiff for
/// train, the fusions not disabled for fused, lowering to the plan dialect
/// and memory planning for lowered.
void runStages(Input &in, Stage target,
               llvm::StringRef defaultDtype = "bfloat16") {
  std::vector<std::string> disabled(disableFusion.begin(),
                                    disableFusion.end());
  if (std::string err = mind::checkDisabledFusions(disabled); !err.empty())
    fail("--disable-fusion: " + err);
  std::unique_ptr<DumpAfterEachPass> dumper;
  if (!dumpDir.empty()) {
    if (auto ec = llvm::sys::fs::create_directories(dumpDir))
      fail("cannot create " + dumpDir + ": " + ec.message());
    dumper = std::make_unique<DumpAfterEachPass>(dumpDir);
    static const char *names[] = {"forward", "train", "fused", "lowered"};
    dumper->dump(*in.module, names[static_cast<int>(in.stage)]);
  }
  if (target <= in.stage)
    return;
  PassManager pm(in.module->getContext());
  if (failed(applyPassManagerCLOptions(pm)))
    fail("invalid pass manager options");
  if (dumper)
    pm.addInstrumentation(std::move(dumper));
  mind::TrainPipelineOptions options;
  options.dtype = computeType(defaultDtype);
  options.disableFusion = disabled;
  if (in.stage < Stage::Train) {
    mind::buildTrainPipeline(pm, options);
  } else if (!dtypeOpt.empty()) {
    llvm::errs() << "mindc: warning: --dtype is ignored: " << inputPath
                 << " is past the precision stage\n";
  }
  if (in.stage < Stage::Fused && target >= Stage::Fused)
    mind::buildFusionPasses(pm, options);
  if (target >= Stage::Lowered)
    mind::buildLoweringPasses(pm);
  if (failed(pm.run(*in.module)))
    fail("compilation failed");
  in.stage = target;
}

/// The runtime plan of a lowered module.
mind::ExportedPlan exportLowered(Input &in) {
  auto step = in.module->lookupSymbol<mind::plan::MicroStepOp>("train_step");
  if (!step)
    fail("no plan.micro_step @train_step to export");
  FailureOr<mind::ExportedPlan> plan = mind::exportPlan(step);
  if (failed(plan))
    fail("exporting the GPU plan failed");
  return std::move(*plan);
}

int runIr(MLIRContext &ctx) {
  Stage target = parseStage(stage);
  Input in = loadInput(ctx);
  runStages(in, target);
  if (stage == "plan") {
    llvm::outs() << mind::runtime::describePlan(exportLowered(in).plan);
    return 0;
  }
  in.module->print(llvm::outs());
  llvm::outs() << "\n";
  return 0;
}

int runReport(MLIRContext &ctx) {
  Input in = loadInput(ctx);
  runStages(in, Stage::Fused);
  auto fwd = in.module->lookupSymbol<func::FuncOp>("forward");
  auto step = in.module->lookupSymbol<func::FuncOp>("train_step");
  mind::FunctionCost stepCost = mind::analyzeCost(step);
  // A @train_step module has no @forward: the step holds the same params.
  mind::FunctionCost fwdCost = fwd ? mind::analyzeCost(fwd) : stepCost;
  if (!fwd)
    fwdCost.flops = 0;
  int64_t tokens = in.shape.batch * in.shape.seqLen;
  runStages(in, Stage::Lowered);
  mind::ExportedPlan lowered = exportLowered(in);
  mind::PlannedMemory mem = mind::plannedMemory(lowered.plan);
  nlohmann::json j = {
      {"config", inputPath.getValue()},
      {"parameters", fwdCost.parameters},
      {"batch_size", in.shape.batch},
      {"trained_tokens_per_sample", in.shape.seqLen},
      {"tokens_per_micro_step", tokens},
      {"forward_flops_per_token", fwdCost.flops / tokens},
      {"train_flops_per_token", stepCost.flops / tokens},
      {"train_flops_per_micro_step", stepCost.flops},
      {"dtype", computeType("bfloat16")},
      {"planned_device_bytes", mem.total()},
      {"arena_bytes", mem.arenaBytes},
      {"optimizer_state_bytes", mem.optimizerStateBytes},
      {"gemm_workspace_bytes", mem.gemmWorkspaceBytes},
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
  llvm::outs() << "config:                     " << inputPath << "\n"
               << "parameters:                 " << num(fwdCost.parameters)
               << "\n"
               << "micro-step:                 " << in.shape.batch << " x "
               << in.shape.seqLen << " = " << num(tokens) << " tokens\n";
  if (fwd)
    llvm::outs() << "forward FLOPs per token:    "
                 << num(fwdCost.flops / tokens) << "\n";
  llvm::outs() << "train FLOPs per token:      "
               << num(stepCost.flops / tokens) << "\n"
               << "train FLOPs per micro-step: " << num(stepCost.flops)
               << "\n"
               << llvm::formatv("planned device memory:      {0:f1} MiB "
                                "({1}; arena {2:f1} + AdamW state {3:f1} + "
                                "GEMM workspace {4:f1})\n",
                                mem.total() / 1048576.0,
                                computeType("bfloat16"),
                                mem.arenaBytes / 1048576.0,
                                mem.optimizerStateBytes / 1048576.0,
                                mem.gemmWorkspaceBytes / 1048576.0)
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

int runCompile(MLIRContext &ctx, const char *argv0) {
  if (outPath.empty())
    fail("compile needs -o OUT");
  if (emitKind != "trainer" && emitKind != "bundle" && emitKind != "cuda")
    fail("--emit must be 'trainer', 'bundle' or 'cuda', got '" + emitKind +
         "'");
  if (mind::runtime::sameFile(outPath, inputPath))
    fail("-o " + outPath + " is the input: compiling would overwrite it");
  Input in = loadInput(ctx);
  if (emitKind != "cuda" && !in.config.is_object())
    fail(inputPath + ": a module needs a mind.config attribute (the "
         "MiniMind config as JSON, as `mindc ir` writes it) to become a "
         "trainer: checkpoints and data checks read it");
  runStages(in, Stage::Lowered);
  mind::ExportedPlan lowered = exportLowered(in);
  if (emitKind == "cuda") {
    std::error_code ec;
    llvm::raw_fd_ostream os(outPath, ec);
    if (ec)
      fail("cannot write " + outPath + ": " + ec.message());
    os << lowered.emittedSource;
    return 0;
  }
  static const char *names[] = {"float32", "bfloat16", "float16"};
  std::string dtype = computeType("bfloat16");
  mind::BundleOptions options;
  options.arch = archOpt;
  options.config = in.config;
  options.batch = in.shape.batch;
  options.seqLen = in.shape.seqLen;
  options.dtype = dtype == "f32" ? names[0] : dtype == "bf16" ? names[1]
                                                              : names[2];
  std::string mlir;
  llvm::raw_string_ostream os(mlir);
  in.module->print(os);
  mind::runtime::Bundle bundle;
  try {
    bundle = mind::buildBundle(std::move(lowered), options, std::move(mlir));
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
  const std::pair<const char *, const std::string *> inputs[] = {
      {"the config file", &inputPath.getValue()},
      {"the --weights file", &weightsPath.getValue()},
      {"the --batch file", &batchPath.getValue()}};
  for (const auto &[what, path] : inputs)
    if (mind::runtime::sameFile(outPath, *path))
      fail("-o " + outPath + " is " + what + ": writing would overwrite it");
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
    Input in;
    in.shape = {ids.shape[0], ids.shape[1]};
    in.module = buildForward(ctx, cfg, in.shape);
    runStages(in, Stage::Train, "float32");
    auto step = in.module->lookupSymbol<func::FuncOp>("train_step");
    auto params = mind::CpuTrainer::parameters(step);
    // The trainers' loader and its rules (--from_weight reads the same).
    std::vector<mind::runtime::TensorSpec> specs;
    for (const auto &p : params)
      specs.push_back({p.name, p.shape});
    auto values =
        mind::runtime::loadWeightsFile(weightsPath, specs, mind::toJson(cfg));

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
    out.setMetadata("config", inputPath);
    out.write(outPath);
    llvm::outs() << llvm::formatv("loss {0:f6}  aux_loss {1:f6}  -> {2}\n",
                                  results[0].data[0], results[1].data[0],
                                  outPath);
  } catch (const std::exception &e) {
    fail(e.what());
  }
  return 0;
}

/// An option given to a command that ignores it (`mindc compile
/// --stage=forward`) is an error, not silently dropped.
void rejectOptionsOfOtherCommands(
    const std::string &toolName,
    const std::vector<const cl::OptionCategory *> &cats) {
  for (auto &entry : cl::getRegisteredOptions()) {
    cl::Option *opt = entry.second;
    if (opt->getNumOccurrences() == 0 || entry.first != opt->ArgStr)
      continue;
    bool known = llvm::any_of(opt->Categories, [&](cl::OptionCategory *c) {
      return llvm::is_contained(cats, c);
    });
    if (!known)
      fail((opt->ArgStr.size() > 1 ? "--" : "-") + opt->ArgStr.str() +
           " is not an option of " + toolName +
           " (see '" + toolName + " --help')");
  }
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
    llvm::outs() << kOverview << fusionHelp()
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
  rejectOptionsOfOtherCommands(toolName, cats);

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
