//===- LowerMoe.cpp - mixture-of-experts routing and grouped GEMMs --------===//

#include "LoweringModel.h"

using namespace mlir;
namespace k = mind::runtime::kernels;
using mind::runtime::DType;
using mind::runtime::kabi::F32;
using mind::runtime::kabi::I64;

namespace mind {

/// The inverse of a routing permutation, in a workspace.
static Value invertPerm(Value perm, int64_t rows, PlanLowering &L) {
  Value inv = L.workspace("moe_inverse_perm", DType::I64, {rows});
  L.kernel(k::moeInvertPerm(rows), L.buf(perm), L.buf(inv), I64(rows));
  return inv;
}

static LogicalResult lowerOp(TopKOp o, PlanLowering &L) {
  auto s = tensorOf(o.getScores()).getShape();
  L.kernel(k::moeTopK(L.dtypeOf(o.getScores()), s[0], s[1], o.getK()),
           L.buf(o.getScores()), L.buf(o.getWeights()), L.buf(o.getIndices()),
           I64(s[0]), I64(s[1]), I64(o.getK()), I64(o.getNormalize() ? 1 : 0));
  return success();
}

static LogicalResult lowerOp(TopKGradOp o, PlanLowering &L) {
  auto s = tensorOf(o.getScores()).getShape();
  int64_t kk = tensorOf(o.getIndices()).getDimSize(1);
  L.kernel(k::moeTopKGrad(L.dtypeOf(o.getScores()), s[0], s[1], kk),
           L.buf(o.getScores()), L.buf(o.getIndices()), L.buf(o.getGrad()),
           L.buf(o.getResult()), I64(s[0]), I64(s[1]), I64(kk),
           I64(o.getNormalize() ? 1 : 0));
  return success();
}

/// A stable counting sort of the routed rows by expert: tile histograms,
/// then the scatter.
static LogicalResult lowerOp(MoeRouteOp o, PlanLowering &L) {
  int64_t rows = numel(o.getIndices());
  int64_t e = o.getNumExperts();
  Value counts =
      L.workspace("moe_tile_counts", DType::I64, {k::moeRouteTiles(rows) * e});
  L.kernel(k::moeRouteCount(rows, e), L.buf(o.getIndices()), L.buf(counts),
           I64(rows), I64(e));
  L.kernel(k::moeRouteScatter(rows, e), L.buf(o.getIndices()), L.buf(counts),
           L.buf(o.getPerm()), L.buf(o.getOffsets()), I64(rows), I64(e));
  return success();
}

static LogicalResult lowerOp(MoeDispatchOp o, PlanLowering &L) {
  auto r = tensorOf(o.getResult()).getShape();
  L.kernel(k::moeDispatch(L.dtypeOf(o.getInput()), r[0], r[1]),
           L.buf(o.getInput()), L.buf(o.getPerm()), L.buf(o.getResult()),
           I64(r[0]), I64(r[1]), I64(o.getTopK()));
  return success();
}

static LogicalResult lowerOp(MoeDispatchGradOp o, PlanLowering &L) {
  auto d = tensorOf(o.getResult()).getShape();
  Value inv = invertPerm(o.getPerm(), numel(o.getPerm()), L);
  L.kernel(k::moeDispatchGrad(L.dtypeOf(o.getGrad()), d[0], d[1]),
           L.buf(o.getGrad()), L.buf(inv), L.buf(o.getResult()), I64(d[0]),
           I64(d[1]), I64(o.getTopK()));
  return success();
}

static LogicalResult lowerOp(GroupedLinearOp o, PlanLowering &L) {
  auto x = tensorOf(o.getInput()).getShape();
  int64_t n = tensorOf(o.getResult()).getDimSize(1);
  int64_t e = o.getWeights().size();
  L.kernel(k::groupedLinear(L.dtypeOf(o.getInput()), x[0], x[1], n, e),
           L.buf(o.getInput()), L.buf(o.getOffsets()), L.buf(o.getResult()),
           I64(x[0]), I64(x[1]), I64(n), I64(e), L.bufs(o.getWeights()));
  return success();
}

/// dx, then the weight gradients in f32 (narrower results are cast after).
static LogicalResult lowerOp(GroupedLinearGradOp o, PlanLowering &L) {
  auto x = tensorOf(o.getInput()).getShape();
  int64_t n = tensorOf(o.getGrad()).getDimSize(1);
  int64_t e = o.getWeights().size();
  DType t = L.dtypeOf(o.getInput());
  L.kernel(k::groupedLinearGradX(t, x[0], x[1], n, e), L.buf(o.getGrad()),
           L.buf(o.getOffsets()), L.buf(o.getInputGrad()), I64(x[0]),
           I64(x[1]), I64(n), I64(e), L.bufs(o.getWeights()));
  std::vector<Value> dws;
  std::vector<std::pair<Value, Value>> casts; // f32 workspace, result
  for (Value dw : o.getWeightGrads()) {
    if (L.dtypeOf(dw) == DType::F32) {
      dws.push_back(L.bufferOf(dw));
      continue;
    }
    Value tmp = L.workspace("moe_dw_f32", DType::F32, {n, x[1]});
    dws.push_back(tmp);
    casts.push_back({tmp, dw});
  }
  L.kernel(k::groupedLinearGradW(t, x[0], x[1], n, e), L.buf(o.getInput()),
           L.buf(o.getGrad()), L.buf(o.getOffsets()), I64(x[0]), I64(x[1]),
           I64(n), I64(e), PlanLowering::Buffers(std::move(dws)));
  for (auto [tmp, dw] : casts)
    L.kernel(k::cast(DType::F32, L.dtypeOf(dw), n * x[1]), L.buf(tmp),
             L.buf(dw), I64(n * x[1]));
  return success();
}

static LogicalResult lowerOp(MoeCombineOp o, PlanLowering &L) {
  auto r = tensorOf(o.getResult()).getShape();
  int64_t kk = tensorOf(o.getWeights()).getDimSize(1);
  Value inv = invertPerm(o.getPerm(), numel(o.getPerm()), L);
  L.kernel(k::moeCombine(L.dtypeOf(o.getInput()), r[0], r[1]),
           L.buf(o.getInput()), L.buf(inv), L.buf(o.getWeights()),
           L.buf(o.getResult()), I64(r[0]), I64(r[1]), I64(kk));
  return success();
}

static LogicalResult lowerOp(MoeCombineGradOp o, PlanLowering &L) {
  auto y = tensorOf(o.getInput()).getShape();
  int64_t kk = tensorOf(o.getWeights()).getDimSize(1);
  L.kernel(k::moeCombineGrad(L.dtypeOf(o.getInput()), y[0], y[1]),
           L.buf(o.getInput()), L.buf(o.getPerm()), L.buf(o.getWeights()),
           L.buf(o.getGrad()), L.buf(o.getInputGrad()),
           L.buf(o.getWeightsGrad()), I64(y[0]), I64(y[1]), I64(kk));
  return success();
}

static LogicalResult lowerOp(MoeAuxLossOp o, PlanLowering &L) {
  auto s = tensorOf(o.getScores()).getShape();
  int64_t kk = tensorOf(o.getIndices()).getDimSize(1);
  L.kernel(k::moeAuxLoss(L.dtypeOf(o.getScores()), s[0], s[1], kk,
                         o.getSeqAux(), o.getBatch()),
           L.buf(o.getScores()), L.buf(o.getIndices()), L.buf(o.getResult()),
           I64(s[0]), I64(s[1]), I64(kk), F32(o.getAlpha().convertToDouble()),
           I64(o.getSeqAux() ? 1 : 0), I64(o.getBatch()));
  return success();
}

static LogicalResult lowerOp(MoeAuxLossGradOp o, PlanLowering &L) {
  auto s = tensorOf(o.getScores()).getShape();
  int64_t kk = tensorOf(o.getIndices()).getDimSize(1);
  L.kernel(k::moeAuxLossGrad(L.dtypeOf(o.getScores()), s[0], s[1], kk,
                             o.getSeqAux(), o.getBatch()),
           L.buf(o.getIndices()), L.buf(o.getGrad()), L.buf(o.getResult()),
           I64(s[0]), I64(s[1]), I64(kk), F32(o.getAlpha().convertToDouble()),
           I64(o.getSeqAux() ? 1 : 0), I64(o.getBatch()),
           I64(k::moeAuxLossGradChunk()));
  return success();
}

void registerMoeLowerings(DialectRegistry &registry) {
  attachLowerings<TopKOp, TopKGradOp, MoeRouteOp, MoeDispatchOp,
                  MoeDispatchGradOp, GroupedLinearOp, GroupedLinearGradOp,
                  MoeCombineOp, MoeCombineGradOp, MoeAuxLossOp,
                  MoeAuxLossGradOp>(registry);
}

} // namespace mind
