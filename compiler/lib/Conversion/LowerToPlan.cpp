//===- LowerToPlan.cpp - the mind-lower-to-plan pass ----------------------===//
//
// Binds @train_step's arguments and results to persistent buffers, lowers
// every op through its PlanLoweringOpInterface model, and adds the gradient
// values that no producer writes into its accumulator (see Passes.td).
//
//===----------------------------------------------------------------------===//

#include "mind/Conversion/Passes.h"
#include "mind/Conversion/PlanLowering.h"
#include "mind/Dialect/Plan/IR/PlanUtils.h"
#include "mind/Dialect/Mind/IR/MindOps.h"
#include "mind/abi/KernelSpecs.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringMap.h"

namespace mind {
#define GEN_PASS_DEF_MINDLOWERTOPLAN
#include "mind/Conversion/Passes.h.inc"
} // namespace mind

using namespace mlir;
using namespace mind;
namespace k = mind::runtime::kernels;

namespace {

/// A returned gradient and the accumulator it reaches, in the order the
/// accumulate launches run: per gradient result, the values of its sum tree
/// (left before right) that no producer writes into the accumulator.
void collectPending(Value v, Value accumulator, const PlanLowering &L,
                    SmallVectorImpl<std::pair<Value, Value>> &pending) {
  Operation *def = v.getDefiningOp();
  if (def && def->hasAttr(kGradientSinkAttr)) {
    if (auto add = dyn_cast<AddOp>(def)) {
      collectPending(add.getLhs(), accumulator, L, pending);
      collectPending(add.getRhs(), accumulator, L, pending);
    }
    // A marked cast's GEMM writes the accumulator itself.
    return;
  }
  if (!L.sinkOf(v))
    pending.push_back({v, accumulator});
}

LogicalResult lowerBody(func::FuncOp fn, PlanLowering &L) {
  Block &body = fn.getBody().front();
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  auto argAttr = [&](BlockArgument a, const char *name) {
    return fn.getArgAttrOfType<StringAttr>(a.getArgNumber(), name);
  };

  // Results: gradients (mind.grad = "<param>") and losses, in order.
  SmallVector<unsigned> losses;
  llvm::StringMap<unsigned> gradResults;
  for (unsigned i = 0; i < fn.getNumResults(); ++i) {
    auto name = fn.getResultAttrOfType<StringAttr>(i, "mind.grad");
    if (!name)
      losses.push_back(i);
    else if (!gradResults.try_emplace(name.getValue(), i).second)
      return fn.emitError("lower-to-plan: two gradient results for '")
             << name.getValue() << "'";
  }

  // Persistent buffers, in this order: parameters (fp32 masters), their
  // gradient accumulators (same order: the optimizer pairs them by
  // position), inputs, outputs.
  SmallVector<StringAttr> params;
  llvm::StringMap<unsigned> paramArgs;
  for (BlockArgument arg : body.getArguments())
    if (StringAttr name = argAttr(arg, "mind.param")) {
      paramArgs[name.getValue()] = arg.getArgNumber();
      if (!cast<RankedTensorType>(arg.getType()).getElementType().isF32())
        return fn.emitError("lower-to-plan: parameter '")
               << name.getValue() << "' must be an f32 tensor";
      L.bind(arg, plan::BufferKind::param, name.str());
      params.push_back(name);
    }
  if (gradResults.size() != params.size())
    return fn.emitError("lower-to-plan: expects one gradient result per "
                        "parameter");
  SmallVector<std::pair<Value, Value>> grads; // returned value, accumulator
  for (StringAttr name : params) {
    auto it = gradResults.find(name.getValue());
    if (it == gradResults.end())
      return fn.emitError("lower-to-plan: parameter '")
             << name.getValue() << "' has no gradient result (mind.grad = \""
             << name.getValue() << "\")";
    Value g = ret.getOperand(it->second);
    auto gradType = cast<RankedTensorType>(g.getType());
    auto paramType = cast<RankedTensorType>(
        body.getArgument(paramArgs.lookup(name.getValue())).getType());
    if (gradType.getShape() != paramType.getShape() ||
        !isa<FloatType>(gradType.getElementType()))
      return fn.emitError("lower-to-plan: the gradient of '")
             << name.getValue() << "' is " << gradType << ", its parameter "
             << paramType << " (a float gradient of the same shape)";
    Value acc = L.persistent(plan::BufferKind::grad, name.str() + ".grad",
                             runtime::DType::F32,
                             cast<RankedTensorType>(g.getType()).getShape());
    L.setGradAccumulator(name.getValue(), acc);
    grads.push_back({g, acc});
  }
  // Weight copies (mind-weight-copies): if any parameter has one, every
  // parameter gets one, in parameter order (the optimizer rewrites the
  // whole copy region); unread ones cost half their parameter's bytes.
  std::optional<Type> copyType;
  llvm::StringMap<BlockArgument> copyArgs;
  for (BlockArgument arg : body.getArguments())
    if (StringAttr of = argAttr(arg, "mind.param_copy")) {
      Type elem = cast<RankedTensorType>(arg.getType()).getElementType();
      if (!isa<BFloat16Type, Float16Type>(elem) ||
          (copyType && *copyType != elem))
        return fn.emitError("lower-to-plan: weight copies must all be bf16 "
                            "or all f16, '")
               << of.getValue() << "' is " << arg.getType();
      auto param = paramArgs.find(of.getValue());
      if (param == paramArgs.end() ||
          cast<RankedTensorType>(arg.getType()).getShape() !=
              cast<RankedTensorType>(
                  body.getArgument(param->second).getType())
                  .getShape())
        return fn.emitError("lower-to-plan: '")
               << of.getValue()
               << "' has a weight copy but no parameter of its shape";
      if (!copyArgs.try_emplace(of.getValue(), arg).second)
        return fn.emitError("lower-to-plan: two weight copies of '")
               << of.getValue() << "'";
      copyType = elem;
    }
  if (copyType)
    for (StringAttr name : params) {
      std::string copy = name.str() + ".copy";
      auto it = copyArgs.find(name.getValue());
      if (it != copyArgs.end()) {
        L.bind(it->second, plan::BufferKind::param_copy, copy);
        continue;
      }
      auto shape = cast<RankedTensorType>(
                       body.getArgument(paramArgs.lookup(name.getValue()))
                           .getType())
                       .getShape();
      L.persistent(plan::BufferKind::param_copy, copy,
                   *plan::bufferDtypeOf(RankedTensorType::get(shape, *copyType)),
                   shape);
    }
  for (BlockArgument arg : body.getArguments()) {
    if (argAttr(arg, "mind.param") || argAttr(arg, "mind.param_copy"))
      continue;
    StringAttr input = argAttr(arg, "mind.input");
    if (!input)
      return fn.emitError("lower-to-plan: argument #")
             << arg.getArgNumber() << " is neither a parameter nor an input";
    if (!plan::bufferDtypeOf(arg.getType()))
      return fn.emitError("lower-to-plan: input '")
             << input.getValue() << "' has an unsupported type";
    L.bind(arg, plan::BufferKind::input, input.str());
  }
  const char *lossNames[] = {"loss", "aux_loss"};
  for (auto [k, i] : llvm::enumerate(losses)) {
    Value v = ret.getOperand(i);
    std::string name = k < 2 ? lossNames[k] : "loss" + std::to_string(k);
    if (L.isBound(v))
      return emitError(v.getLoc(), "lower-to-plan: output '")
             << name << "' must be computed by an op";
    if (!plan::bufferDtypeOf(v.getType()))
      return emitError(v.getLoc(), "lower-to-plan: output '")
             << name << "' has an unsupported type " << v.getType();
    L.bind(v, plan::BufferKind::output, name);
  }

  for (Operation &op : body.without_terminator()) {
    if (op.hasAttr(kGradientSinkAttr))
      continue; // summed or cast into an accumulator by its producers
    for (Value r : op.getResults())
      if (!plan::bufferDtypeOf(r.getType()) ||
          !isa<RankedTensorType>(r.getType()))
        return op.emitOpError("lower-to-plan: element type ")
               << cast<ShapedType>(r.getType()).getElementType()
               << " has no GPU lowering";
    auto lowering = dyn_cast<PlanLoweringOpInterface>(&op);
    if (!lowering)
      return op.emitOpError("lower-to-plan: no GPU lowering for this op yet");
    L.setCurrentOp(&op);
    try {
      if (failed(lowering.lowerToPlan(L)))
        return failure();
    } catch (const std::exception &e) {
      return op.emitOpError("lower-to-plan: ") << e.what();
    }
  }

  SmallVector<std::pair<Value, Value>> pending;
  for (auto [v, acc] : grads)
    collectPending(v, acc, L, pending);
  for (auto [v, acc] : pending) {
    L.setCurrentOp(v.getDefiningOp());
    int64_t n = cast<RankedTensorType>(v.getType()).getNumElements();
    L.kernel(k::accumulate(PlanLowering::dtypeOf(v), n),
             PlanLowering::Buffer(acc), L.buf(v), runtime::kabi::I64(n));
  }
  return success();
}

struct MindLowerToPlanPass
    : public mind::impl::MindLowerToPlanBase<MindLowerToPlanPass> {
  using MindLowerToPlanBase::MindLowerToPlanBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto fn = module.lookupSymbol<func::FuncOp>(funcName);
    if (!fn || fn.isDeclaration() || !fn.getBody().hasOneBlock()) {
      module.emitError() << "lower-to-plan: no single-block function named '"
                         << funcName << "'";
      return signalPassFailure();
    }
    OpBuilder b(fn);
    auto step = plan::MicroStepOp::create(b, fn.getLoc(), fn.getSymName(),
                                          /*arena_bytes=*/nullptr);
    step.getBody().emplaceBlock();
    PlanLowering lowering(step);
    LogicalResult lowered = failure();
    try {
      lowered = lowerBody(fn, lowering);
    } catch (const std::exception &e) {
      fn.emitError("lower-to-plan: ") << e.what();
    }
    if (failed(lowered)) {
      step.erase();
      return signalPassFailure();
    }
    fn.erase();
  }
};

} // namespace
