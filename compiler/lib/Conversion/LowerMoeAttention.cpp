//===- LowerMoeAttention.cpp - attention and MoE ops to kernels -----------===//

#include "PlanBuilder.h"

#include "mind/Dialect/Mind/IR/MindOps.h"
#include "mind/abi/KernelSpecs.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mind;
using runtime::DType;
using runtime::KernelArg;
namespace k = mind::runtime::kernels;

namespace {
RankedTensorType tensorOf(Value v) {
  return cast<RankedTensorType>(v.getType());
}
} // namespace

std::vector<int64_t> PlanBuilder::buffersOf(ValueRange values) {
  std::vector<int64_t> ids;
  for (Value v : values)
    ids.push_back(bufferOf(v));
  return ids;
}

/// The inverse of a routing permutation, in a workspace.
int64_t PlanBuilder::invertPerm(Value perm, int64_t rows, Operation *op) {
  int64_t inv = workspace("moe_inverse_perm", DType::I64, {rows});
  kernel(k::moeInvertPerm(rows),
         {KernelArg::buf(bufferOf(perm)), KernelArg::buf(inv),
          KernelArg::int64(rows)},
         op);
  return inv;
}

LogicalResult PlanBuilder::lowerMoeOrAttention(Operation *op) {
  auto B = [&](Value v) { return KernelArg::buf(bufferOf(v)); };
  auto I = [](int64_t v) { return KernelArg::int64(v); };
  auto F = [](double v) { return KernelArg::f32(v); };
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case([&](AttentionOp o) {
        auto q = tensorOf(o.getQuery()).getShape();
        int64_t kv = tensorOf(o.getKey()).getDimSize(2);
        kernel(k::attentionForward(dtypeOf(o.getQuery()), q[0], q[1], q[2],
                                   kv, q[3]),
               {B(o.getQuery()), B(o.getKey()), B(o.getValue()),
                B(o.getResult()), B(o.getLse()), I(q[1]), I(q[2]), I(kv),
                F(o.getScale().convertToDouble()), I(o.getCausal() ? 1 : 0)},
               op);
        return success();
      })
      .Case([&](AttentionGradOp o) {
        auto q = tensorOf(o.getQuery()).getShape();
        int64_t kv = tensorOf(o.getKey()).getDimSize(2);
        auto bwd = k::attentionBackward(dtypeOf(o.getQuery()), q[0], q[1],
                                        q[2], kv, q[3]);
        int64_t delta = workspace("attention_delta", bwd.workspaces[0].dtype,
                                  bwd.workspaces[0].shape);
        kernel(bwd.prep,
               {B(o.getResult()), B(o.getGrad()), KernelArg::buf(delta),
                I(q[0]), I(q[1]), I(q[2]), I(q[3])},
               op);
        // dK/dV and dQ read the same inputs; they differ in the outputs.
        auto launchArgs = [&](Value first, Value second) {
          std::vector<KernelArg> args = {
              B(o.getQuery()), B(o.getKey()),  B(o.getValue()),
              B(o.getGrad()),  B(o.getLse()),  KernelArg::buf(delta),
              B(first)};
          if (second)
            args.push_back(B(second));
          for (KernelArg a : {I(q[1]), I(q[2]), I(kv),
                              F(o.getScale().convertToDouble()),
                              I(o.getCausal() ? 1 : 0)})
            args.push_back(a);
          return args;
        };
        kernel(bwd.main, launchArgs(o.getKeyGrad(), o.getValueGrad()), op);
        kernel(bwd.dq, launchArgs(o.getQueryGrad(), Value()), op);
        return success();
      })
      .Case([&](TopKOp o) {
        auto s = tensorOf(o.getScores()).getShape();
        kernel(k::moeTopK(dtypeOf(o.getScores()), s[0], s[1], o.getK()),
               {B(o.getScores()), B(o.getWeights()), B(o.getIndices()),
                I(s[0]), I(s[1]), I(o.getK()), I(o.getNormalize() ? 1 : 0)},
               op);
        return success();
      })
      .Case([&](TopKGradOp o) {
        auto s = tensorOf(o.getScores()).getShape();
        int64_t kk = tensorOf(o.getIndices()).getDimSize(1);
        kernel(k::moeTopKGrad(dtypeOf(o.getScores()), s[0], s[1], kk),
               {B(o.getScores()), B(o.getIndices()), B(o.getGrad()),
                B(o.getResult()), I(s[0]), I(s[1]), I(kk),
                I(o.getNormalize() ? 1 : 0)},
               op);
        return success();
      })
      .Case([&](MoeRouteOp o) {
        int64_t rows = tensorOf(o.getIndices()).getNumElements();
        int64_t e = o.getNumExperts();
        int64_t counts = workspace("moe_tile_counts", DType::I64,
                                   {k::moeRouteTiles(rows) * e});
        kernel(k::moeRouteCount(rows, e),
               {B(o.getIndices()), KernelArg::buf(counts), I(rows), I(e)}, op);
        kernel(k::moeRouteScatter(rows, e),
               {B(o.getIndices()), KernelArg::buf(counts), B(o.getPerm()),
                B(o.getOffsets()), I(rows), I(e)},
               op);
        return success();
      })
      .Case([&](MoeDispatchOp o) {
        auto r = tensorOf(o.getResult()).getShape();
        kernel(k::moeDispatch(dtypeOf(o.getInput()), r[0], r[1]),
               {B(o.getInput()), B(o.getPerm()), B(o.getResult()), I(r[0]),
                I(r[1]), I(o.getTopK())},
               op);
        return success();
      })
      .Case([&](MoeDispatchGradOp o) {
        auto d = tensorOf(o.getResult()).getShape();
        int64_t rows = tensorOf(o.getPerm()).getNumElements();
        int64_t inv = invertPerm(o.getPerm(), rows, op);
        kernel(k::moeDispatchGrad(dtypeOf(o.getGrad()), d[0], d[1]),
               {B(o.getGrad()), KernelArg::buf(inv), B(o.getResult()),
                I(d[0]), I(d[1]), I(o.getTopK())},
               op);
        return success();
      })
      .Case([&](GroupedLinearOp o) -> LogicalResult {
        auto x = tensorOf(o.getInput()).getShape();
        int64_t n = tensorOf(o.getResult()).getDimSize(1);
        int64_t e = o.getWeights().size();
        kernel(k::groupedLinear(dtypeOf(o.getInput()), x[0], x[1], n, e),
               {B(o.getInput()), B(o.getOffsets()), B(o.getResult()), I(x[0]),
                I(x[1]), I(n), I(e),
                KernelArg::bufs(buffersOf(o.getWeights()))},
               op);
        return success();
      })
      .Case([&](GroupedLinearGradOp o) -> LogicalResult {
        auto x = tensorOf(o.getInput()).getShape();
        int64_t n = tensorOf(o.getGrad()).getDimSize(1);
        int64_t e = o.getWeights().size();
        DType t = dtypeOf(o.getInput());
        kernel(k::groupedLinearGradX(t, x[0], x[1], n, e),
               {B(o.getGrad()), B(o.getOffsets()), B(o.getInputGrad()),
                I(x[0]), I(x[1]), I(n), I(e),
                KernelArg::bufs(buffersOf(o.getWeights()))},
               op);
        // The weight-gradient kernel writes f32; narrower results are cast.
        std::vector<int64_t> dws;
        std::vector<std::pair<int64_t, Value>> casts;
        for (Value dw : o.getWeightGrads()) {
          if (dtypeOf(dw) == DType::F32) {
            dws.push_back(bufferOf(dw));
            continue;
          }
          int64_t tmp = workspace("moe_dw_f32", DType::F32, {n, x[1]});
          dws.push_back(tmp);
          casts.push_back({tmp, dw});
        }
        kernel(k::groupedLinearGradW(t, x[0], x[1], n, e),
               {B(o.getInput()), B(o.getGrad()), B(o.getOffsets()), I(x[0]),
                I(x[1]), I(n), I(e), KernelArg::bufs(std::move(dws))},
               op);
        for (auto [tmp, dw] : casts)
          kernel(k::cast(DType::F32, dtypeOf(dw), n * x[1]),
                 {KernelArg::buf(tmp), B(dw), I(n * x[1])}, op);
        return success();
      })
      .Case([&](MoeCombineOp o) {
        auto r = tensorOf(o.getResult()).getShape();
        int64_t rows = tensorOf(o.getPerm()).getNumElements();
        int64_t kk = tensorOf(o.getWeights()).getDimSize(1);
        int64_t inv = invertPerm(o.getPerm(), rows, op);
        kernel(k::moeCombine(dtypeOf(o.getInput()), r[0], r[1]),
               {B(o.getInput()), KernelArg::buf(inv), B(o.getWeights()),
                B(o.getResult()), I(r[0]), I(r[1]), I(kk)},
               op);
        return success();
      })
      .Case([&](MoeCombineGradOp o) {
        auto y = tensorOf(o.getInput()).getShape();
        int64_t kk = tensorOf(o.getWeights()).getDimSize(1);
        kernel(k::moeCombineGrad(dtypeOf(o.getInput()), y[0], y[1]),
               {B(o.getInput()), B(o.getPerm()), B(o.getWeights()),
                B(o.getGrad()), B(o.getInputGrad()), B(o.getWeightsGrad()),
                I(y[0]), I(y[1]), I(kk)},
               op);
        return success();
      })
      .Case([&](MoeAuxLossOp o) {
        auto s = tensorOf(o.getScores()).getShape();
        int64_t kk = tensorOf(o.getIndices()).getDimSize(1);
        kernel(k::moeAuxLoss(dtypeOf(o.getScores()), s[0], s[1], kk,
                             o.getSeqAux(), o.getBatch()),
               {B(o.getScores()), B(o.getIndices()), B(o.getResult()),
                I(s[0]), I(s[1]), I(kk), F(o.getAlpha().convertToDouble()),
                I(o.getSeqAux() ? 1 : 0), I(o.getBatch())},
               op);
        return success();
      })
      .Case([&](MoeAuxLossGradOp o) {
        auto s = tensorOf(o.getScores()).getShape();
        int64_t kk = tensorOf(o.getIndices()).getDimSize(1);
        kernel(k::moeAuxLossGrad(dtypeOf(o.getScores()), s[0], s[1], kk,
                                 o.getSeqAux(), o.getBatch()),
               {B(o.getIndices()), B(o.getGrad()), B(o.getResult()), I(s[0]),
                I(s[1]), I(kk), F(o.getAlpha().convertToDouble()),
                I(o.getSeqAux() ? 1 : 0), I(o.getBatch()),
                I(k::moeAuxLossGradChunk())},
               op);
        return success();
      })
      .Default([&](Operation *) {
        return op->emitOpError(
            "lower-to-plan: no GPU lowering for this op yet");
      });
}
