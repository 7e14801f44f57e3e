//===- LowerToPlan.cpp - @train_step to a runtime plan --------------------===//

#include "mind/Conversion/LowerToPlan.h"

#include "PlanBuilder.h"
#include "mind/Conversion/MemoryPlanner.h"
#include "mind/Dialect/Mind/IR/MindOps.h"
#include "mind/abi/KernelSpecs.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mind;
using runtime::BufferKind;

FailureOr<LoweredTrainStep> mind::lowerToPlan(func::FuncOp step) {
  if (!step.getBody().hasOneBlock())
    return step.emitError("lower-to-plan: expects a single-block function");
  PlanBuilder pb;
  Block &body = step.getBody().front();
  auto ret = cast<func::ReturnOp>(body.getTerminator());

  // Persistent buffers, in this order: parameters (fp32 masters), gradient
  // accumulators (same order), inputs, outputs.
  SmallVector<std::pair<std::string, Value>> params;
  for (BlockArgument arg : body.getArguments())
    if (auto name = step.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                      "mind.param")) {
      if (failed(pb.bindArgument(arg, name.str(), BufferKind::Param)))
        return step.emitError("lower-to-plan: parameter '")
               << name.getValue() << "' must be an f32 tensor";
      params.push_back({name.str(), arg});
    }
  unsigned numLosses = 0;
  for (unsigned i = 0; i < step.getNumResults(); ++i)
    if (!step.getResultAttr(i, "mind.grad"))
      ++numLosses;
  if (step.getNumResults() - numLosses != params.size())
    return step.emitError("lower-to-plan: expects one gradient result per "
                          "parameter");
  for (unsigned i = numLosses; i < step.getNumResults(); ++i) {
    auto name = step.getResultAttrOfType<StringAttr>(i, "mind.grad");
    pb.addGradAccumulator(name.str(), ret.getOperand(i));
  }
  for (BlockArgument arg : body.getArguments()) {
    auto input =
        step.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "mind.input");
    if (step.getArgAttr(arg.getArgNumber(), "mind.param"))
      continue;
    if (!input)
      return step.emitError("lower-to-plan: argument #")
             << arg.getArgNumber() << " is neither a parameter nor an input";
    if (failed(pb.bindArgument(arg, input.str(), BufferKind::Input)))
      return step.emitError("lower-to-plan: input '")
             << input.getValue() << "' has an unsupported type";
  }
  const char *lossNames[] = {"loss", "aux_loss"};
  for (unsigned i = 0; i < numLosses; ++i)
    if (failed(pb.bindOutput(ret.getOperand(i),
                             i < 2 ? lossNames[i] : "loss" + std::to_string(i))))
      return failure();

  pb.planGradientSinks();
  for (Operation &op : body.without_terminator())
    if (failed(pb.lowerOp(&op)))
      return failure();
  pb.accumulateGradients();
  std::string emitted = pb.emittedSource();
  runtime::Plan plan = pb.finish();
  // The runtime's optimizer step (norm, clip, AdamW, loss scaling) launches
  // these from the same cubin.
  for (const std::string &name : runtime::kernels::optimizerKernelNames()) {
    runtime::KernelEntry entry;
    entry.nameExpr = name;
    entry.params = runtime::kabi::resolveLibraryKernel(name);
    plan.kernels.push_back(std::move(entry));
  }
  return LoweredTrainStep{std::move(plan), std::move(emitted)};
}
