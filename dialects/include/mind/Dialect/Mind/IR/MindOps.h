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
/// Discardable attributes `mind-mark-gradient-sinks` writes and fusion and
/// the GPU lowering read: on a sum or cast between a gradient producer and
/// the return, the name of the parameter whose fp32 accumulator takes the
/// result (the op is never materialized)...
inline constexpr const char *kGradientSinkAttr = "mind.gradient_sink";
/// ...and on a producer, one string per result: the parameter whose
/// accumulator the result is added into directly ("" for none).
inline constexpr const char *kAccumulateIntoAttr = "mind.accumulate_into";

/// True for the ops a `mind.fused_elementwise` region may hold: the
/// ElementwiseOpInterface ops on float tensors (add, mul, silu, silu_grad,
/// swiglu, swiglu_grad, float-to-float cast).
bool isFusibleElementwise(mlir::Operation *op);
} // namespace mind

#endif // MIND_DIALECT_MIND_IR_MINDOPS_H
