//===- LowerGemm.cpp - linear and matmul to cuBLASLt GEMMs ----------------===//
//
// Every GEMM of a step is a `linear` (input [..., K] times weight [N, K]
// transposed) or a `matmul`; both become one plan.gemm. A matmul marked as a
// gradient producer writes into its fp32 accumulator with beta = 1.
//
//===----------------------------------------------------------------------===//

#include "LoweringModel.h"

using namespace mlir;

namespace mind {

static LogicalResult lowerOp(LinearOp o, PlanLowering &L) {
  auto w = tensorOf(o.getWeight()).getShape();
  L.gemm(o.getInput(), o.getWeight(), o.getResult(),
         leadingRows(o.getInput()), w[0], w[1], /*transA=*/false,
         /*transB=*/true, /*beta=*/0.0f);
  return success();
}

static LogicalResult lowerOp(MatmulOp o, PlanLowering &L) {
  auto lhs = tensorOf(o.getLhs()).getShape();
  auto res = tensorOf(o.getResult()).getShape();
  Value sink = L.sinkOf(o.getResult());
  L.gemm(o.getLhs(), o.getRhs(), sink ? sink : o.getResult(), res[0], res[1],
         o.getTransposeLhs() ? lhs[0] : lhs[1], o.getTransposeLhs(),
         o.getTransposeRhs(), sink ? 1.0f : 0.0f);
  return success();
}

void registerGemmLowerings(DialectRegistry &registry) {
  attachLowerings<LinearOp, MatmulOp>(registry);
}

} // namespace mind
