//===- FuseAttentionRope.cpp - inverse RoPE into the attention backward ---===//
//
// See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "mind/Dialect/Mind/IR/MindOps.h"
#include "mind/Transforms/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Dominance.h"

namespace mind {
#define GEN_PASS_DEF_MINDFUSEATTENTIONROPE
#include "mind/Transforms/Passes.h.inc"
} // namespace mind

using namespace mlir;
using namespace mind;

namespace {

/// The inverse mind.rope that is the only reader of `grad`, or null.
RopeOp onlyInverseRope(Value grad) {
  if (!grad.hasOneUse())
    return {};
  auto rope = dyn_cast<RopeOp>(*grad.getUsers().begin());
  return rope && rope.getInverse() && rope.getInput() == grad ? rope : RopeOp();
}

/// The tensor-core kernels, which rotate as they store, serve 16-bit types.
bool hasSixteenBitElements(Value v) {
  Type e = cast<RankedTensorType>(v.getType()).getElementType();
  return e.isBF16() || e.isF16();
}

void fuse(AttentionGradOp grad, DominanceInfo &dom) {
  if (!hasSixteenBitElements(grad.getQuery()))
    return;
  RopeOp dq = onlyInverseRope(grad.getQueryGrad());
  RopeOp dk = onlyInverseRope(grad.getKeyGrad());
  if (!dq || !dk || dq.getCos() != dk.getCos() || dq.getSin() != dk.getSin())
    return;
  Value cos = dq.getCos(), sin = dq.getSin();
  if (!dom.properlyDominates(cos, grad) || !dom.properlyDominates(sin, grad))
    return;
  OpBuilder b(grad);
  auto fused = AttentionGradRopeOp::create(
      b, grad.getLoc(), dq.getType(), dk.getType(),
      grad.getValueGrad().getType(), grad.getQuery(), grad.getKey(),
      grad.getValue(), grad.getResult(), grad.getLse(), grad.getGrad(), cos,
      sin, grad.getScaleAttr(), grad.getCausalAttr());
  dq.getResult().replaceAllUsesWith(fused.getQueryGrad());
  dk.getResult().replaceAllUsesWith(fused.getKeyGrad());
  grad.getValueGrad().replaceAllUsesWith(fused.getValueGrad());
  dq->erase();
  dk->erase();
  grad->erase();
}

struct MindFuseAttentionRopePass
    : public mind::impl::MindFuseAttentionRopeBase<MindFuseAttentionRopePass> {
  void runOnOperation() override {
    SmallVector<AttentionGradOp> grads;
    getOperation().walk([&](AttentionGradOp g) { grads.push_back(g); });
    DominanceInfo dom(getOperation());
    for (AttentionGradOp g : grads)
      fuse(g, dom);
  }
};

} // namespace
