//===- Passes.h - mind conversion passes ------------------------*- C++ -*-===//

#ifndef MIND_CONVERSION_PASSES_H
#define MIND_CONVERSION_PASSES_H

#include "mind/Dialect/Plan/IR/PlanDialect.h"
#include "mlir/Pass/Pass.h"

namespace mind {
#define GEN_PASS_DECL
#include "mind/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "mind/Conversion/Passes.h.inc"
} // namespace mind

#endif // MIND_CONVERSION_PASSES_H
