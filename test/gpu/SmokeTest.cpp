//===- SmokeTest.cpp - the harness itself on the GPU ----------------------===//

#include "GpuTest.h"

using namespace mind;
using namespace mind::gputest;

// The embedded library compiles for this machine's GPU architecture (also
// checked without a GPU: NVRTC needs none).
TEST(GpuHarness, KernelLibraryCompilesForSm90a) {
  auto out = runtime::compileKernels(runtime::kernelLibrarySource(), {},
                                     "sm_90a");
  EXPECT_FALSE(out.cubin.empty());
}

TEST(GpuHarness, PoisonReadsBackAsNaN) {
  MIND_REQUIRE_GPU();
  DevTensor t = poisoned({4}, runtime::DType::F32);
  ref::Tensor h = download(t);
  for (double v : h.data)
    EXPECT_TRUE(std::isnan(v));
}
