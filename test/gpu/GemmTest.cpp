//===- GemmTest.cpp - plan GemmSteps on cuBLASLt vs ref::matmul -----------===//
//
// Every transpose combination on ragged sizes. The reference is the double
// product of the operands as stored (bf16/fp16 inputs already rounded), so
// what is left is fp32 accumulation (CUBLAS_COMPUTE_32F, never TF32):
// ~sqrt(k) * 2^-24 * |terms| typically, k <= 300 and |values| <= 1, so f32
// (and bf16/fp16 operands into an f32 C) agree to 1e-5 absolute+relative;
// we allow 1e-4 for the half-precision operand paths, whose kernels may
// split K differently. A bf16 C adds one bf16 rounding (2^-9): 1e-2.
//
//===----------------------------------------------------------------------===//

#include "GpuTest.h"

#include "mind/exec/Gemm.h"

using namespace mind;
using namespace mind::gputest;
using runtime::DType;

namespace {

struct Shape {
  int64_t m, n, k;
};

// C = alpha * op(A) op(B) + beta * C0, in double.
ref::Tensor reference(const ref::Tensor &a, const ref::Tensor &b,
                      const ref::Tensor &c0, const runtime::GemmStep &s) {
  ref::Tensor r = ref::matmul(a, b, s.transA, s.transB);
  for (size_t i = 0; i < r.data.size(); ++i)
    r.data[i] = s.alpha * r.data[i] + (s.beta != 0 ? s.beta * c0.data[i] : 0);
  return r;
}

void runCase(DType ab, DType c, const Shape &sh, bool transA, bool transB,
             float alpha, float beta, double tol, std::mt19937 &rng) {
  runtime::GemmStep s;
  s.m = sh.m;
  s.n = sh.n;
  s.k = sh.k;
  s.transA = transA;
  s.transB = transB;
  s.alpha = alpha;
  s.beta = beta;
  std::string what =
      std::string(runtime::dtypeName(ab)) + "->" + runtime::dtypeName(c) +
      " m=" + std::to_string(sh.m) + " n=" + std::to_string(sh.n) +
      " k=" + std::to_string(sh.k) + (transA ? " transA" : "") +
      (transB ? " transB" : "") + " beta=" + std::to_string(beta);
  SCOPED_TRACE(what);
  ref::Tensor a = randomTensor(transA ? std::vector<int64_t>{sh.k, sh.m}
                                      : std::vector<int64_t>{sh.m, sh.k},
                               rng);
  ref::Tensor b = randomTensor(transB ? std::vector<int64_t>{sh.n, sh.k}
                                      : std::vector<int64_t>{sh.k, sh.n},
                               rng);
  ref::Tensor c0 = randomTensor({sh.m, sh.n}, rng);
  DevTensor da = upload(a, ab), db = upload(b, ab);
  // beta = 0 must not read C: poison it. beta != 0 accumulates into C0.
  DevTensor dc = beta != 0 ? upload(c0, c) : poisoned({sh.m, sh.n}, c);
  // The operands as stored: the reference multiplies exactly these.
  a = download(da);
  b = download(db);
  if (beta != 0)
    c0 = download(dc);

  runtime::CublasLtHandle handle;
  runtime::DeviceBuffer workspace(runtime::kGemmWorkspaceBytes);
  runtime::PreparedGemm gemm(handle.get(), s, ab, c,
                             runtime::kGemmWorkspaceBytes, what);
  gemm.run(da.ptr(), db.ptr(), dc.ptr(), workspace.data(), nullptr);
  MIND_CUDA_CHECK(cudaDeviceSynchronize(), what);
  expectClose(download(dc), reference(a, b, c0, s), tol, tol, what);
}

const Shape kShapes[] = {
    {37, 53, 71}, {1, 130, 17}, {128, 64, 256}, {257, 3, 300}};

TEST(Gemm, F32AllTransposesAccumulate) {
  MIND_REQUIRE_GPU();
  std::mt19937 rng(11);
  for (const Shape &sh : kShapes)
    for (int t = 0; t < 4; ++t) {
      runCase(DType::F32, DType::F32, sh, t & 1, t & 2, 1.0f, 1.0f, 1e-5, rng);
      runCase(DType::F32, DType::F32, sh, t & 1, t & 2, 0.5f, 0.0f, 1e-5, rng);
    }
}

TEST(Gemm, Bf16IntoF32AllTransposesAccumulate) {
  MIND_REQUIRE_GPU();
  std::mt19937 rng(12);
  for (const Shape &sh : kShapes)
    for (int t = 0; t < 4; ++t)
      runCase(DType::BF16, DType::F32, sh, t & 1, t & 2, 1.0f, 1.0f, 1e-4, rng);
}

TEST(Gemm, Bf16AndF16Outputs) {
  MIND_REQUIRE_GPU();
  std::mt19937 rng(13);
  for (const Shape &sh : kShapes)
    for (int t = 0; t < 4; ++t) {
      runCase(DType::BF16, DType::BF16, sh, t & 1, t & 2, 1.0f, 0.0f, 1e-2,
              rng);
      runCase(DType::F16, DType::F32, sh, t & 1, t & 2, 1.0f, 1.0f, 1e-4, rng);
    }
}

TEST(Gemm, RejectsUnsupportedTypes) {
  MIND_REQUIRE_GPU();
  runtime::CublasLtHandle handle;
  runtime::GemmStep s;
  s.m = s.n = s.k = 4;
  EXPECT_THROW(runtime::PreparedGemm(handle.get(), s, DType::I64, DType::F32,
                                     runtime::kGemmWorkspaceBytes, "bad"),
               runtime::CudaError);
  EXPECT_THROW(runtime::PreparedGemm(handle.get(), s, DType::BF16, DType::F16,
                                     runtime::kGemmWorkspaceBytes, "bad"),
               runtime::CudaError);
}

} // namespace
