//===- Gemm.h - a plan GemmStep on cuBLASLt ---------------------*- C++ -*-===//
//
// Row-major C[m,n] = alpha * op(A) op(B) + beta * C with fp32 accumulation
// (CUBLAS_COMPUTE_32F, never TF32: fp32 plans must match the interpreter).
// cuBLASLt is column-major, and a row-major matrix is its column-major
// transpose, so we compute C^T = op(B)^T op(A)^T: B is cuBLAS's "A", A its
// "B", and C is an n x m column-major matrix with leading dimension n.
// Descriptors, layouts and the algorithm are chosen once, at load.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_EXEC_GEMM_H
#define MIND_EXEC_GEMM_H

#include "mind/abi/Plan.h"

#include <cublasLt.h>
#include <cuda_runtime.h>

#include <string>

namespace mind::runtime {

/// Throws CudaError("<what>: <call> failed: <status>").
void cublasCheck(cublasStatus_t status, const char *call,
                 const std::string &what);

/// Owning cuBLASLt handle.
class CublasLtHandle {
public:
  CublasLtHandle();
  ~CublasLtHandle();
  CublasLtHandle(const CublasLtHandle &) = delete;
  CublasLtHandle &operator=(const CublasLtHandle &) = delete;
  cublasLtHandle_t get() const { return handle; }

private:
  cublasLtHandle_t handle = nullptr;
};

/// One GemmStep, prepared: matmul descriptor, layouts and the heuristic's
/// first algorithm for `workspaceBytes` of workspace.
class PreparedGemm {
public:
  /// `abType` is A's and B's dtype (F32/BF16/F16), `cType` C's (abType or
  /// F32). `what` names the step in errors.
  PreparedGemm(cublasLtHandle_t handle, const GemmStep &step, DType abType,
               DType cType, size_t workspaceBytes, const std::string &what);
  ~PreparedGemm();
  PreparedGemm(const PreparedGemm &) = delete;
  PreparedGemm &operator=(const PreparedGemm &) = delete;

  /// Enqueues the GEMM on `stream` (capturable into a CUDA graph).
  void run(const void *a, const void *b, void *c, void *workspace,
           cudaStream_t stream) const;

private:
  void release();

  cublasLtHandle_t handle;
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t layoutA = nullptr, layoutB = nullptr,
                         layoutC = nullptr; // cuBLAS's A (our B), B (our A)
  cublasLtMatmulAlgo_t algo{};
  size_t workspaceBytes;
  float alpha, beta;
  std::string what;
};

} // namespace mind::runtime

#endif // MIND_EXEC_GEMM_H
