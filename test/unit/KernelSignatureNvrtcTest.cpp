//===- KernelSignatureNvrtcTest.cpp - kernels check their signatures ------===//
//
// NVRTC compiles without a GPU: a kernel whose parameters differ from its
// KernelSignatures.h entry must not compile, and the library must.
//
//===----------------------------------------------------------------------===//

#include "mind/kernels/Nvrtc.h"

#include <gtest/gtest.h>

namespace rt = mind::runtime;

namespace {

TEST(KernelSignatureNvrtc, LibraryCompilesAndAMismatchDoesNot) {
  const char *drifted = R"(
namespace mind {
// silu_fwd's parameters with the count as int instead of i64.
template <typename T> __global__ void silu_drifted(const T *x, T *y, int n) {
  MIND_CHECK_SIGNATURE_T(silu_fwd, (T), silu_drifted<T>);
}
template <typename T> __global__ void silu_same(const T *x, T *y, i64 n) {
  MIND_CHECK_SIGNATURE_T(silu_fwd, (T), silu_same<T>);
}
}
)";
  std::string source = rt::kernelLibrarySource() + drifted;
  EXPECT_NO_THROW(rt::compileKernels(source, {"mind::silu_same<float>"},
                                     "compute_80"));
  try {
    rt::compileKernels(source, {"mind::silu_drifted<float>"}, "compute_80");
    ADD_FAILURE() << "a kernel that differs from its signature compiled";
  } catch (const rt::NvrtcError &e) {
    EXPECT_NE(std::string(e.what()).find(
                  "kernel parameters differ from sig::silu_fwd"),
              std::string::npos)
        << e.what();
  }
}

} // namespace
