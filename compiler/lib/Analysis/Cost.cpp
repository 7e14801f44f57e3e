//===- Cost.cpp - parameter and FLOP counts of mind functions -------------===//

#include "mind/Analysis/Cost.h"

#include "mind/Dialect/Mind/IR/MindOps.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mind;

namespace {
RankedTensorType tensorOf(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// 2 * rows * N * K for rows x K times K x N.
int64_t gemm(int64_t rows, int64_t n, int64_t k) { return 2 * rows * n * k; }

/// Forward attention FLOPs: QK^T and PV, each 2*D per (query, key) pair.
int64_t attentionFlops(Value query, bool causal) {
  auto q = tensorOf(query).getShape(); // [B, S, Hq, D]
  int64_t s = q[1];
  int64_t pairs = causal ? s * (s + 1) / 2 : s * s;
  return 2 * 2 * q[0] * q[2] * pairs * q[3];
}
} // namespace

int64_t mind::matmulFlops(Operation *op) {
  return llvm::TypeSwitch<Operation *, int64_t>(op)
      .Case([](LinearOp o) {
        auto w = tensorOf(o.getWeight()).getShape();
        return gemm(tensorOf(o.getInput()).getNumElements() / w[1], w[0],
                    w[1]);
      })
      .Case([](MatmulOp o) {
        auto r = tensorOf(o.getResult()).getShape();
        auto l = tensorOf(o.getLhs()).getShape();
        int64_t k = o.getTransposeLhs() ? l[0] : l[1];
        return gemm(r[0], r[1], k);
      })
      .Case([](GroupedLinearOp o) {
        auto r = tensorOf(o.getResult()).getShape();
        return gemm(r[0], r[1], tensorOf(o.getInput()).getDimSize(1));
      })
      .Case([](GroupedLinearGradOp o) {
        auto dy = tensorOf(o.getGrad()).getShape();
        // Input gradient and weight gradients: two GEMMs of the forward size.
        return 2 * gemm(dy[0], dy[1], tensorOf(o.getInput()).getDimSize(1));
      })
      .Case([](AttentionOp o) {
        return attentionFlops(o.getQuery(), o.getCausal());
      })
      .Case([](AttentionGradOp o) {
        // dV = P^T dO, dP = dO V^T, dQ = dS K, dK = dS^T Q.
        return 2 * attentionFlops(o.getQuery(), o.getCausal());
      })
      .Default([](Operation *) { return int64_t{0}; });
}

FunctionCost mind::analyzeCost(func::FuncOp func) {
  FunctionCost cost;
  for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
    if (func.getArgAttr(i, "mind.param"))
      cost.parameters +=
          tensorOf(func.getArgument(i)).getNumElements();
  func.walk([&](Operation *op) { cost.flops += matmulFlops(op); });
  return cost;
}
