//===- IrFuzzTest.cpp - every pass and pipeline on random mind IR ---------===//
//
// MLIR's rule: no pass may crash on IR the verifier accepts. This test builds
// random verifier-valid @forward functions (MindIrGenerator.h) and runs on
// each every mind pass alone and every pipeline, prints and re-parses what
// they produce, exports and validates the GPU plans, and executes forward
// and train step on the reference interpreter. A pass may refuse an input
// (an error diagnostic); it may not crash, leave invalid IR, or print IR its
// own parser rejects. A second test sets attributes to extreme values the
// verifiers must refuse or accept, without crashing.
//
// Deterministic: fixed seeds, the same inputs every run. A crash prints the
// seed, the stage and the module before the process dies;
// MIND_IR_FUZZ_SEED=S reruns that case alone. MIND_IR_FUZZ_CASES=N tries N
// functions instead of the default.
//
//===----------------------------------------------------------------------===//

#include "MindIrGenerator.h"
#include "MessageClasses.h"

#include "mind/Analysis/Cost.h"
#include "mind/Conversion/ExportPlan.h"
#include "mind/InitAll.h"
#include "mind/Interpreter/Interpreter.h"
#include "mind/abi/Bundle.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <random>
#include <unistd.h>

using namespace mlir;
using mind::fuzz::MessageClasses;

namespace {

//===-- What the process was doing, for a crash report --------------------===//

std::string gCrashContext;

extern "C" void onFatalSignal(int sig) {
  const char head[] = "\n*** IR fuzz: fatal signal while ";
  (void)!write(2, head, sizeof(head) - 1);
  (void)!write(2, gCrashContext.data(), gCrashContext.size());
  (void)!write(2, "\n", 1);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void installCrashReporter() {
  for (int sig : {SIGSEGV, SIGABRT, SIGFPE, SIGBUS, SIGILL})
    std::signal(sig, onFatalSignal);
}

std::string print(Operation *op, bool generic = false) {
  std::string text;
  llvm::raw_string_ostream os(text);
  OpPrintingFlags flags;
  if (generic)
    flags.printGenericOpForm();
  op->print(os, flags);
  return text;
}

//===-- The stages ---------------------------------------------------------===//

/// Every pass alone on @forward, then every pipeline.
const std::vector<std::pair<std::string, std::string>> kStages = {
    {"autodiff", "mind-autodiff"},
    {"precision-bf16", "mind-precision{dtype=bf16}"},
    {"precision-f16", "mind-precision{dtype=f16}"},
    {"precision-f32", "mind-precision{dtype=f32}"},
    {"weight-copies", "mind-weight-copies{func=forward}"},
    {"rmsnorm-cast", "mind-fuse-rmsnorm-cast"},
    {"loss-cast", "mind-fuse-loss-cast"},
    {"add-rmsnorm", "mind-fuse-add-rmsnorm"},
    {"attention-rope", "mind-fuse-attention-rope"},
    {"recompute-silu", "mind-recompute-silu"},
    {"gradient-sinks", "mind-mark-gradient-sinks{func=forward}"},
    {"lm-head-chunks", "mind-chunk-lm-head{chunk-rows=16}"},
    {"fuse-elementwise", "mind-fuse-elementwise"},
    {"lower-forward", "mind-lower-to-plan{func=forward},mind-plan-memory"},
    {"train-f32", "mind-train-pipeline{dtype=f32}"},
    {"train-bf16", "mind-train-pipeline{dtype=bf16}"},
    {"train-f16", "mind-train-pipeline{dtype=f16}"},
    {"fused-bf16", "mind-fused-pipeline{dtype=bf16}"},
    {"plan-f32", "mind-plan-pipeline{dtype=f32}"},
    {"plan-bf16", "mind-plan-pipeline{dtype=bf16}"},
    {"plan-f16-unfused",
     "mind-plan-pipeline{dtype=f16 disable-fusion=gradient-sinks,elementwise}"},
};

class IrFuzz : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    mind::registerAllPasses();
    installCrashReporter();
  }
  void SetUp() override {
    DialectRegistry registry;
    mind::registerAllDialects(registry);
    ctx = std::make_unique<MLIRContext>(registry);
    ctx->loadAllAvailableDialects();
    ctx->disableMultithreading();
    // Errors are outcomes here, not output.
    handler = std::make_unique<ScopedDiagnosticHandler>(
        ctx.get(), [this](Diagnostic &d) {
          if (d.getSeverity() == DiagnosticSeverity::Error &&
              firstError.empty())
            firstError = d.str();
          return success();
        });
  }

  /// Runs `pipeline` on a copy of `module`: the result, or null with the
  /// first error in `firstError`.
  OwningOpRef<ModuleOp> runStage(ModuleOp module, const std::string &pipeline) {
    firstError.clear();
    OwningOpRef<ModuleOp> copy = cast<ModuleOp>(module->clone());
    PassManager pm(ctx.get());
    if (failed(parsePassPipeline(pipeline, pm))) {
      ADD_FAILURE() << "bad pipeline " << pipeline;
      return nullptr;
    }
    if (failed(pm.run(*copy)))
      return nullptr;
    return copy;
  }

