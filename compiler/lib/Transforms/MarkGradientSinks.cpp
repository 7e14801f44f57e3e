//===- MarkGradientSinks.cpp - where gradients meet their accumulators ----===//
//
// See the pass description in Passes.td. The walk starts at each returned
// gradient and follows single-use values only: a value with another use
// must exist on its own anyway.
//
//===----------------------------------------------------------------------===//

#include "mind/Dialect/Mind/IR/MindOps.h"
#include "mind/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/DenseSet.h"

namespace mind {
#define GEN_PASS_DEF_MINDMARKGRADIENTSINKS
#include "mind/Transforms/Passes.h.inc"
} // namespace mind

using namespace mlir;
using namespace mind;

namespace {

/// Records that result `r` is added into the accumulator of `param`.
void accumulateInto(OpResult r, StringAttr param) {
  Operation *op = r.getOwner();
  Builder b(op->getContext());
  SmallVector<Attribute> names(op->getNumResults(), b.getStringAttr(""));
  if (auto old = op->getAttrOfType<ArrayAttr>(kAccumulateIntoAttr))
    for (auto [i, a] : llvm::enumerate(old))
      if (i < names.size())
        names[i] = a;
  names[r.getResultNumber()] = param;
  op->setAttr(kAccumulateIntoAttr, b.getArrayAttr(names));
}

bool isF32(Value v) {
  return cast<ShapedType>(v.getType()).getElementType().isF32();
}

/// The weight gradient of a norm (its kernels can add into an accumulator).
bool isNormWeightGrad(Value v) {
  Operation *def = v.getDefiningOp();
  if (auto g = dyn_cast_or_null<RMSNormGradOp>(def))
    return g.getWeightGrad() == v;
  if (auto g = dyn_cast_or_null<RMSNormGradResidualOp>(def))
    return g.getWeightGrad() == v;
  return false;
}

/// `outputs`: values returned as losses (they are buffers of their own).
void mark(Value v, StringAttr param,
          const llvm::DenseSet<Value> &outputs) {
  auto r = dyn_cast<OpResult>(v);
  if (!r || !v.hasOneUse() || outputs.contains(v))
    return;
  Operation *def = r.getOwner();
  if (auto add = dyn_cast<AddOp>(def)) {
    if (add.getLhs() == add.getRhs())
      return;
    add->setAttr(kGradientSinkAttr, param);
    mark(add.getLhs(), param, outputs);
    mark(add.getRhs(), param, outputs);
    return;
  }
  // A bf16/f16 GEMM whose result is only cast to f32 writes f32 itself.
  if (auto c = dyn_cast<CastOp>(def)) {
    auto gemm = c.getInput().getDefiningOp<MatmulOp>();
    if (gemm && c.getInput().hasOneUse()) {
      c->setAttr(kGradientSinkAttr, param);
      accumulateInto(cast<OpResult>(c.getInput()), param);
    }
    return;
  }
  if (!isF32(v))
    return;
  if (isa<MatmulOp, EmbeddingGradOp>(def) || isNormWeightGrad(v))
    accumulateInto(r, param);
}

struct MindMarkGradientSinksPass
    : public mind::impl::MindMarkGradientSinksBase<MindMarkGradientSinksPass> {
  using MindMarkGradientSinksBase::MindMarkGradientSinksBase;

  void runOnOperation() override {
    auto fn = getOperation().lookupSymbol<func::FuncOp>(funcName);
    if (!fn || fn.isDeclaration())
      return; // nothing to mark: lowering accumulates every gradient
    auto ret = dyn_cast<func::ReturnOp>(fn.getBody().front().getTerminator());
    if (!ret)
      return;
    llvm::DenseSet<Value> outputs;
    for (unsigned i = 0; i < fn.getNumResults(); ++i)
      if (!fn.getResultAttr(i, "mind.grad"))
        outputs.insert(ret.getOperand(i));
    for (unsigned i = 0; i < fn.getNumResults(); ++i)
      if (auto param = fn.getResultAttrOfType<StringAttr>(i, "mind.grad"))
        mark(ret.getOperand(i), param, outputs);
  }
};

} // namespace
