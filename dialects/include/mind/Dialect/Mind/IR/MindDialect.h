//===- MindDialect.h - mind dialect -----------------------------*- C++ -*-===//

#ifndef MIND_DIALECT_MIND_IR_MINDDIALECT_H
#define MIND_DIALECT_MIND_IR_MINDDIALECT_H

#include "mlir/IR/Dialect.h"

#include "mind/Dialect/Mind/IR/MindOpsDialect.h.inc"

#endif // MIND_DIALECT_MIND_IR_MINDDIALECT_H
