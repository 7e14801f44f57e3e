//===- MindInterfaces.h - mind op interfaces --------------------*- C++ -*-===//

#ifndef MIND_DIALECT_MIND_IR_MINDINTERFACES_H
#define MIND_DIALECT_MIND_IR_MINDINTERFACES_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpDefinition.h"

#include <string>

namespace mind {
/// AutocastOpInterface: how an op computes under mixed precision.
enum class AutocastRule {
  Compute, ///< float operands cast to the compute type; result 0 takes it
  Float32, ///< float operands cast to f32 (softmax, losses)
  Promote, ///< float operands cast to the widest of them
};
/// AutocastOpInterface: one float operand's part in its op's rule.
enum class AutocastOperand {
  Cast,        ///< takes part and is cast
  PromoteOnly, ///< counts for the widest type, keeps its own
  Keep,        ///< takes no part (keeps its type, does not count)
};
} // namespace mind

#include "mind/Dialect/Mind/IR/MindInterfaces.h.inc"

#endif // MIND_DIALECT_MIND_IR_MINDINTERFACES_H
