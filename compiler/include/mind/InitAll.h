//===- InitAll.h - register mindc's dialects and passes ---------*- C++ -*-===//

#ifndef MIND_INITALL_H
#define MIND_INITALL_H

#include "mlir/IR/DialectRegistry.h"

namespace mind {
/// Adds every dialect mindc's IR may contain (mind, func, builtin).
void registerAllDialects(mlir::DialectRegistry &registry);
/// Registers every mind pass and pipeline with the global pass registry, so
/// that `mind-opt` and `mindc` accept them as command-line flags.
void registerAllPasses();
} // namespace mind

#endif // MIND_INITALL_H
