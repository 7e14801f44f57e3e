//===- FuseElementwise.cpp - form mind.fused_elementwise regions ----------===//
//
// Groups are grown from their last op (the root) backwards: a producer joins
// when it is fusible, has the group's shape, and every use of its results is
// in the group or after the root (those values become extra results of the
// fused op, which sits at the root). Roots are taken in reverse program
// order, so a group's producers are still free when it grows. Then groups
// (single ops too) that read a common input merge into the earlier one when
// the later one's inputs exist there: one kernel reads the shared input
// once. See the pass description in Passes.td for the rules and why.
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

/// A group of ops (in program order) and where its fused op goes.
struct Group {
  SmallVector<Operation *> ops;
  Operation *at;
};

/// Values `ops` read that they do not define.
llvm::SetVector<Value> inputsOf(ArrayRef<Operation *> ops) {
  llvm::DenseSet<Operation *> members(ops.begin(), ops.end());
  llvm::SetVector<Value> inputs;
  for (Operation *op : ops)
    for (Value v : op->getOperands())
      if (!members.contains(v.getDefiningOp()))
        inputs.insert(v);
  return inputs;
}

/// Replaces `group` (in program order) by one mind.fused_elementwise placed
/// at `at`, a member every external use of a member comes after.
void outline(ArrayRef<Operation *> group, Operation *at) {
  llvm::DenseSet<Operation *> members(group.begin(), group.end());
  llvm::SetVector<Value> inputs = inputsOf(group);
  SmallVector<Value> outputs;
  for (Operation *op : group)
    for (Value r : op->getResults())
      if (r.use_empty() || llvm::any_of(r.getUsers(), [&](Operation *u) {
            return !members.contains(u);
          }))
        outputs.push_back(r);
  Operation *root = at;
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

/// Merges each group into an earlier one of its shape that reads one of its
/// inputs, when all its inputs are defined before the earlier group's
/// fused op (which stays where it is: every use of either comes later).
void mergeSiblings(SmallVector<Group> &groups) {
  llvm::sort(groups, [](const Group &a, const Group &b) {
    return a.at->isBeforeInBlock(b.at);
  });
  for (size_t i = 0; i < groups.size(); ++i) {
    Group &first = groups[i];
    if (first.ops.empty())
      continue;
    for (size_t j = i + 1; j < groups.size(); ++j) {
      Group &later = groups[j];
      if (later.ops.empty() ||
          shapeOf(later.at->getResult(0)) != shapeOf(first.at->getResult(0)))
        continue;
      llvm::SetVector<Value> have = inputsOf(first.ops),
                             want = inputsOf(later.ops);
      bool shares = llvm::any_of(want, [&](Value v) { return have.contains(v); });
      bool available = llvm::all_of(want, [&](Value v) {
        Operation *d = v.getDefiningOp();
        return !d || (d->getBlock() == first.at->getBlock() &&
                      d->isBeforeInBlock(first.at));
      });
      if (!shares || !available)
        continue;
      first.ops.append(later.ops.begin(), later.ops.end());
      llvm::sort(first.ops, [](Operation *a, Operation *b) {
        return a->isBeforeInBlock(b);
      });
      later.ops.clear();
    }
  }
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
  SmallVector<Group> groups;
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
    SmallVector<Operation *> ordered(group.begin(), group.end());
    llvm::sort(ordered, [](Operation *a, Operation *b) {
      return a->isBeforeInBlock(b);
    });
    groups.push_back({std::move(ordered), root});
  }
  mergeSiblings(groups);
  for (Group &g : groups)
    if (g.ops.size() >= 2)
      outline(g.ops, g.at);
}

struct MindFuseElementwisePass
    : public mind::impl::MindFuseElementwiseBase<MindFuseElementwisePass> {
  void runOnOperation() override {
    getOperation().walk([](func::FuncOp f) { fuseFunction(f); });
  }
};
} // namespace
