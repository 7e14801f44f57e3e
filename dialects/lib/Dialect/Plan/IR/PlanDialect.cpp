//===- PlanDialect.cpp - plan dialect registration ------------------------===//

#include "mind/Dialect/Plan/IR/PlanDialect.h"
#include "mind/Dialect/Plan/IR/PlanOps.h"

using namespace mlir;
using namespace mind::plan;

#include "mind/Dialect/Plan/IR/PlanEnums.cpp.inc"
#include "mind/Dialect/Plan/IR/PlanOpsDialect.cpp.inc"

void PlanDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "mind/Dialect/Plan/IR/PlanOps.cpp.inc"
      >();
}
