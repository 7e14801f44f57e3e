//===- Autodiff.cpp - reverse-mode differentiation ------------------------===//
//
// Builds @train_step from @forward: clone the forward body, then emit the
// reverse sweep by calling each op's VJP rule in reverse program order.
//
//===----------------------------------------------------------------------===//

#include "mind/Dialect/Mind/IR/MindOps.h"
#include "mind/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/ScopeExit.h"

namespace mind {
#define GEN_PASS_DEF_MINDAUTODIFF
#include "mind/Transforms/Passes.h.inc"
} // namespace mind

using namespace mlir;
using namespace mind;

namespace {
constexpr llvm::StringLiteral kParamAttr = "mind.param";
constexpr llvm::StringLiteral kGradAttr = "mind.grad";

bool isFloatTensor(Type t) {
  auto ty = dyn_cast<RankedTensorType>(t);
  return ty && isa<FloatType>(ty.getElementType());
}

/// Gradients accumulated so far, summed with mind.add when a value is used
/// more than once.
class GradientMap {
public:
  GradientMap(OpBuilder &b) : builder(b) {}

  void accumulate(Location loc, Value v, Value grad) {
    auto [it, inserted] = grads.try_emplace(v, grad);
    if (!inserted)
      it->second = AddOp::create(builder, loc, it->second, grad);
  }
  Value lookup(Value v) const { return grads.lookup(v); }

private:
  OpBuilder &builder;
  llvm::DenseMap<Value, Value> grads;
};

struct MindAutodiffPass
    : public mind::impl::MindAutodiffBase<MindAutodiffPass> {
  using MindAutodiffBase::MindAutodiffBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (forwardName.empty() || trainStepName.empty()) {
      module.emitError() << "mind-autodiff: the forward and train-step "
                            "options must name functions (got '"
                         << forwardName << "' and '" << trainStepName << "')";
      return signalPassFailure();
    }
    auto forward = module.lookupSymbol<func::FuncOp>(forwardName);
    if (!forward) {
      module.emitError() << "mind-autodiff: no function named '"
                         << forwardName << "' to differentiate";
      return signalPassFailure();
    }
    if (module.lookupSymbol(trainStepName)) {
      forward.emitError() << "mind-autodiff: a symbol named '"
                          << trainStepName << "' already exists";
      return signalPassFailure();
    }
    if (failed(differentiate(forward)))
      signalPassFailure();
  }

