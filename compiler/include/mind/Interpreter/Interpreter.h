//===- Interpreter.h - reference CPU executor of mind IR --------*- C++ -*-===//
//
// Executes a `func.func` of `mind` ops on the CPU. Values are ref::Tensor
// (double storage); after every op each result is rounded to its IR element
// type (f32, bf16, f16), so an f32 function behaves like f32 code with wide
// accumulators. Float64 precision skips the rounding, for gradient checks.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_INTERPRETER_INTERPRETER_H
#define MIND_INTERPRETER_INTERPRETER_H

#include "mind/Interpreter/RefKernels.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <stdexcept>
#include <vector>

namespace mind {

/// A failure while executing IR: the message names the op and its location.
class InterpreterError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

enum class InterpreterPrecision {
  /// Round every value to its element type after each op (the default).
  AsTyped,
  /// Keep every value in double precision.
  Float64,
};

struct InterpreterOptions {
  InterpreterPrecision precision = InterpreterPrecision::AsTyped;
};

class Interpreter {
public:
  explicit Interpreter(InterpreterOptions options = {}) : options(options) {}

  /// Runs `func` on `args` (one per argument, shapes must match the argument
  /// types) and returns its results. Values listed in `taps` are copied into
  /// `tapped` as they are computed (e.g. the logits inside a train step).
  std::vector<ref::Tensor> run(mlir::func::FuncOp func,
                               const std::vector<ref::Tensor> &args,
                               llvm::ArrayRef<mlir::Value> taps = {},
                               std::vector<ref::Tensor> *tapped = nullptr);

private:
  InterpreterOptions options;
};

/// Arguments for `func` from `args`, which are given for every argument but
/// the weight copies (`mind.param_copy`, added by mind-weight-copies): each
/// copy gets its parameter's value (run() rounds it to the copy's type, as
/// the cast it replaced did). Throws InterpreterError on a copy of an
/// unknown parameter or a wrong argument count.
std::vector<ref::Tensor> withWeightCopies(mlir::func::FuncOp func,
                                          std::vector<ref::Tensor> args);

/// The rounding kind of a tensor type's element type.
ref::ElemKind elemKindOf(mlir::Type type);

} // namespace mind

#endif // MIND_INTERPRETER_INTERPRETER_H
