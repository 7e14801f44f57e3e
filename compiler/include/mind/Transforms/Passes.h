//===- Passes.h - mind transformation passes --------------------*- C++ -*-===//

#ifndef MIND_TRANSFORMS_PASSES_H
#define MIND_TRANSFORMS_PASSES_H

#include "mind/Dialect/Mind/IR/MindDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace mind {
#define GEN_PASS_DECL
#include "mind/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "mind/Transforms/Passes.h.inc"
} // namespace mind

#endif // MIND_TRANSFORMS_PASSES_H
