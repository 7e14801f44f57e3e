//===- PlanOps.h - plan ops -------------------------------------*- C++ -*-===//

#ifndef MIND_DIALECT_PLAN_IR_PLANOPS_H
#define MIND_DIALECT_PLAN_IR_PLANOPS_H

#include "mind/Dialect/Plan/IR/PlanDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/SymbolTable.h"

#include "mind/Dialect/Plan/IR/PlanEnums.h.inc"

#define GET_OP_CLASSES
#include "mind/Dialect/Plan/IR/PlanOps.h.inc"

#endif // MIND_DIALECT_PLAN_IR_PLANOPS_H