  LogicalResult differentiate(func::FuncOp forward) {
    if (!forward.getBody().hasOneBlock())
      return forward.emitError("mind-autodiff: expects a single-block body");
    for (Type t : forward.getResultTypes())
      if (!isFloatTensor(t) || cast<RankedTensorType>(t).getRank() != 0)
        return forward.emitError(
            "mind-autodiff: every result must be a rank-0 float tensor (a "
            "loss), got ")
               << t;

    OpBuilder builder(forward);
    builder.setInsertionPointAfter(forward);
    Location loc = forward.getLoc();
    MLIRContext *ctx = forward.getContext();
    auto scaleType = RankedTensorType::get({}, Float32Type::get(ctx));

    // Signature: forward args + grad_scale -> forward results + param grads.
    SmallVector<Type> argTypes(forward.getArgumentTypes());
    argTypes.push_back(scaleType);
    SmallVector<Type> resultTypes(forward.getResultTypes());
    SmallVector<unsigned> paramArgs;
    for (unsigned i = 0, e = forward.getNumArguments(); i < e; ++i)
      if (forward.getArgAttr(i, kParamAttr)) {
        paramArgs.push_back(i);
        resultTypes.push_back(forward.getArgument(i).getType());
      }
    auto step = func::FuncOp::create(builder, loc, trainStepName,
                                     builder.getFunctionType(argTypes,
                                                             resultTypes));
    // A failed sweep leaves no half-built function behind.
    bool done = false;
    auto eraseOnFailure = llvm::make_scope_exit([&] {
      if (!done)
        step.erase();
    });
    // All attributes at once (one set*Attr per argument is quadratic).
    SmallVector<DictionaryAttr> argAttrs;
    for (unsigned i = 0, e = forward.getNumArguments(); i < e; ++i)
      argAttrs.push_back(forward.getArgAttrDict(i)
                             ? forward.getArgAttrDict(i)
                             : builder.getDictionaryAttr({}));
    argAttrs.push_back(builder.getDictionaryAttr(builder.getNamedAttr(
        "mind.input", builder.getStringAttr("grad_scale"))));
    step.setAllArgAttrs(argAttrs);

    // Clone the forward body.
    Block *body = step.addEntryBlock();
    IRMapping mapping;
    for (auto [from, to] :
         llvm::zip(forward.getArguments(), body->getArguments()))
      mapping.map(from, to);
    builder.setInsertionPointToEnd(body);
    for (Operation &op : forward.getBody().front().without_terminator())
      builder.clone(op, mapping);
    auto fwdReturn =
        cast<func::ReturnOp>(forward.getBody().front().getTerminator());
    SmallVector<Value> results;
    for (Value v : fwdReturn.getOperands())
      results.push_back(mapping.lookup(v));

    // Seed every result with grad_scale (cast if the loss is not f32).
    GradientMap grads(builder);
    Value scale = body->getArguments().back();
    for (Value r : results) {
      Value seed = scale;
      if (r.getType() != scaleType)
        seed = CastOp::create(builder, loc, r.getType(), scale);
      grads.accumulate(loc, r, seed);
    }

    // Reverse sweep over the cloned forward ops.
    SmallVector<Operation *> forwardOps;
    for (Operation &op : *body)
      forwardOps.push_back(&op);
    for (Operation *op : llvm::reverse(forwardOps))
      if (failed(emitVJP(builder, op, grads)))
        return failure();

    for (unsigned i : paramArgs) {
      Value arg = body->getArgument(i);
      Value g = grads.lookup(arg);
      if (!g)
        g = FillOp::create(builder, loc, arg.getType(),
                           builder.getF64FloatAttr(0.0));
      results.push_back(g);
    }
    func::ReturnOp::create(builder, loc, results);
    SmallVector<DictionaryAttr> resultAttrs;
    for (unsigned i = 0, e = forward.getNumResults(); i < e; ++i)
      resultAttrs.push_back(forward.getResultAttrDict(i)
                                ? forward.getResultAttrDict(i)
                                : builder.getDictionaryAttr({}));
    for (unsigned i : paramArgs)
      resultAttrs.push_back(builder.getDictionaryAttr(builder.getNamedAttr(
          kGradAttr, forward.getArgAttr(i, kParamAttr))));
    step.setAllResultAttrs(resultAttrs);
    done = true;
    return success();
  }

  LogicalResult emitVJP(OpBuilder &builder, Operation *op,
                        GradientMap &grads) {
    SmallVector<Value> resultGrads;
    bool any = false;
    for (Value r : op->getResults()) {
      resultGrads.push_back(grads.lookup(r));
      any |= static_cast<bool>(resultGrads.back());
    }
    if (!any)
      return success();
    auto diff = dyn_cast<DifferentiableOpInterface>(op);
    if (!diff) {
      // Ops fed only by constants and integers (fill, rope_table, moe_route)
      // stop the sweep: nothing upstream can receive a gradient.
      if (llvm::none_of(op->getOperandTypes(), isFloatTensor))
        return success();
      return op->emitOpError("has no VJP rule, but a loss depends on it");
    }
    SmallVector<Value> operandGrads;
    if (failed(diff.buildVJP(builder, resultGrads, operandGrads)))
      return failure();
    if (operandGrads.size() != op->getNumOperands())
      return op->emitOpError("VJP rule returned ")
             << operandGrads.size() << " gradients for "
             << op->getNumOperands() << " operands";
    for (auto [operand, g] : llvm::zip(op->getOperands(), operandGrads)) {
      if (!g)
        continue;
      if (g.getType() != operand.getType())
        return op->emitOpError("VJP rule produced a gradient of type ")
               << g.getType() << " for an operand of type "
               << operand.getType();
      grads.accumulate(op->getLoc(), operand, g);
    }
    return success();
  }
};
} // namespace