  /// Printing then parsing gives IR that verifies (custom and generic form).
  void expectRoundTrip(ModuleOp module, const std::string &what) {
    for (bool generic : {false, true}) {
      std::string text = print(module, generic);
      firstError.clear();
      OwningOpRef<ModuleOp> parsed = parseSourceString<ModuleOp>(
          text, ParserConfig(ctx.get()));
      EXPECT_TRUE(parsed) << what << ": the printed IR does not parse back ("
                          << firstError << ")\n"
                          << text;
      ++roundTrips;
    }
  }

  void interpret(ModuleOp module, StringRef name, const std::string &stage,
                 uint64_t seed);

  std::unique_ptr<MLIRContext> ctx;
  std::unique_ptr<ScopedDiagnosticHandler> handler;
  std::string firstError;
  MessageClasses outcomes;
  int64_t roundTrips = 0;
};

/// Element count of a type's tensor, or -1 when it does not fit an int64
/// or a dimension is large (an empty tensor of a huge dimension may still
/// loop over it).
int64_t elementsOf(Type t) {
  auto ty = dyn_cast<RankedTensorType>(t);
  if (!ty)
    return 0;
  int64_t n = 1;
  for (int64_t d : ty.getShape())
    if (d > 20000 || llvm::MulOverflow(n, d, n))
      return -1;
  return n;
}

/// Runs @name on random inputs; the interpreter may refuse with an error
/// (an index out of range), never crash. Skips functions with large tensors.
void IrFuzz::interpret(ModuleOp module, StringRef name,
                       const std::string &stage, uint64_t seed) {
  auto fn = module.lookupSymbol<func::FuncOp>(name);
  if (!fn)
    return;
  int64_t total = 0;
  bool large = false;
  fn.walk([&](Operation *op) {
    for (Type t : llvm::concat<const Type>(op->getOperandTypes(),
                                           op->getResultTypes())) {
      int64_t n = elementsOf(t);
      large |= n < 0 || n > 20000;
      total += std::max<int64_t>(n, 0);
    }
  });
  for (Type t : fn.getArgumentTypes())
    large |= elementsOf(t) < 0 || elementsOf(t) > 20000;
  if (large || total > 200000) {
    outcomes.add(stage, "skipped (tensors too large to interpret)");
    return;
  }
  std::mt19937_64 rng(seed);
  std::vector<mind::ref::Tensor> args;
  for (Type t : fn.getArgumentTypes()) {
    auto ty = cast<RankedTensorType>(t);
    mind::ref::Tensor x(
        std::vector<int64_t>(ty.getShape().begin(), ty.getShape().end()));
    bool isFloat = isa<FloatType>(ty.getElementType());
    // Integers are mostly 0 and 1 (in range for any index operand), else
    // -1..4.
    for (double &v : x.data)
      v = isFloat ? std::uniform_real_distribution<double>(-2, 2)(rng)
          : std::bernoulli_distribution(0.9)(rng)
              ? static_cast<double>(rng() % 2)
              : static_cast<double>(
                    std::uniform_int_distribution<int>(-1, 4)(rng));
    args.push_back(std::move(x));
  }
  try {
    mind::Interpreter().run(fn, args);
    outcomes.add(stage, "");
  } catch (const std::exception &e) {
    outcomes.add(stage, e.what());
  }
}

/// MIND_IR_FUZZ_SEED=S reruns the one case a crash report named.
int64_t caseCount(int64_t fallback) {
  if (std::getenv("MIND_IR_FUZZ_SEED"))
    return 1;
  if (const char *n = std::getenv("MIND_IR_FUZZ_CASES"))
    return std::atoll(n);
  return fallback;
}

uint64_t caseSeed(uint64_t base, int64_t i) {
  if (const char *s = std::getenv("MIND_IR_FUZZ_SEED"))
    return std::strtoull(s, nullptr, 0);
  return base + static_cast<uint64_t>(i);
}

