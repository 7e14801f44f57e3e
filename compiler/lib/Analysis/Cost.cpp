//===- Cost.cpp - parameter and FLOP counts of mind functions -------------===//

#include "mind/Analysis/Cost.h"

#include "mind/Dialect/Mind/IR/MindOps.h"

using namespace mlir;
using namespace mind;

int64_t mind::matmulFlops(Operation *op) {
  auto counted = dyn_cast<FlopCountOpInterface>(op);
  return counted ? counted.getMatmulFlops() : 0;
}

FunctionCost mind::analyzeCost(func::FuncOp func) {
  FunctionCost cost;
  for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
    if (func.getArgAttr(i, "mind.param"))
      cost.parameters += cast<RankedTensorType>(func.getArgument(i).getType())
                             .getNumElements();
  func.walk([&](Operation *op) { cost.flops += matmulFlops(op); });
  return cost;
}
