//===- LowerEmbedding.cpp - embedding gather and its gradient -------------===//

#include "LoweringModel.h"

using namespace mlir;
namespace k = mind::runtime::kernels;
using mind::runtime::kabi::I64;

namespace mind {

static LogicalResult lowerOp(EmbeddingOp o, PlanLowering &L) {
  int64_t n = numel(o.getIds()), h = lastDim(o.getResult());
  int64_t v = tensorOf(o.getTable()).getDimSize(0);
  L.kernel(k::embedding(L.dtypeOf(o.getTable()), n, h), L.buf(o.getTable()),
           L.buf(o.getIds()), L.buf(o.getResult()), I64(n), I64(h), I64(v));
  return success();
}

/// Deterministic scatter-add in two launches (per-chunk runs sorted by id,
/// then a reduce in chunk order) that accumulates into the table gradient:
/// the fp32 accumulator itself when marked, else a zeroed buffer.
static LogicalResult lowerOp(EmbeddingGradOp o, PlanLowering &L) {
  int64_t n = numel(o.getIds()), h = lastDim(o.getGrad());
  Value out = L.sinkOf(o.getResult());
  if (!out) {
    out = L.bufferOf(o.getResult());
    L.memset(out);
  }
  int64_t v = o.getVocabSize();
  auto grad = k::embeddingGrad(L.dtypeOf(o.getGrad()), n, h, v);
  std::vector<Value> ws; // partial, run_ids, run_count
  for (const auto &w : grad.workspaces)
    ws.push_back(L.workspace(std::string("embedding_") + w.name, w.dtype,
                             w.shape));
  L.kernel(grad.runs, L.buf(o.getGrad()), L.buf(o.getIds()), L.buf(ws[0]),
           L.buf(ws[1]), L.buf(ws[2]), I64(n), I64(h), I64(v));
  L.kernel(grad.reduce, L.buf(ws[0]), L.buf(ws[1]), L.buf(ws[2]), L.buf(out),
           I64(grad.chunks), I64(h), I64(v));
  return success();
}

void registerEmbeddingLowerings(DialectRegistry &registry) {
  attachLowerings<EmbeddingOp, EmbeddingGradOp>(registry);
}

} // namespace mind
