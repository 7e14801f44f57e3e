//===- MindOps.h - mind ops -------------------------------------*- C++ -*-===//

#ifndef MIND_DIALECT_MIND_IR_MINDOPS_H
#define MIND_DIALECT_MIND_IR_MINDOPS_H

#include "mind/Dialect/Mind/IR/MindDialect.h"
#include "mind/Dialect/Mind/IR/MindInterfaces.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "mind/Dialect/Mind/IR/MindOps.h.inc"

namespace mind {
/// True for the ops a `mind.fused_elementwise` region may hold: add, mul,
/// silu, silu_grad, swiglu, swiglu_grad, and float-to-float cast.
bool isFusibleElementwise(mlir::Operation *op);
} // namespace mind

#endif // MIND_DIALECT_MIND_IR_MINDOPS_H
