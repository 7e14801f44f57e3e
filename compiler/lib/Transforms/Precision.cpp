//===- Precision.cpp - autocast-style mixed precision ---------------------===//
//
// Element types change in place (shapes are untouched), walking the body in
// program order so every op sees its operands' final types.
//
//===----------------------------------------------------------------------===//

#include "mind/Dialect/Mind/IR/MindOps.h"
#include "mind/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/DenseMap.h"

namespace mind {
#define GEN_PASS_DEF_MINDPRECISION
#include "mind/Transforms/Passes.h.inc"
} // namespace mind

using namespace mlir;
using namespace mind;

namespace {
bool isFloatTensor(Type t) {
  auto ty = dyn_cast<RankedTensorType>(t);
  return ty && isa<FloatType>(ty.getElementType());
}

Type elementOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getElementType();
}

Type withElement(Type t, Type elem) {
  return cast<RankedTensorType>(t).clone(elem);
}

unsigned widthOf(Type elem) { return cast<FloatType>(elem).getWidth(); }

class PrecisionRewriter {
public:
  PrecisionRewriter(Type compute) : compute(compute) {}

  void rewrite(func::FuncOp func) {
    OpBuilder b(func.getContext());
    for (Operation &op : llvm::make_early_inc_range(func.getBody().front())) {
      // Casts are this pass's own tool.
      if (isa<CastOp>(op))
        continue;
      b.setInsertionPoint(&op);
      // Ops without a rule (gradient and fused ops, the return) keep their
      // types: operands this pass changed are cast back for them.
      auto autocast = dyn_cast<AutocastOpInterface>(op);
      if (!autocast) {
        restoreOperandTypes(b, op);
        continue;
      }
      switch (autocast.getAutocastRule()) {
      case AutocastRule::Compute:
        castFloatOperands(b, autocast, compute);
        setResultType(op.getResult(0), compute);
        break;
      case AutocastRule::Float32:
        castFloatOperands(b, autocast, b.getF32Type());
        followOperandZero(&op);
        break;
      case AutocastRule::Promote:
        promote(b, autocast);
        followOperandZero(&op);
        break;
      }
    }
  }

private:
  /// One cast per (value, type), placed right after the value's definition
  /// so that every use can share it.
  Value castTo(OpBuilder &b, Value v, Type elem) {
    if (elementOf(v) == elem)
      return v;
    auto key = std::make_pair(v, elem);
    if (Value c = casts.lookup(key))
      return c;
    OpBuilder::InsertionGuard guard(b);
    if (auto arg = dyn_cast<BlockArgument>(v))
      b.setInsertionPointToStart(arg.getOwner());
    else
      b.setInsertionPointAfter(v.getDefiningOp());
    Value c = CastOp::create(b, v.getLoc(), withElement(v.getType(), elem), v);
    casts[key] = c;
    return c;
  }

  /// The float operands `op` casts (AutocastOperand::Cast).
  template <typename Fn> void forCastOperands(AutocastOpInterface op, Fn fn) {
    for (auto [i, use] : llvm::enumerate(op->getOpOperands()))
      if (isFloatTensor(use.get().getType()) &&
          op.getAutocastOperand(i) == AutocastOperand::Cast)
        fn(use);
  }

  void castFloatOperands(OpBuilder &b, AutocastOpInterface op, Type elem) {
    forCastOperands(op, [&](OpOperand &use) {
      use.set(castTo(b, use.get(), elem));
    });
  }

  /// Casts the narrower float operands to the widest one among those that
  /// take part.
  void promote(OpBuilder &b, AutocastOpInterface op) {
    Type widest;
    for (auto [i, v] : llvm::enumerate(op->getOperands())) {
      if (!isFloatTensor(v.getType()) ||
          op.getAutocastOperand(i) == AutocastOperand::Keep)
        continue;
      Type e = elementOf(v);
      if (!widest || widthOf(e) > widthOf(widest))
        widest = e;
    }
    if (widest)
      castFloatOperands(b, op, widest);
  }

  void setResultType(Value r, Type elem) {
    originalTypes.try_emplace(r, r.getType());
    r.setType(withElement(r.getType(), elem));
  }

  void restoreOperandTypes(OpBuilder &b, Operation &op) {
    for (OpOperand &use : op.getOpOperands()) {
      Type original = originalTypes.lookup(use.get());
      if (original && original != use.get().getType())
        use.set(castTo(b, use.get(),
                       cast<RankedTensorType>(original).getElementType()));
    }
  }

  /// Result 0 takes operand 0's float type (the type the op computes in).
  void followOperandZero(Operation *op) {
    if (op->getNumOperands() == 0 || op->getNumResults() == 0 ||
        !isFloatTensor(op->getOperand(0).getType()) ||
        !isFloatTensor(op->getResult(0).getType()))
      return;
    setResultType(op->getResult(0), elementOf(op->getOperand(0)));
  }

  Type compute;
  llvm::DenseMap<std::pair<Value, Type>, Value> casts;
  /// The types values had before this pass changed them.
  llvm::DenseMap<Value, Type> originalTypes;
};

struct MindPrecisionPass
    : public mind::impl::MindPrecisionBase<MindPrecisionPass> {
  using MindPrecisionBase::MindPrecisionBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    Builder b(module.getContext());
    Type compute;
    if (dtype == "bf16" || dtype == "bfloat16")
      compute = b.getBF16Type();
    else if (dtype == "f16" || dtype == "float16")
      compute = b.getF16Type();
    else if (dtype == "f32" || dtype == "float32")
      return;
    else {
      module.emitError() << "mind-precision: unknown dtype '" << dtype
                         << "' (expected bf16, f16 or f32)";
      return signalPassFailure();
    }
    auto func = module.lookupSymbol<func::FuncOp>(funcName);
    if (!func) {
      module.emitError() << "mind-precision: no function named '" << funcName
                         << "'";
      return signalPassFailure();
    }
    if (!func.getBody().hasOneBlock()) {
      func.emitError() << "mind-precision: '" << funcName
                       << "' must have a single-block body (not a "
                          "declaration)";
      return signalPassFailure();
    }
    PrecisionRewriter(compute).rewrite(func);
    if (failed(mlir::verify(func)))
      signalPassFailure();
  }
};
} // namespace
