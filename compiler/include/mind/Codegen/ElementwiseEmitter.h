//===- ElementwiseEmitter.h - CUDA C++ for elementwise mind ops -*- C++ -*-===//
//
// Elementwise ops are not instantiated from templates: their kernels are
// emitted from the IR, op by op. Each kernel loads its operands, converts
// them to fp32, evaluates the op's expression and stores every result in
// its own element type; each thread takes runs of 8 consecutive elements
// with 16-byte loads and stores (grid-stride), a scalar loop the tail. The
// emitted functions are `extern "C"`, named after the op and a hash of their
// text, and compiled with the kernel library in the same NVRTC program.
// A mind.fused_elementwise region is the same loop with its ops' statements
// in the body, each value that is not f32 rounded to its type in place (so
// the kernel computes what the unfused ops would, bit for bit).
//
//===----------------------------------------------------------------------===//

#ifndef MIND_CODEGEN_ELEMENTWISEEMITTER_H
#define MIND_CODEGEN_ELEMENTWISEEMITTER_H

#include "mlir/IR/Operation.h"

#include <string>

namespace mind {

struct EmittedKernel {
  std::string name;   // the extern "C" symbol
  std::string source; // CUDA C++ of one __global__ function
};

/// True for the ops the emitter handles: add, mul, silu, silu_grad, swiglu,
/// swiglu_grad, cast, and fused_elementwise regions of them.
bool isEmittedElementwise(mlir::Operation *op);

/// Emits `op`'s kernel. Its parameters are the operands' pointers, then the
/// results' pointers, then `long long n` (the element count).
mlir::FailureOr<EmittedKernel> emitElementwiseKernel(mlir::Operation *op);

} // namespace mind

#endif // MIND_CODEGEN_ELEMENTWISEEMITTER_H
