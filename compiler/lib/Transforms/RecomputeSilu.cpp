//===- RecomputeSilu.cpp - silu recomputed where its input is live --------===//
//
// See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "mind/Dialect/Mind/IR/MindOps.h"
#include "mind/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace mind {
#define GEN_PASS_DEF_MINDRECOMPUTESILU
#include "mind/Transforms/Passes.h.inc"
} // namespace mind

using namespace mlir;
using namespace mind;

namespace {

/// The last op of `block` that reads `v`, or null.
Operation *lastUserIn(Value v, Block *block) {
  Operation *last = nullptr;
  for (Operation *u : v.getUsers())
    if (u->getBlock() == block && (!last || last->isBeforeInBlock(u)))
      last = u;
  return last;
}

/// Every use of `silu` but its first reads a silu cloned just before it,
/// when the input is read at or after that use anyway.
void recompute(SiluOp silu) {
  Block *block = silu->getBlock();
  Operation *lastInput = lastUserIn(silu.getInput(), block);
  SmallVector<OpOperand *> uses;
  for (OpOperand &use : silu.getResult().getUses())
    if (use.getOwner()->getBlock() == block)
      uses.push_back(&use);
  if (uses.size() < 2)
    return; // (drop_begin of an empty range is undefined)
  llvm::sort(uses, [](OpOperand *a, OpOperand *b) {
    return a->getOwner()->isBeforeInBlock(b->getOwner());
  });
  for (OpOperand *use : llvm::drop_begin(uses)) {
    Operation *user = use->getOwner();
    if (lastInput->isBeforeInBlock(user) ||
        user->hasAttr(kGradientSinkAttr))
      continue; // the input is dead there: keep the stored value
    OpBuilder b(user);
    use->set(b.clone(*silu)->getResult(0));
  }
}

struct MindRecomputeSiluPass
    : public mind::impl::MindRecomputeSiluBase<MindRecomputeSiluPass> {
  void runOnOperation() override {
    SmallVector<SiluOp> silus;
    getOperation().walk([&](SiluOp s) { silus.push_back(s); });
    for (SiluOp s : silus)
      recompute(s);
  }
};

} // namespace
