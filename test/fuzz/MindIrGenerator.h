//===- MindIrGenerator.h - random verifier-valid mind functions -*- C++ -*-===//
//
// Builds random @forward functions over every op of the mind dialect
// (forward, gradient and fusion ops) for the IR fuzz test. Shapes are small
// with zero-sized dimensions, ranks 0-4 where an op allows them and, rarely,
// one dimension past 2^31; attributes are drawn from typical and extreme
// values the verifiers accept (denormal and huge epsilons, NaN scales, huge
// max_positions, ...). The function's results are summed into a scalar loss,
// so mind-autodiff and the lowering can run on it. The same seed gives the
// same module.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_TEST_FUZZ_MINDIRGENERATOR_H
#define MIND_TEST_FUZZ_MINDIRGENERATOR_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mind::fuzz {

/// The ops the generator draws from, by name ("mind.linear", ...).
const std::vector<std::string> &generatedOpNames();

/// A module holding `func.func @forward`, built from `seed`.
mlir::OwningOpRef<mlir::ModuleOp> generateForward(mlir::MLIRContext &ctx,
                                                  uint64_t seed);

/// Sets one attribute of one op of `module` to an extreme value (NaN, inf,
/// zero, negative, INT64_MIN/MAX): the verifier must then reject or accept
/// it without crashing. Returns a description ("mind.rmsnorm epsilon = nan"),
/// or "" when the module has no op with attributes.
std::string mutateAttribute(mlir::ModuleOp module, uint64_t seed);

} // namespace mind::fuzz

#endif // MIND_TEST_FUZZ_MINDIRGENERATOR_H
