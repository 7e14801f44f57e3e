//===- DenseTestUtil.h - helpers of the dense kernel tests ------*- C++ -*-===//
//
// Shared by DenseElementwiseTest, DenseNormTest and DenseLossTest. Inputs are
// rounded to their storage type BEFORE the reference runs, so the reference
// sees exactly what the GPU reads; the remaining error is the kernel's fp32
// math plus one rounding of the output to its storage type.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_TEST_GPU_DENSETESTUTIL_H
#define MIND_TEST_GPU_DENSETESTUTIL_H

#include "GpuTest.h"
#include "mind/abi/KernelSpecs.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace mind::gputest::dense {

using runtime::DType;

inline ref::ElemKind elemKind(DType t) {
  switch (t) {
  case DType::F32:
    return ref::ElemKind::F32;
  case DType::BF16:
    return ref::ElemKind::BF16;
  case DType::F16:
    return ref::ElemKind::F16;
  default:
    return ref::ElemKind::Int;
  }
}

/// `t` rounded to what storage type `d` can hold.
inline ref::Tensor rounded(ref::Tensor t, DType d) {
  ref::roundTo(t, elemKind(d));
  return t;
}

inline double maxAbs(const ref::Tensor &t) {
  double m = 0;
  for (double v : t.data)
    m = std::max(m, std::abs(v));
  return m;
}

inline std::string label(DType t) { return runtime::dtypeName(t); }

/// Relative tolerance of one output rounding to `t` plus fp32 math: bf16
/// keeps 8 significant bits (half-ulp 2^-9 = 2e-3), f16 11 bits (2^-12 =
/// 2.4e-4), f32 24 bits (6e-8, and fp32 reductions/exp add ~1e-6).
inline double storageRtol(DType t) {
  switch (t) {
  case DType::BF16:
    return 1e-2;
  case DType::F16:
    return 2e-3;
  default:
    return 1e-5;
  }
}

/// Compares a downloaded output with the reference: rtol of the storage
/// type; atol a small fraction of the output's scale, for entries that
/// cancel to near zero (their fp32 error follows the operands' scale), plus
/// half the f16 subnormal quantum (2^-25) where f16 loses relative precision.
inline void expectStorageClose(const ref::Tensor &got, const ref::Tensor &want,
                               DType t, const std::string &what,
                               double atolScale = 1e-6) {
  double atol = atolScale * maxAbs(want) + (t == DType::F16 ? 3e-8 : 0.0);
  expectClose(got, want, atol, storageRtol(t), what + " (" + label(t) + ")");
}

} // namespace mind::gputest::dense

#endif // MIND_TEST_GPU_DENSETESTUTIL_H
