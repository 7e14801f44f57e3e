//===- CompileBundle.cpp - from the fused IR to a bundle ------------------===//

#include "mind/Bundle/CompileBundle.h"

#include "mind/Conversion/Passes.h"
#ifdef MIND_HAVE_NVRTC
#include "mind/kernels/Nvrtc.h"
#endif

#include "mlir/Pass/PassManager.h"

using namespace mlir;
using namespace mind;

FailureOr<ExportedPlan> mind::lowerTrainStep(ModuleOp module) {
  PassManager pm(module.getContext());
  pm.addPass(createMindLowerToPlan());
  pm.addPass(createMindPlanMemory());
  if (failed(pm.run(module)))
    return failure();
  auto step = module.lookupSymbol<plan::MicroStepOp>("train_step");
  if (!step)
    return module.emitError("no plan.micro_step @train_step after lowering");
  return exportPlan(step);
}

runtime::Bundle mind::buildBundle(ExportedPlan lowered,
                                  const BundleOptions &options,
                                  std::string mlir) {
  runtime::Bundle bundle;
  bundle.plan = std::move(lowered.plan);
  bundle.plan.config = options.config;
  bundle.plan.meta = {{"batch_size", options.batch},
                      {"seq_len", options.seqLen},
                      {"dtype", options.dtype},
                      {"arch", options.arch},
                      {"compiler", "mindc"}};
#ifndef MIND_HAVE_NVRTC
  throw std::runtime_error("this mindc was built without the CUDA toolkit: it "
                           "cannot compile kernels (rebuild with CUDA 13 at "
                           "/usr/local/cuda)");
#else
  std::string source = runtime::kernelLibrarySource() +
                       "\n// ---- kernels emitted from the IR\n" +
                       lowered.emittedSource;
  std::vector<std::string> nameExprs;
  for (const auto &k : bundle.plan.kernels)
    nameExprs.push_back(k.nameExpr);
  runtime::CompiledKernels compiled;
  try {
    compiled = runtime::compileKernels(source, nameExprs, options.arch);
  } catch (const std::exception &e) {
    throw std::runtime_error(std::string("kernel compilation failed: ") +
                             e.what());
  }
  for (size_t i = 0; i < nameExprs.size(); ++i)
    bundle.plan.kernels[i].loweredName = compiled.loweredNames[i];
  bundle.cubin = std::move(compiled.cubin);
  bundle.ptx = std::move(compiled.ptx);
  bundle.cudaSource = std::move(source);
  bundle.mlir = std::move(mlir);
  runtime::validatePlan(bundle.plan);
  return bundle;
#endif
}

PlannedMemory mind::plannedMemory(const runtime::Plan &plan) {
  PlannedMemory m;
  m.arenaBytes = plan.arenaBytes;
  for (const auto &b : plan.buffers)
    if (b.kind == runtime::BufferKind::Param)
      m.optimizerStateBytes += 2 * b.bytes;
  m.gemmWorkspaceBytes = runtime::kGemmWorkspaceBytes;
  return m;
}
