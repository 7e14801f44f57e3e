//===- LowerAttention.cpp - flash attention, RoPE and its tables ----------===//

#include "LoweringModel.h"

using namespace mlir;
namespace k = mind::runtime::kernels;
using mind::runtime::kabi::F32;
using mind::runtime::kabi::F64;
using mind::runtime::kabi::I64;

namespace mind {

static LogicalResult lowerOp(RopeTableOp o, PlanLowering &L) {
  auto s = shapeOf(o.getCos());
  L.kernel(k::ropeTable(s[0], s[1]), L.buf(o.getCos()), L.buf(o.getSin()),
           I64(s[0]), I64(s[1]), F64(o.getTheta().convertToDouble()),
           I64(o.getMaxPositions()), F64(o.getYarnFactor().convertToDouble()),
           I64(o.getYarnOriginalMax()),
           F64(o.getYarnBetaFast().convertToDouble()),
           F64(o.getYarnBetaSlow().convertToDouble()),
           F64(o.getAttentionFactor().convertToDouble()));
  return success();
}

static LogicalResult lowerOp(RopeOp o, PlanLowering &L) {
  auto s = shapeOf(o.getInput());
  L.kernel(k::rope(L.dtypeOf(o.getInput()), s[0], s[1], s[2], s[3]),
           L.buf(o.getInput()), L.buf(o.getCos()), L.buf(o.getSin()),
           L.buf(o.getResult()), I64(s[0]), I64(s[1]), I64(s[2]), I64(s[3]),
           I64(o.getInverse() ? 1 : 0));
  return success();
}

static LogicalResult lowerOp(AttentionOp o, PlanLowering &L) {
  auto q = tensorOf(o.getQuery()).getShape();
  int64_t kv = tensorOf(o.getKey()).getDimSize(2);
  L.kernel(k::attentionForward(L.dtypeOf(o.getQuery()), q[0], q[1], q[2], kv,
                               q[3]),
           L.buf(o.getQuery()), L.buf(o.getKey()), L.buf(o.getValue()),
           L.buf(o.getResult()), L.buf(o.getLse()), I64(q[1]), I64(q[2]),
           I64(kv), F32(o.getScale().convertToDouble()),
           I64(o.getCausal() ? 1 : 0));
  return success();
}

/// delta = rowsum(dO * O) into a workspace, then dK/dV and dQ in their own
/// passes over the tiles (no float atomics). `tables` (cos, sin) follow
/// delta in the RoPE-fused kernels' arguments.
template <class GradOp, class Backward, class... Tables>
static LogicalResult lowerAttentionBackward(GradOp o, const Backward &bwd,
                                            PlanLowering &L,
                                            const Tables &...tables) {
  auto q = tensorOf(o.getQuery()).getShape();
  int64_t kv = tensorOf(o.getKey()).getDimSize(2);
  Value delta = L.workspace("attention_delta", bwd.workspaces[0].dtype,
                            bwd.workspaces[0].shape);
  L.kernel(bwd.prep, L.buf(o.getResult()), L.buf(o.getGrad()), L.buf(delta),
           I64(q[0]), I64(q[1]), I64(q[2]), I64(q[3]));
  F32 scale(o.getScale().convertToDouble());
  I64 causal(o.getCausal() ? 1 : 0);
  L.kernel(bwd.main, L.buf(o.getQuery()), L.buf(o.getKey()),
           L.buf(o.getValue()), L.buf(o.getGrad()), L.buf(o.getLse()),
           L.buf(delta), tables..., L.buf(o.getKeyGrad()),
           L.buf(o.getValueGrad()), I64(q[1]), I64(q[2]), I64(kv), scale,
           causal);
  L.kernel(bwd.dq, L.buf(o.getQuery()), L.buf(o.getKey()), L.buf(o.getValue()),
           L.buf(o.getGrad()), L.buf(o.getLse()), L.buf(delta), tables...,
           L.buf(o.getQueryGrad()), I64(q[1]), I64(q[2]), I64(kv), scale,
           causal);
  return success();
}

static LogicalResult lowerOp(AttentionGradOp o, PlanLowering &L) {
  auto q = tensorOf(o.getQuery()).getShape();
  return lowerAttentionBackward(
      o,
      k::attentionBackward(L.dtypeOf(o.getQuery()), q[0], q[1], q[2],
                           tensorOf(o.getKey()).getDimSize(2), q[3]),
      L);
}

/// The same launches, whose dK and dQ passes rotate back as they store.
static LogicalResult lowerOp(AttentionGradRopeOp o, PlanLowering &L) {
  auto q = tensorOf(o.getQuery()).getShape();
  return lowerAttentionBackward(
      o,
      k::attentionBackwardRope(L.dtypeOf(o.getQuery()), q[0], q[1], q[2],
                               tensorOf(o.getKey()).getDimSize(2), q[3]),
      L, L.buf(o.getCos()), L.buf(o.getSin()));
}

void registerAttentionLowerings(DialectRegistry &registry) {
  attachLowerings<RopeTableOp, RopeOp, AttentionOp, AttentionGradOp,
                  AttentionGradRopeOp>(registry);
}

} // namespace mind
