//===- MindInterfaces.h - mind op interfaces --------------------*- C++ -*-===//

#ifndef MIND_DIALECT_MIND_IR_MINDINTERFACES_H
#define MIND_DIALECT_MIND_IR_MINDINTERFACES_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpDefinition.h"

#include "mind/Dialect/Mind/IR/MindInterfaces.h.inc"

#endif // MIND_DIALECT_MIND_IR_MINDINTERFACES_H
