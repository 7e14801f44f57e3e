//===- PlanTestUtil.h - hand-built plans for the executor tests -*- C++ -*-===//

#ifndef MIND_TEST_GPU_PLANTESTUTIL_H
#define MIND_TEST_GPU_PLANTESTUTIL_H

#include "mind/abi/Bundle.h"
#include "mind/kernels/Nvrtc.h"
#include "mind/abi/OptimizerSpecs.h"

namespace mind::gputest {

/// Appends buffers at 256-byte-aligned offsets, like the memory planner.
struct PlanBuilder {
  runtime::Plan plan;
  uint64_t end = 0;

  int64_t add(const std::string &name, runtime::BufferKind kind,
              runtime::DType dtype, std::vector<int64_t> shape) {
    runtime::BufferDesc b;
    b.name = name;
    b.kind = kind;
    b.dtype = dtype;
    b.shape = std::move(shape);
    b.bytes = runtime::numElements(b.shape) * runtime::dtypeSize(b.dtype);
    b.offset = (end + 255) / 256 * 256;
    end = b.offset + b.bytes;
    plan.buffers.push_back(b);
    return static_cast<int64_t>(plan.buffers.size() - 1);
  }
  /// Bytes [byteOffset, ...) of buffer `source` as a View of `shape`.
  int64_t view(int64_t source, uint64_t byteOffset, runtime::DType dtype,
               std::vector<int64_t> shape) {
    const runtime::BufferDesc &src = plan.buffers[static_cast<size_t>(source)];
    runtime::BufferDesc b;
    b.name = src.name + "@" + std::to_string(byteOffset);
    b.kind = runtime::BufferKind::View;
    b.viewOf = source;
    b.dtype = dtype;
    b.shape = std::move(shape);
    b.bytes = runtime::numElements(b.shape) * runtime::dtypeSize(b.dtype);
    b.offset = src.offset + byteOffset;
    plan.buffers.push_back(b);
    return static_cast<int64_t>(plan.buffers.size() - 1);
  }
  /// Params p0.. of `sizes` elements, then their grads in the same layout.
  void addParams(const std::vector<int64_t> &sizes) {
    for (size_t i = 0; i < sizes.size(); ++i)
      add("p" + std::to_string(i), runtime::BufferKind::Param,
          runtime::DType::F32, {sizes[i]});
    for (size_t i = 0; i < sizes.size(); ++i)
      add("p" + std::to_string(i) + ".grad", runtime::BufferKind::Grad,
          runtime::DType::F32, {sizes[i]});
  }
  /// A library kernel (its parameters from KernelSignatures.h), or a test
  /// kernel with the parameters `params` declare.
  int64_t kernel(const std::string &nameExpr,
                 std::vector<runtime::kabi::ResolvedParam> params = {}) {
    runtime::KernelEntry k;
    k.nameExpr = nameExpr;
    k.params = nameExpr.rfind("mind::", 0) == 0
                   ? runtime::kabi::resolveLibraryKernel(nameExpr)
                   : std::move(params);
    plan.kernels.push_back(std::move(k));
    return static_cast<int64_t>(plan.kernels.size() - 1);
  }
  /// Compiles every kernel (the optimizer's added) from the kernel library
  /// plus `extraSource` for `arch` (default: this device's), and returns the
  /// validated bundle.
  runtime::Bundle build(const std::string &extraSource = "",
                        std::string arch = "") {
    for (const std::string &n : runtime::kernels::optimizerKernelNames())
      kernel(n);
    plan.arenaBytes = (end + 255) / 256 * 256;
    std::vector<std::string> names;
    for (const auto &k : plan.kernels)
      names.push_back(k.nameExpr);
    auto compiled = runtime::compileKernels(
        runtime::kernelLibrarySource() + extraSource, names,
        arch.empty() ? runtime::deviceArch() : arch);
    for (size_t i = 0; i < names.size(); ++i)
      plan.kernels[i].loweredName = compiled.loweredNames[i];
    runtime::Bundle b;
    b.plan = plan;
    b.cubin = compiled.cubin;
    runtime::validatePlan(b.plan);
    return b;
  }
};

} // namespace mind::gputest

#endif // MIND_TEST_GPU_PLANTESTUTIL_H
