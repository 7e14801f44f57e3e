//===- Gemm.cpp - a plan GemmStep on cuBLASLt -----------------------------===//

#include "mind/exec/Gemm.h"
#include "mind/exec/Cuda.h"

using namespace mind::runtime;

void mind::runtime::cublasCheck(cublasStatus_t status, const char *call,
                                const std::string &what) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw CudaError(what + ": " + call +
                    " failed: " + cublasLtGetStatusString(status));
}
#define MIND_CUBLAS_CHECK(call, what)                                          \
  ::mind::runtime::cublasCheck((call), #call, (what))

CublasLtHandle::CublasLtHandle() {
  MIND_CUBLAS_CHECK(cublasLtCreate(&handle), "create the cuBLASLt handle");
}

CublasLtHandle::~CublasLtHandle() {
  if (handle)
    cublasLtDestroy(handle);
}

namespace {
cudaDataType_t cudaType(DType t, const std::string &what) {
  switch (t) {
  case DType::F32:
    return CUDA_R_32F;
  case DType::BF16:
    return CUDA_R_16BF;
  case DType::F16:
    return CUDA_R_16F;
  default:
    throw CudaError(what + ": GEMM operands must be F32, BF16 or F16, not " +
                    dtypeName(t));
  }
}
} // namespace

PreparedGemm::PreparedGemm(cublasLtHandle_t handle, const GemmStep &s,
                           DType abType, DType cType, size_t workspaceBytes,
                           const std::string &what)
    : handle(handle), workspaceBytes(workspaceBytes), alpha(s.alpha),
      beta(s.beta), what(what) {
  cudaDataType_t ab = cudaType(abType, what), c = cudaType(cType, what);
  if (cType != abType && cType != DType::F32)
    throw CudaError(what + ": C must be " + dtypeName(abType) + " or F32");
  // A throwing constructor runs no destructor: release() by hand.
  try {
    MIND_CUBLAS_CHECK(
        cublasLtMatmulDescCreate(&desc, CUBLAS_COMPUTE_32F, CUDA_R_32F), what);
    // C^T = op(B)^T op(A)^T: cuBLAS's first operand is our B.
    cublasOperation_t opA = s.transB ? CUBLAS_OP_T : CUBLAS_OP_N;
    cublasOperation_t opB = s.transA ? CUBLAS_OP_T : CUBLAS_OP_N;
    MIND_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(
                          desc, CUBLASLT_MATMUL_DESC_TRANSA, &opA, sizeof(opA)),
                      what);
    MIND_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(
                          desc, CUBLASLT_MATMUL_DESC_TRANSB, &opB, sizeof(opB)),
                      what);
    // Stored (pre-op) column-major shapes: row-major X[r,c] is X^T[c,r].
    uint64_t m = s.m, n = s.n, k = s.k;
    uint64_t aRows = s.transB ? k : n, aCols = s.transB ? n : k;
    uint64_t bRows = s.transA ? m : k, bCols = s.transA ? k : m;
    MIND_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&layoutA, ab, aRows, aCols,
                                                 static_cast<int64_t>(aRows)),
                      what);
    MIND_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&layoutB, ab, bRows, bCols,
                                                 static_cast<int64_t>(bRows)),
                      what);
    MIND_CUBLAS_CHECK(
        cublasLtMatrixLayoutCreate(&layoutC, c, n, m, static_cast<int64_t>(n)),
        what);

    cublasLtMatmulPreference_t pref = nullptr;
    MIND_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref), what);
    cublasLtMatmulHeuristicResult_t result{};
    int returned = 0;
    cublasStatus_t st = cublasLtMatmulPreferenceSetAttribute(
        pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspaceBytes,
        sizeof(workspaceBytes));
    if (st == CUBLAS_STATUS_SUCCESS)
      st = cublasLtMatmulAlgoGetHeuristic(handle, desc, layoutA, layoutB,
                                          layoutC, layoutC, pref, 1, &result,
                                          &returned);
    cublasLtMatmulPreferenceDestroy(pref);
    cublasCheck(st, "cublasLtMatmulAlgoGetHeuristic", what);
    if (returned == 0)
      throw CudaError(what + ": cuBLASLt has no algorithm for " +
                      dtypeName(abType) + " x " + dtypeName(abType) + " -> " +
                      dtypeName(cType) + " m=" + std::to_string(m) +
                      " n=" + std::to_string(n) + " k=" + std::to_string(k) +
                      (s.transA ? " transA" : "") +
                      (s.transB ? " transB" : ""));
    algo = result.algo;
  } catch (...) {
    release();
    throw;
  }
}

PreparedGemm::~PreparedGemm() { release(); }

void PreparedGemm::release() {
  if (layoutC)
    cublasLtMatrixLayoutDestroy(layoutC);
  if (layoutB)
    cublasLtMatrixLayoutDestroy(layoutB);
  if (layoutA)
    cublasLtMatrixLayoutDestroy(layoutA);
  if (desc)
    cublasLtMatmulDescDestroy(desc);
  layoutA = layoutB = layoutC = nullptr;
  desc = nullptr;
}

void PreparedGemm::run(const void *a, const void *b, void *c, void *workspace,
                       cudaStream_t stream) const {
  // Our B is cuBLAS's A and vice versa; C is both C and D (in place, so
  // beta = 1 accumulates).
  MIND_CUBLAS_CHECK(cublasLtMatmul(handle, desc, &alpha, b, layoutA, a, layoutB,
                                   &beta, c, layoutC, c, layoutC, &algo,
                                   workspace, workspaceBytes, stream),
                    what);
}
