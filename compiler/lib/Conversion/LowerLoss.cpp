//===- LowerLoss.cpp - softmax and the masked cross entropy ---------------===//

#include "LoweringModel.h"

using namespace mlir;
namespace k = mind::runtime::kernels;
using mind::runtime::DType;
using mind::runtime::kabi::I64;

namespace mind {

static LogicalResult lowerOp(SoftmaxOp o, PlanLowering &L) {
  int64_t c = lastDim(o.getInput()), rows = leadingRows(o.getInput());
  L.kernel(k::softmax(L.dtypeOf(o.getInput()), rows, c), L.buf(o.getInput()),
           L.buf(o.getResult()), I64(rows), I64(c));
  return success();
}

static LogicalResult lowerOp(SoftmaxGradOp o, PlanLowering &L) {
  int64_t c = lastDim(o.getOutput()), rows = leadingRows(o.getOutput());
  L.kernel(k::softmaxGrad(L.dtypeOf(o.getOutput()), rows, c),
           L.buf(o.getOutput()), L.buf(o.getGrad()), L.buf(o.getResult()),
           I64(rows), I64(c));
  return success();
}

/// Per-row losses into a workspace, then one block sums them in a fixed
/// order (deterministic, no memset).
static LogicalResult lowerOp(CrossEntropyOp o, PlanLowering &L) {
  int64_t v = lastDim(o.getLogits()), rows = leadingRows(o.getLogits());
  Value rowLoss = L.workspace("ce_row_loss", DType::F32, {rows});
  L.kernel(k::crossEntropy(L.dtypeOf(o.getLogits()), rows, v),
           L.buf(o.getLogits()), L.buf(o.getTargets()), L.buf(o.getMask()),
           L.buf(rowLoss), I64(rows), I64(v));
  L.kernel(k::crossEntropyFinalize(rows), L.buf(rowLoss), L.buf(o.getMask()),
           L.buf(o.getResult()), I64(rows));
  return success();
}

static LogicalResult lowerOp(CrossEntropyGradOp o, PlanLowering &L) {
  int64_t v = lastDim(o.getLogits()), rows = leadingRows(o.getLogits());
  Value norm = L.workspace("ce_mask_sum", DType::F32, {1});
  L.kernel(k::crossEntropyMaskSum(rows), L.buf(o.getMask()), L.buf(norm),
           I64(rows));
  L.kernel(k::crossEntropyGrad(L.dtypeOf(o.getLogits()), rows, v),
           L.buf(o.getLogits()), L.buf(o.getTargets()), L.buf(o.getMask()),
           L.buf(o.getGrad()), L.buf(norm), L.buf(o.getResult()), I64(rows),
           I64(v));
  return success();
}

void registerLossLowerings(DialectRegistry &registry) {
  attachLowerings<SoftmaxOp, SoftmaxGradOp, CrossEntropyOp,
                  CrossEntropyGradOp>(registry);
}

} // namespace mind
