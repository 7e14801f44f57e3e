//===- FuseElementwise.cpp - form mind.fused_elementwise regions ----------===//
//
// Groups are grown from their last op (the root) backwards: a producer joins
// when it is fusible, has the group's shape, and every use of its results is
// in the group or after the root (those values become extra results of the
// fused op, which sits at the root). Roots are taken in reverse program
// order, so a group's producers are still free when it grows. See the pass
// description in Passes.td for the rules and why.
//
//===----------------------------------------------------------------------===//

#include "mind/Dialect/Mind/IR/MindOps.h"
#include "mind/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SetVector.h"

namespace mind {
#define GEN_PASS_DEF_MINDFUSEELEMENTWISE
#include "mind/Transforms/Passes.h.inc"
} // namespace mind

using namespace mlir;
using namespace mind;

namespace {
ArrayRef<int64_t> shapeOf(Value v) {
  return cast<ShapedType>(v.getType()).getShape();
}

/// Replaces `group` (in program order, last = root) by one
/// mind.fused_elementwise placed at the root.
void outline(ArrayRef<Operation *> group) {
  llvm::DenseSet<Operation *> members(group.begin(), group.end());
  llvm::SetVector<Value> inputs;
  SmallVector<Value> outputs;
  for (Operation *op : group) {
    for (Value v : op->getOperands())
      if (!members.contains(v.getDefiningOp()))
        inputs.insert(v);
    for (Value r : op->getResults())
      if (op == group.back() ||
          llvm::any_of(r.getUsers(), [&](Operation *u) {
            return !members.contains(u);
          }))
        outputs.push_back(r);
  }
  Operation *root = group.back();
  OpBuilder b(root);
  SmallVector<Type> resultTypes;
  for (Value v : outputs)
    resultTypes.push_back(v.getType());
  auto fused = b.create<FusedElementwiseOp>(root->getLoc(), resultTypes,
                                            inputs.getArrayRef());
  Block *body = b.createBlock(&fused.getBody());
  IRMapping map;
  for (Value in : inputs)
    map.map(in, body->addArgument(in.getType(), in.getLoc()));
  for (Operation *op : group)
    b.clone(*op, map);
  SmallVector<Value> yielded;
  for (Value v : outputs)
    yielded.push_back(map.lookup(v));
  b.create<YieldOp>(root->getLoc(), yielded);
  for (auto [old, now] : llvm::zip(outputs, fused.getResults()))
    old.replaceAllUsesWith(now);
  for (Operation *op : llvm::reverse(group))
    op->erase();
}

void fuseFunction(func::FuncOp func) {
  if (func.getBody().empty())
    return;
  Block &block = func.getBody().front();
  llvm::DenseSet<Operation *> keep;
  for (Value v : block.getTerminator()->getOperands())
    if (Operation *def = v.getDefiningOp())
      keep.insert(def);
  auto fusible = [&](Operation *op) {
    return isFusibleElementwise(op) && !keep.contains(op) &&
           !op->hasAttr(kGradientSinkAttr);
  };

  llvm::DenseSet<Operation *> taken;
  SmallVector<SmallVector<Operation *>> groups;
  SmallVector<Operation *> ops;
  for (Operation &op : block)
    ops.push_back(&op);
  for (Operation *root : llvm::reverse(ops)) {
    if (taken.contains(root) || !fusible(root))
      continue;
    ArrayRef<int64_t> shape = shapeOf(root->getResult(0));
    llvm::SetVector<Operation *> group;
    group.insert(root);
    for (size_t i = 0; i < group.size(); ++i)
      for (Value v : group[i]->getOperands()) {
        Operation *p = v.getDefiningOp();
        if (!p || group.contains(p) || taken.contains(p) || !fusible(p) ||
            p->getBlock() != &block || shapeOf(p->getResult(0)) != shape)
          continue;
        // A use outside the group must come after the root, where the
        // fused op will define the value (then it is one more output).
        bool usesOk = llvm::all_of(p->getUsers(), [&](Operation *u) {
          return group.contains(u) || root->isBeforeInBlock(u);
        });
        if (usesOk)
          group.insert(p);
      }
    for (Operation *op : group)
      taken.insert(op);
    if (group.size() < 2)
      continue;
    SmallVector<Operation *> ordered(group.begin(), group.end());
    llvm::sort(ordered, [](Operation *a, Operation *b) {
      return a->isBeforeInBlock(b);
    });
    groups.push_back(std::move(ordered));
  }
  for (auto &g : groups)
    outline(g);
}

struct MindFuseElementwisePass
    : public mind::impl::MindFuseElementwiseBase<MindFuseElementwisePass> {
  void runOnOperation() override {
    getOperation().walk([](func::FuncOp f) { fuseFunction(f); });
  }
};
} // namespace