TEST_F(IrFuzz, EveryPassAndPipelineOnRandomFunctions) {
  const int64_t cases = caseCount(3000);
  std::map<std::string, int64_t> opsSeen;
  int64_t trainSteps = 0, plans = 0;
  for (int64_t i = 0; i < cases; ++i) {
    uint64_t seed = caseSeed(0x5eed0000, i);
    gCrashContext = "generating seed " + std::to_string(seed);
    OwningOpRef<ModuleOp> module = mind::fuzz::generateForward(*ctx, seed);
    std::string text = print(*module);
    auto context = [&](const std::string &stage) {
      gCrashContext = stage + " on seed " + std::to_string(seed) + ":\n" + text;
    };
    context("verifying");
    firstError.clear();
    ASSERT_TRUE(succeeded(verify(*module)))
        << "the generator built invalid IR (seed " << seed
        << "): " << firstError << "\n"
        << text;
    module->walk([&](Operation *op) {
      if (op->getDialect() && op->getDialect()->getNamespace() == "mind")
        ++opsSeen[op->getName().getStringRef().str()];
    });
    context("round-tripping @forward");
    expectRoundTrip(*module, "seed " + std::to_string(seed));
    context("analyzing the cost of @forward");
    mind::analyzeCost(module->lookupSymbol<func::FuncOp>("forward"));
    context("interpreting @forward");
    interpret(*module, "forward", "interpret-forward", seed);

    for (const auto &[stage, pipeline] : kStages) {
      context("running " + pipeline);
      OwningOpRef<ModuleOp> out = runStage(*module, pipeline);
      outcomes.add(stage, out ? "" : firstError);
      if (!out)
        continue;
      context("round-tripping the result of " + pipeline);
      expectRoundTrip(*out, stage + ", seed " + std::to_string(seed));
      if (stage == "autodiff") {
        context("interpreting @train_step");
        interpret(*out, "train_step", "interpret-train-step", seed);
        if (auto step = out->lookupSymbol<func::FuncOp>("train_step"))
          mind::analyzeCost(step);
      }
      if (out->lookupSymbol<func::FuncOp>("train_step"))
        ++trainSteps;
      auto micro = out->lookupSymbol<mind::plan::MicroStepOp>("train_step");
      if (stage.rfind("plan-", 0) == 0 && micro) {
        ++plans;
        context("exporting the plan of " + pipeline);
        FailureOr<mind::ExportedPlan> plan = mind::exportPlan(micro);
        ASSERT_TRUE(succeeded(plan)) << "seed " << seed << ": " << firstError;
        // NVRTC (not run here) names the compiled symbols.
        for (mind::runtime::KernelEntry &k : plan->plan.kernels)
          k.loweredName = "compiled " + k.nameExpr;
        try {
          mind::runtime::validatePlan(plan->plan);
          outcomes.add("plan-validate", "");
        } catch (const std::exception &e) {
          ADD_FAILURE() << "seed " << seed << ", " << stage
                        << ": the exported plan is invalid: " << e.what();
        }
      }
    }
  }
  gCrashContext.clear();
  // The stages did run: most functions differentiate and lower (a
  // pipeline that silently did nothing would pass every case).
  EXPECT_GT(trainSteps, cases);
  EXPECT_GT(plans, cases / 2);
  // Every op was drawn (else the generator lost one).
  for (const std::string &name : mind::fuzz::generatedOpNames())
    EXPECT_GT(opsSeen[name], 0) << name << " was never generated";
  std::printf("IR fuzz: %lld functions, %zu op kinds, %lld round trips, "
              "%lld train steps, %lld plans exported and validated\n",
              static_cast<long long>(cases), opsSeen.size(),
              static_cast<long long>(roundTrips),
              static_cast<long long>(trainSteps), static_cast<long long>(plans));
  outcomes.print(stdout);
}

TEST_F(IrFuzz, ExtremeAttributesAreVerifiedWithoutCrashing) {
  const int64_t cases = caseCount(2000);
  int64_t rejected = 0, accepted = 0;
  for (int64_t i = 0; i < cases; ++i) {
    uint64_t seed = caseSeed(0xa77e0000, i);
    gCrashContext = "generating seed " + std::to_string(seed);
    OwningOpRef<ModuleOp> module = mind::fuzz::generateForward(*ctx, seed);
    std::string change = mind::fuzz::mutateAttribute(*module, seed);
    if (change.empty())
      continue;
    gCrashContext = "verifying (" + change + ") on seed " +
                    std::to_string(seed) + ":\n" + print(*module, true);
    firstError.clear();
    if (failed(verify(*module))) {
      ++rejected;
      outcomes.add("verify-extreme-attribute", firstError);
      continue;
    }
    ++accepted;
    outcomes.add("verify-extreme-attribute", "");
    for (const auto &[stage, pipeline] : kStages) {
      if (stage.rfind("plan-", 0) != 0 && stage != "autodiff")
        continue;
      gCrashContext = "running " + pipeline + " (" + change + ") on seed " +
                      std::to_string(seed) + ":\n" + print(*module, true);
      OwningOpRef<ModuleOp> out = runStage(*module, pipeline);
      outcomes.add(stage + "-extreme-attribute", out ? "" : firstError);
    }
    gCrashContext = "interpreting (" + change + ") on seed " +
                    std::to_string(seed);
    interpret(*module, "forward", "interpret-extreme-attribute", seed);
  }
  gCrashContext.clear();
  EXPECT_GT(rejected, 0);
  EXPECT_GT(accepted, 0);
  std::printf("IR fuzz, extreme attributes: %lld rejected by the verifier, "
              "%lld accepted\n",
              static_cast<long long>(rejected),
              static_cast<long long>(accepted));
  outcomes.print(stdout);
}

} // namespace
