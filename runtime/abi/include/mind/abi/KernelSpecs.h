//===- KernelSpecs.h - launch rules of the CUDA kernel templates -*- C++
//-*-===//
//
// One function per kernel template of runtime/kernels/*.cuh: given the
// problem (shapes, element type), it returns the template instantiation's
// NVRTC name expression and its launch configuration, typed by the kernel's
// signature (KernelSignatures.h holds every parameter list; kabi::Launch<S>
// pairs a launch with it). The compiler uses these when lowering to a plan;
// test/gpu uses the same functions, so the tests launch exactly what the
// compiler emits.
//
// Element types are named by their CUDA spelling: "float", "__nv_bfloat16",
// "__half".
//
//===----------------------------------------------------------------------===//

#ifndef MIND_ABI_KERNELSPECS_H
#define MIND_ABI_KERNELSPECS_H

#include "mind/abi/KernelAbi.h"
#include "mind/abi/Plan.h"

#include <string>
#include <vector>

namespace mind::runtime::kernels {

/// The CUDA spelling of a float dtype ("float", "__nv_bfloat16", "__half");
/// throws std::invalid_argument for others.
std::string cudaTypeName(DType dtype);

/// The name expression of S's kernel (or of `kernel`, which shares S's
/// signature) instantiated with `templateArgs`.
template <class S>
std::string instance(const std::vector<std::string> &templateArgs = {},
                     const char *kernel = S::name) {
  return kabi::nameExpression(kernel, templateArgs);
}

/// mind::rope_table (not a template): the f32 cos/sin tables [seq, dim],
/// YaRN-scaled when its factor asks for it.
kabi::Launch<sig::rope_table> ropeTable(int64_t seq, int64_t dim);

} // namespace mind::runtime::kernels

// Each kernel family declares its launch functions in its own header; this
// one gives them all.
#include "mind/abi/AttentionSpecs.h"
#include "mind/abi/DenseKernelSpecs.h"
#include "mind/abi/MoeSpecs.h"
#include "mind/abi/OptimizerSpecs.h"

#endif // MIND_ABI_KERNELSPECS_H
