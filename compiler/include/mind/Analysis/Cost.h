//===- Cost.h - parameter and FLOP counts of mind functions -----*- C++ -*-===//

#ifndef MIND_ANALYSIS_COST_H
#define MIND_ANALYSIS_COST_H

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <cstdint>

namespace mind {

/// Matrix-multiply FLOPs (2 per multiply-add) of one op: linear, matmul,
/// grouped GEMMs and attention (QK^T and PV over the causal pairs only,
/// backward 2x forward, no recomputation counted). Zero for other ops, whose
/// cost is memory traffic, not arithmetic.
int64_t matmulFlops(mlir::Operation *op);

struct FunctionCost {
  int64_t parameters = 0; // elements of the `mind.param` arguments
  int64_t flops = 0;      // sum of matmulFlops over the body
};

FunctionCost analyzeCost(mlir::func::FuncOp func);

} // namespace mind

#endif // MIND_ANALYSIS_COST_H
