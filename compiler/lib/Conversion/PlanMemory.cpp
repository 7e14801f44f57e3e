//===- PlanMemory.cpp - the mind-plan-memory pass -------------------------===//

#include "mind/Conversion/MemoryPlanner.h"
#include "mind/Conversion/Passes.h"
#include "mind/Dialect/Plan/IR/PlanOps.h"
#include "mind/Dialect/Plan/IR/PlanUtils.h"
#include "mind/abi/DType.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"

#include <numeric>

namespace mind {
#define GEN_PASS_DEF_MINDPLANMEMORY
#include "mind/Conversion/Passes.h.inc"
} // namespace mind

using namespace mlir;
using namespace mind;

namespace {

int rank(plan::BufferKind kind) {
  switch (kind) {
  case plan::BufferKind::param:
    return 0;
  case plan::BufferKind::grad:
    return 1;
  case plan::BufferKind::param_copy:
    return 2;
  case plan::BufferKind::input:
    return 3;
  case plan::BufferKind::output:
    return 4;
  case plan::BufferKind::activation:
    return 5;
  }
  return 5;
}

void planStep(plan::MicroStepOp step) {
  SmallVector<plan::BufferOp> buffers;
  llvm::DenseMap<Value, size_t> index;
  for (auto b : step.getBlock().getOps<plan::BufferOp>()) {
    index[b.getResult()] = buffers.size();
    buffers.push_back(b);
  }
  // A view's use is a use of its source (the view has no bytes of its own).
  SmallVector<plan::ViewOp> views;
  for (auto v : step.getBlock().getOps<plan::ViewOp>()) {
    index[v.getResult()] = index.lookup(v.getSource());
    views.push_back(v);
  }
  // Live ranges in step indices: the first and last step using a buffer.
  std::vector<PlannedBuffer> planned(buffers.size());
  std::vector<bool> touched(buffers.size(), false);
  int64_t stepIndex = 0;
  for (Operation &op : step.getBlock()) {
    if (!isa<plan::KernelOp, plan::GemmOp, plan::MemsetOp>(op))
      continue;
    for (Value v : op.getOperands()) {
      auto found = index.find(v);
      if (found == index.end())
        continue; // the micro-step verifier allows no other memrefs
      size_t i = found->second;
      if (!touched[i])
        planned[i].first = stepIndex;
      touched[i] = true;
      planned[i].last = stepIndex;
    }
    ++stepIndex;
  }
  for (size_t i = 0; i < buffers.size(); ++i) {
    auto t = cast<MemRefType>(buffers[i].getType());
    planned[i].bytes = *plan::bufferBytes(t); // the verifier checked it
    planned[i].persistent =
        buffers[i].getKind() != plan::BufferKind::activation;
  }
  // Persistent buffers are laid out in list order: group them by kind.
  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return rank(buffers[a].getKind()) < rank(buffers[b].getKind());
  });
  std::vector<PlannedBuffer> sorted;
  for (size_t i : order)
    sorted.push_back(planned[i]);
  MemoryPlan mp = planMemory(sorted);
  // Param copies mirror the param region at half its offsets (element e of
  // one is element e of the other: the optimizer writes both in one pass).
  // The planner reserved at least that much for them: each copy's 256-byte
  // aligned size is no smaller than half its param's.
  std::optional<uint64_t> paramBase, copyBase;
  llvm::StringMap<uint64_t> paramOffsets;
  for (size_t k = 0; k < order.size(); ++k) {
    plan::BufferOp buf = buffers[order[k]];
    if (buf.getKind() == plan::BufferKind::param) {
      paramBase = paramBase.value_or(sorted[k].offset);
      paramOffsets[buf.getName()] = sorted[k].offset - *paramBase;
    } else if (buf.getKind() == plan::BufferKind::param_copy) {
      copyBase = copyBase.value_or(sorted[k].offset);
      StringRef param = buf.getName().drop_back(sizeof(".copy") - 1);
      sorted[k].offset = *copyBase + paramOffsets.lookup(param) / 2;
    }
  }
  Builder b(step.getContext());
  for (size_t k = 0; k < order.size(); ++k)
    buffers[order[k]].setOffsetAttr(
        b.getI64IntegerAttr(static_cast<int64_t>(sorted[k].offset)));
  for (plan::ViewOp v : views) {
    auto source = v.getSource().getDefiningOp<plan::BufferOp>();
    v.setOffsetAttr(
        b.getI64IntegerAttr(*source.getOffset() + v.getByteOffset()));
  }
  step.setArenaBytesAttr(
      b.getI64IntegerAttr(static_cast<int64_t>(mp.arenaBytes)));
}

struct MindPlanMemoryPass
    : public mind::impl::MindPlanMemoryBase<MindPlanMemoryPass> {
  void runOnOperation() override {
    getOperation().walk([](plan::MicroStepOp step) { planStep(step); });
  }
};

} // namespace
