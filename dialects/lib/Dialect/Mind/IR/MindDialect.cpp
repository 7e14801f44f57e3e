//===- MindDialect.cpp - mind dialect registration ------------------------===//

#include "mind/Dialect/Mind/IR/MindDialect.h"
#include "mind/Dialect/Mind/IR/MindOps.h"

using namespace mlir;
using namespace mind;

#include "mind/Dialect/Mind/IR/MindOpsDialect.cpp.inc"
#include "mind/Dialect/Mind/IR/MindInterfaces.cpp.inc"

void MindDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "mind/Dialect/Mind/IR/MindOps.cpp.inc"
      >();
}
