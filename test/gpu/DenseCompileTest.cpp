//===- DenseCompileTest.cpp - dense kernels compile for every dtype -------===//
//
// Runs without a GPU (NVRTC needs none): instantiates every dense kernel
// template that DenseKernelSpecs can name (denseKernelNames), for float, bf16
// and half, so template errors show up on any machine with the CUDA toolkit.
//
//===----------------------------------------------------------------------===//

#include "DenseTestUtil.h"

#include <set>

using namespace mind;
using namespace mind::runtime::kernels;
using mind::runtime::DType;

static std::vector<std::string> allDenseNameExprs() {
  std::set<std::string> seen;
  std::vector<std::string> names;
  for (DType t : {DType::F32, DType::BF16, DType::F16})
    for (const std::string &n : denseKernelNames(t))
      if (seen.insert(n).second)
        names.push_back(n);
  return names;
}

TEST(DenseKernels, CompileAllInstantiationsForSm90a) {
  std::vector<std::string> names = allDenseNameExprs();
  runtime::CompiledKernels out;
  try {
    out = runtime::compileKernels(runtime::kernelLibrarySource(), names,
                                  "sm_90a");
  } catch (const runtime::NvrtcError &e) {
    FAIL() << e.what();
  }
  EXPECT_FALSE(out.cubin.empty());
  ASSERT_EQ(out.loweredNames.size(), names.size());
  for (size_t i = 0; i < names.size(); ++i)
    EXPECT_FALSE(out.loweredNames[i].empty()) << names[i];
}

TEST(DenseKernels, TransposeArgsPadToRank4) {
  // [2,3,4] with perm (2,0,1): out [4,2,3], walking input strides (1,12,4).
  auto a = transposeArgs({2, 3, 4}, {2, 0, 1});
  std::array<int64_t, 9> want{24, 1, 4, 2, 3, 0, 1, 12, 4};
  EXPECT_EQ(a, want);
  EXPECT_THROW(transposeArgs({2, 3}, {0, 0}), std::invalid_argument);
  EXPECT_THROW(transposeArgs({1, 1, 1, 1, 1}, {0, 1, 2, 3, 4}),
               std::invalid_argument);
}

TEST(DenseKernels, RmsnormGradWorkspaceMatchesGrid) {
  for (int64_t rows : {1, 37, 4096, 16352})
    for (int64_t hidden : {64, 512, 768, 4096}) {
      auto c = rmsnormGrad(DType::BF16, DType::F32, rows, hidden);
      EXPECT_EQ(c.grid[0], rmsnormGradPartials(rows, hidden));
      EXPECT_LE(c.sharedBytes, 48u * 1024u);
    }
}
