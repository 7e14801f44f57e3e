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
      if (isa<func::ReturnOp, CastOp>(op))
        continue;
      b.setInsertionPoint(&op);
      if (isa<LinearOp, MatmulOp, GroupedLinearOp, AttentionOp>(op))
        castFloatOperands(b, &op, compute);
      else if (isa<SoftmaxOp, CrossEntropyOp, MoeAuxLossOp>(op))
        castFloatOperands(b, &op, b.getF32Type());
      else
        promote(b, &op);
      setResultTypes(&op);
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

  void castFloatOperands(OpBuilder &b, Operation *op, Type elem) {
    for (OpOperand &use : op->getOpOperands())
      if (isFloatTensor(use.get().getType()))
        use.set(castTo(b, use.get(), elem));
  }

  /// Casts the narrower float operands to the widest one. RoPE tables keep
  /// f32 (the kernel reads them as f32, as PyTorch's buffers are).
  void promote(OpBuilder &b, Operation *op) {
    Type widest;
    for (auto [i, v] : llvm::enumerate(op->getOperands())) {
      if (!isFloatTensor(v.getType()) || (isa<RopeOp>(op) && i > 0))
        continue;
      Type e = elementOf(v);
      if (!widest || widthOf(e) > widthOf(widest))
        widest = e;
    }
    if (!widest)
      return;
    for (auto [i, use] : llvm::enumerate(op->getOpOperands())) {
      if (!isFloatTensor(use.get().getType()) || (isa<RopeOp>(op) && i > 0))
        continue;
      // RMSNorm's weight may stay f32 under a narrower input: the kernel
      // reads f32 weights directly.
      if (isa<RMSNormOp>(op) && i == 1)
        continue;
      use.set(castTo(b, use.get(), widest));
    }
  }

  void setResultTypes(Operation *op) {
    auto set = [&](Value r, Type elem) { r.setType(withElement(r.getType(), elem)); };
    if (isa<LinearOp, MatmulOp, GroupedLinearOp>(op)) {
      set(op->getResult(0), compute);
    } else if (auto a = dyn_cast<AttentionOp>(op)) {
      set(a.getResult(), compute);
    } else if (isa<EmbeddingOp>(op)) {
      set(op->getResult(0), elementOf(op->getOperand(0)));
    } else if (auto t = dyn_cast<TopKOp>(op)) {
      set(t.getWeights(), elementOf(t.getScores()));
    } else if (isa<SoftmaxOp, RMSNormOp, RopeOp, SiluOp, SwiGLUOp, AddOp, MulOp,
                   MoeDispatchOp, MoeCombineOp, ReshapeOp, TransposeOp>(op)) {
      set(op->getResult(0), elementOf(op->getOperand(0)));
    }
    // cross_entropy, moe_aux_loss, rope_table, fill, moe_route keep theirs.
  }

  Type compute;
  llvm::DenseMap<std::pair<Value, Type>, Value> casts;
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
    PrecisionRewriter(compute).rewrite(func);
    if (failed(mlir::verify(func)))
      signalPassFailure();
  }
};
} // namespace
