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

/// Per chunk of rows: logits = x W^T into a chunk buffer, the rows' losses,
/// their gradient into a second chunk buffer, dx rows = dlogits W, and the
/// weight's accumulator += dlogits^T x. Then the loss over all rows, as
/// mind.cross_entropy sums it.
static LogicalResult lowerOp(LmHeadLossOp o, PlanLowering &L) {
  auto w = tensorOf(o.getWeight()).getShape();
  int64_t vocab = w[0], hidden = w[1], rows = leadingRows(o.getInput());
  int64_t chunk = std::min(static_cast<int64_t>(o.getChunkRows()), rows);
  Value sink = L.sinkOf(o.getWeightGrad());
  if (!sink)
    return o.emitOpError("lower-to-plan: the weight gradient must be added "
                         "into a gradient accumulator (mind.accumulate_into)");
  DType dt = L.dtypeOf(o.getInput());
  int64_t esz = static_cast<int64_t>(runtime::dtypeSize(dt));
  Value norm = L.workspace("ce_mask_sum", DType::F32, {1});
  L.kernel(k::crossEntropyMaskSum(rows), L.buf(o.getMask()), L.buf(norm),
           I64(rows));
  Value rowLoss = L.workspace("ce_row_loss", DType::F32, {rows});
  Value logits = L.workspace("lm_head_logits", dt, {chunk, vocab});
  Value dlogits = L.workspace("lm_head_logits_grad", dt, {chunk, vocab});
  for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
    int64_t n = std::min(chunk, rows - r0);
    Value x = L.view(o.getInput(), r0 * hidden * esz, {n, hidden}, dt);
    Value t = L.view(o.getTargets(), r0 * 8, {n}, DType::I64);
    Value m = L.view(o.getMask(), r0 * 8, {n}, DType::I64);
    Value rl = L.view(rowLoss, r0 * 4, {n}, DType::F32);
    Value dx = L.view(o.getInputGrad(), r0 * hidden * esz, {n, hidden}, dt);
    Value lg = n == chunk ? logits : L.view(logits, 0, {n, vocab}, dt);
    Value dl = n == chunk ? dlogits : L.view(dlogits, 0, {n, vocab}, dt);
    L.gemm(x, o.getWeight(), lg, n, vocab, hidden, /*transA=*/false,
           /*transB=*/true, /*beta=*/0.0f);
    L.kernel(k::crossEntropy(dt, n, vocab), L.buf(lg), L.buf(t), L.buf(m),
             L.buf(rl), I64(n), I64(vocab));
    L.kernel(k::crossEntropyGrad(dt, n, vocab), L.buf(lg), L.buf(t), L.buf(m),
             L.buf(o.getGrad()), L.buf(norm), L.buf(dl), I64(n), I64(vocab));
    L.gemm(dl, o.getWeight(), dx, n, hidden, vocab, /*transA=*/false,
           /*transB=*/false, /*beta=*/0.0f);
    L.gemm(dl, x, sink, vocab, hidden, n, /*transA=*/true, /*transB=*/false,
           /*beta=*/1.0f);
  }
  L.kernel(k::crossEntropyFinalize(rows), L.buf(rowLoss), L.buf(o.getMask()),
           L.buf(o.getLoss()), I64(rows));
  return success();
}

void registerLossLowerings(DialectRegistry &registry) {
  attachLowerings<SoftmaxOp, SoftmaxGradOp, CrossEntropyOp, CrossEntropyGradOp,
                  LmHeadLossOp>(registry);
}

} // namespace mind
