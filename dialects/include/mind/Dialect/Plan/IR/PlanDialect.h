//===- PlanDialect.h - plan dialect -----------------------------*- C++ -*-===//

#ifndef MIND_DIALECT_PLAN_IR_PLANDIALECT_H
#define MIND_DIALECT_PLAN_IR_PLANDIALECT_H

#include "mlir/IR/Dialect.h"

#include "mind/Dialect/Plan/IR/PlanOpsDialect.h.inc"

#endif // MIND_DIALECT_PLAN_IR_PLANDIALECT_H
