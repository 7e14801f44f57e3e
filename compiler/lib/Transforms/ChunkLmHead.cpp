//===- ChunkLmHead.cpp - the LM head and its loss over token chunks -------===//
//
// See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "mind/Dialect/Mind/IR/MindOps.h"
#include "mind/Transforms/Passes.h"

#include "mlir/IR/BuiltinOps.h"

namespace mind {
#define GEN_PASS_DEF_MINDCHUNKLMHEAD
#include "mind/Transforms/Passes.h.inc"
} // namespace mind

using namespace mlir;
using namespace mind;

namespace {

constexpr int64_t kMaxChunks = 256;

bool isI64(Value v) {
  return cast<RankedTensorType>(v.getType()).getElementType().isInteger(64);
}

/// The parameter a matmul's result is accumulated into, or "".
StringRef sinkName(MatmulOp m) {
  auto names = m->getAttrOfType<ArrayAttr>(kAccumulateIntoAttr);
  if (!names || names.empty())
    return "";
  auto name = dyn_cast<StringAttr>(names[0]);
  return name ? name.getValue() : "";
}

/// `v` itself, or the value a mind.reshape read to make it.
Value throughReshape(Value v) {
  if (auto r = v.getDefiningOp<ReshapeOp>())
    return r.getInput();
  return v;
}

/// linear -> cross_entropy and cross_entropy_grad of its logits, whose
/// gradient (reshaped to rows) feeds exactly the two GEMMs of the linear's
/// gradient, the weight's one added into an accumulator.
void chunk(CrossEntropyGradOp grad, int64_t chunkRows) {
  auto lin = grad.getLogits().getDefiningOp<LinearOp>();
  if (!lin || !isI64(grad.getTargets()) || !isI64(grad.getMask()))
    return;
  CrossEntropyOp loss;
  for (Operation *u : lin.getResult().getUsers()) {
    if (u == grad)
      continue;
    auto ce = dyn_cast<CrossEntropyOp>(u);
    if (!ce || loss || ce.getTargets() != grad.getTargets() ||
        ce.getMask() != grad.getMask())
      return;
    loss = ce;
  }
  if (!loss || !grad.getResult().hasOneUse())
    return;
  auto rows = dyn_cast<ReshapeOp>(*grad.getResult().getUsers().begin());
  if (!rows)
    return;
  MatmulOp dx, dw;
  for (Operation *u : rows.getResult().getUsers()) {
    auto m = dyn_cast<MatmulOp>(u);
    if (!m || m.getTransposeRhs())
      return;
    if (!m.getTransposeLhs() && m.getLhs() == rows.getResult() &&
        m.getRhs() == lin.getWeight() && !dx)
      dx = m;
    else if (m.getTransposeLhs() && m.getLhs() == rows.getResult() &&
             throughReshape(m.getRhs()) == lin.getInput() &&
             !sinkName(m).empty() && !dw)
      dw = m;
    else
      return;
  }
  if (!dx || !dw || dw.getType() != lin.getWeight().getType())
    return;

  // At most kMaxChunks chunks: longer inputs get larger ones (a multiple of
  // 16 still), so the plan stays a few hundred steps.
  auto in = cast<RankedTensorType>(lin.getInput().getType());
  if (in.getNumElements() == 0)
    return; // nothing to chunk (and no GPU buffer for it)
  int64_t tokens = in.getNumElements() / in.getShape().back();
  int64_t perChunk = (tokens + kMaxChunks - 1) / kMaxChunks;
  chunkRows = std::max(chunkRows, (perChunk + 15) / 16 * 16);

  OpBuilder b(lin);
  Location loc = lin.getLoc();
  auto fused = LmHeadLossOp::create(
      b, loc, loss.getType(), lin.getInput().getType(), dw.getType(),
      lin.getInput(), lin.getWeight(), grad.getTargets(), grad.getMask(),
      grad.getGrad(), b.getI64IntegerAttr(chunkRows));
  fused->setAttr(kAccumulateIntoAttr,
                 b.getStrArrayAttr({"", "", sinkName(dw)}));
  loss.getResult().replaceAllUsesWith(fused.getLoss());
  dx.getResult().replaceAllUsesWith(
      ReshapeOp::create(b, loc, dx.getType(), fused.getInputGrad()));
  dw.getResult().replaceAllUsesWith(fused.getWeightGrad());
  Value dwRows = dw.getRhs();
  for (Operation *op :
       {dx.getOperation(), dw.getOperation(), rows.getOperation(),
        grad.getOperation(), loss.getOperation(), lin.getOperation()})
    op->erase();
  if (auto r = dwRows.getDefiningOp<ReshapeOp>(); r && r->use_empty())
    r->erase();
}

struct MindChunkLmHeadPass
    : public mind::impl::MindChunkLmHeadBase<MindChunkLmHeadPass> {
  using MindChunkLmHeadBase::MindChunkLmHeadBase;
  void runOnOperation() override {
    int64_t rows = chunkRows;
    if (rows < 16 || rows % 16 != 0) {
      getOperation().emitError("mind-chunk-lm-head: chunk-rows must be a "
                               "positive multiple of 16, got ")
          << rows;
      return signalPassFailure();
    }
    SmallVector<CrossEntropyGradOp> grads;
    getOperation().walk([&](CrossEntropyGradOp g) { grads.push_back(g); });
    for (CrossEntropyGradOp g : grads)
      chunk(g, rows);
  }
};

} // namespace
