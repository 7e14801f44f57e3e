//===- FuseAddRmsnorm.cpp - residual adds fused into RMSNorm --------------===//
//
// See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "mind/Dialect/Mind/IR/MindOps.h"
#include "mind/Transforms/Passes.h"

#include "CastPatterns.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace mind {
#define GEN_PASS_DEF_MINDFUSEADDRMSNORM
#include "mind/Transforms/Passes.h.inc"
} // namespace mind

using namespace mlir;
using namespace mind;

namespace {

bool isSink(Operation *op) { return op->hasAttr(kGradientSinkAttr); }

/// h = add(residual, delta) read by `norm`: one add_rmsnorm at the norm,
/// when every other reader of h comes after the norm.
void fuseForward(RMSNormOp norm) {
  auto add = norm.getInput().getDefiningOp<AddOp>();
  if (!add || isSink(add) || add->getBlock() != norm->getBlock())
    return;
  for (Operation *user : add.getResult().getUsers())
    if (user != norm && (user->getBlock() != norm->getBlock() ||
                         user->isBeforeInBlock(norm)))
      return;
  Value residual = add.getLhs(), delta = add.getRhs();
  // Addition is commutative in IEEE arithmetic: either operand can be the
  // one read narrow.
  if (!exactlyWidenedFrom(delta) && exactlyWidenedFrom(residual))
    std::swap(residual, delta);
  Value wideDelta = delta;
  if (Value narrow = exactlyWidenedFrom(delta))
    delta = narrow;
  OpBuilder b(norm);
  auto fused = AddRMSNormOp::create(
      b, norm.getLoc(), add.getType(), norm.getResult().getType(), residual,
      delta, norm.getWeight(), norm.getEpsilonAttr());
  norm.getResult().replaceAllUsesWith(fused.getResult());
  norm->erase();
  add.getResult().replaceAllUsesWith(fused.getSum());
  add->erase();
  if (wideDelta != delta)
    eraseIfUnused(wideDelta);
}

/// s = add(residual_grad, dx) of a norm's input gradient: one
/// rmsnorm_grad_residual at the add, storing also the first narrowing cast
/// of s that the backward reads.
void fuseBackward(RMSNormGradOp grad) {
  Value dx = grad.getInputGrad();
  if (!dx.hasOneUse())
    return;
  auto add = dyn_cast<AddOp>(*dx.getUsers().begin());
  if (!add || isSink(add) || add.getLhs() == add.getRhs())
    return;
  Value residualGrad = add.getLhs() == dx ? add.getRhs() : add.getLhs();
  // The first narrowing cast in program order (use lists are unordered).
  CastOp first;
  for (Operation *user : add.getResult().getUsers())
    if (auto c = dyn_cast<CastOp>(user);
        c && !isSink(c) && isa<FloatType>(getElementTypeOrSelf(c.getType())) &&
        elementWidth(c.getType()) < elementWidth(add.getType()) &&
        c->getBlock() == add->getBlock() &&
        (!first || c->isBeforeInBlock(first)))
      first = c;
  Type narrowType = first ? first.getType() : Type();
  OpBuilder b(add);
  SmallVector<Type> types = {add.getType(), grad.getWeightGrad().getType()};
  if (narrowType)
    types.push_back(narrowType);
  auto fused = RMSNormGradResidualOp::create(
      b, add.getLoc(), types, grad.getInput(), grad.getWeight(),
      grad.getGrad(), residualGrad, grad.getEpsilonAttr());
  if (narrowType)
    for (Operation *user :
         llvm::make_early_inc_range(add.getResult().getUsers()))
      if (auto c = dyn_cast<CastOp>(user);
          c && !isSink(c) && c.getType() == narrowType) {
        c.getResult().replaceAllUsesWith(fused.getInputGradNarrow());
        c->erase();
      }
  add.getResult().replaceAllUsesWith(fused.getInputGrad());
  add->erase();
  grad.getWeightGrad().replaceAllUsesWith(fused.getWeightGrad());
  grad->erase();
}

struct MindFuseAddRmsnormPass
    : public mind::impl::MindFuseAddRmsnormBase<MindFuseAddRmsnormPass> {
  void runOnOperation() override {
    SmallVector<RMSNormOp> norms;
    SmallVector<RMSNormGradOp> grads;
    getOperation().walk([&](Operation *op) {
      if (auto n = dyn_cast<RMSNormOp>(op))
        norms.push_back(n);
      else if (auto g = dyn_cast<RMSNormGradOp>(op))
        grads.push_back(g);
    });
    for (RMSNormOp n : norms)
      fuseForward(n);
    for (RMSNormGradOp g : grads)
      fuseBackward(g);
  }
};

} // namespace
