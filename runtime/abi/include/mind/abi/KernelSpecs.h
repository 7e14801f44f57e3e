//===- KernelSpecs.h - launch rules of the CUDA kernel templates -*- C++ -*-===//
//
// One function per kernel template of runtime/kernels/*.cuh: given the
// problem (shapes, element type), it returns the template instantiation's
// NVRTC name expression and its launch configuration. The compiler uses these
// when lowering to a plan; test/gpu uses the same functions, so the tests
// launch exactly what the compiler emits. Each function documents the kernel
// arguments in order (B = buffer pointer, I = int64, F = float).
//
// Element types are named by their CUDA spelling: "float", "__nv_bfloat16",
// "__half".
//
//===----------------------------------------------------------------------===//

#ifndef MIND_ABI_KERNELSPECS_H
#define MIND_ABI_KERNELSPECS_H

#include "mind/abi/Plan.h"

#include <string>

namespace mind::runtime::kernels {

/// The CUDA spelling of a float dtype ("float", "__nv_bfloat16", "__half");
/// throws std::invalid_argument for others.
std::string cudaTypeName(DType dtype);

/// `mind::rope_table` (not a template): B cos, B sin (f32 [seq, dim]), I seq,
/// I dim, D theta, I maxPositions, D yarnFactor, I yarnOriginalMax,
/// D betaFast, D betaSlow, D attentionFactor (D = double).
LaunchConfig ropeTable(int64_t seq, int64_t dim);

} // namespace mind::runtime::kernels

// Each kernel family declares its launch functions in its own header; this
// one gives them all.
#include "mind/abi/AttentionSpecs.h"
#include "mind/abi/DenseKernelSpecs.h"
#include "mind/abi/MoeSpecs.h"
#include "mind/abi/OptimizerSpecs.h"

#endif // MIND_ABI_KERNELSPECS_H
