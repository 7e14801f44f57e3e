//===- MindOpInterfaces.cpp - per-op answers to the mind interfaces -------===//
//
// What passes ask of an op, answered once on the op: its CUDA expression
// (ElementwiseOpInterface), its matrix-multiply FLOPs (FlopCountOpInterface)
// and its autocast rule (AutocastOpInterface).
//
//===----------------------------------------------------------------------===//

#include "mind/Dialect/Mind/IR/MindOps.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mind;

//===----------------------------------------------------------------------===//
// ElementwiseOpInterface: fp32 statements, written from each op's definition
// (docs/Rationale/OpSet.md).
//===----------------------------------------------------------------------===//

namespace {
/// Formats `fmt` with {0},{1},{2} the operands and {3},{4} the results.
std::string statements(const char *fmt, ArrayRef<std::string> in,
                       ArrayRef<std::string> out) {
  auto at = [](ArrayRef<std::string> v, size_t i) {
    return i < v.size() ? v[i] : std::string();
  };
  return llvm::formatv(fmt, at(in, 0), at(in, 1), at(in, 2), at(out, 0),
                       at(out, 1))
      .str();
}
} // namespace

std::string AddOp::getCudaStatements(ArrayRef<std::string> in,
                                     ArrayRef<std::string> out) {
  return statements("float {3} = {0} + {1};", in, out);
}
std::string MulOp::getCudaStatements(ArrayRef<std::string> in,
                                     ArrayRef<std::string> out) {
  return statements("float {3} = {0} * {1};", in, out);
}
std::string SiluOp::getCudaStatements(ArrayRef<std::string> in,
                                      ArrayRef<std::string> out) {
  return statements("float {3}_s = 1.0f / (1.0f + expf(-{0}));"
                    " float {3} = {0} * {3}_s;",
                    in, out);
}
std::string SiluGradOp::getCudaStatements(ArrayRef<std::string> in,
                                          ArrayRef<std::string> out) {
  // d silu(x)/dx = s * (1 + x * (1 - s)), s = sigmoid(x).
  return statements("float {3}_s = 1.0f / (1.0f + expf(-{0}));"
                    " float {3} = {1} * {3}_s * (1.0f + {0} * (1.0f - {3}_s));",
                    in, out);
}
std::string SwiGLUOp::getCudaStatements(ArrayRef<std::string> in,
                                        ArrayRef<std::string> out) {
  return statements("float {3}_s = 1.0f / (1.0f + expf(-{0}));"
                    " float {3} = {0} * {3}_s * {1};",
                    in, out);
}
std::string SwiGLUGradOp::getCudaStatements(ArrayRef<std::string> in,
                                            ArrayRef<std::string> out) {
  // gate_grad = silu'(gate) * grad * up; up_grad = grad * silu(gate).
  return statements("float {3}_s = 1.0f / (1.0f + expf(-{0}));"
                    " float {3} = {2} * {1} * {3}_s * (1.0f + {0} * (1.0f - "
                    "{3}_s)); float {4} = {2} * {0} * {3}_s;",
                    in, out);
}
std::string CastOp::getCudaStatements(ArrayRef<std::string> in,
                                      ArrayRef<std::string> out) {
  // Rounded to the result type by the store.
  return statements("float {3} = {0};", in, out);
}

//===----------------------------------------------------------------------===//
// FlopCountOpInterface
//===----------------------------------------------------------------------===//

namespace {
RankedTensorType tensorOf(Value v) {
  return cast<RankedTensorType>(v.getType());
}
/// 2 * rows * N * K for rows x K times K x N.
int64_t gemmFlops(int64_t rows, int64_t n, int64_t k) {
  return 2 * rows * n * k;
}
/// Forward attention FLOPs: QK^T and PV, each 2*D per (query, key) pair.
int64_t attentionFlops(Value query, bool causal) {
  auto q = tensorOf(query).getShape(); // [B, S, Hq, D]
  int64_t s = q[1];
  int64_t pairs = causal ? s * (s + 1) / 2 : s * s;
  return 2 * 2 * q[0] * q[2] * pairs * q[3];
}
} // namespace

int64_t LinearOp::getMatmulFlops() {
  auto w = tensorOf(getWeight()).getShape();
  int64_t rows = 1; // the input's leading dims (its last one, K, may be 0)
  for (int64_t d : tensorOf(getInput()).getShape().drop_back())
    rows *= d;
  return gemmFlops(rows, w[0], w[1]);
}
int64_t MatmulOp::getMatmulFlops() {
  auto r = tensorOf(getResult()).getShape();
  auto l = tensorOf(getLhs()).getShape();
  return gemmFlops(r[0], r[1], getTransposeLhs() ? l[0] : l[1]);
}
int64_t GroupedLinearOp::getMatmulFlops() {
  auto r = tensorOf(getResult()).getShape();
  return gemmFlops(r[0], r[1], tensorOf(getInput()).getDimSize(1));
}
int64_t GroupedLinearGradOp::getMatmulFlops() {
  // Input gradient and weight gradients: two GEMMs of the forward size.
  auto dy = tensorOf(getGrad()).getShape();
  return 2 * gemmFlops(dy[0], dy[1], tensorOf(getInput()).getDimSize(1));
}
int64_t AttentionOp::getMatmulFlops() {
  return attentionFlops(getQuery(), getCausal());
}
int64_t AttentionGradOp::getMatmulFlops() {
  // dV = P^T dO, dP = dO V^T, dQ = dS K, dK = dS^T Q.
  return 2 * attentionFlops(getQuery(), getCausal());
}
int64_t LmHeadLossOp::getMatmulFlops() {
  // The logits, the input gradient and the weight gradient: three GEMMs.
  auto w = tensorOf(getWeight()).getShape();
  return 3 *
         gemmFlops(tensorOf(getInput()).getNumElements() / w[1], w[0], w[1]);
}
int64_t AttentionGradRopeOp::getMatmulFlops() {
  return 2 * attentionFlops(getQuery(), getCausal());
}

//===----------------------------------------------------------------------===//
// AutocastOpInterface (the rules of torch.autocast MiniMind trains with)
//===----------------------------------------------------------------------===//

AutocastRule LinearOp::getAutocastRule() { return AutocastRule::Compute; }
AutocastRule MatmulOp::getAutocastRule() { return AutocastRule::Compute; }
AutocastRule GroupedLinearOp::getAutocastRule() {
  return AutocastRule::Compute;
}
AutocastRule AttentionOp::getAutocastRule() { return AutocastRule::Compute; }
AutocastRule SoftmaxOp::getAutocastRule() { return AutocastRule::Float32; }
AutocastRule CrossEntropyOp::getAutocastRule() {
  return AutocastRule::Float32;
}
AutocastRule MoeAuxLossOp::getAutocastRule() { return AutocastRule::Float32; }

AutocastOperand RopeOp::getAutocastOperand(unsigned index) {
  // The cos/sin tables stay f32, as PyTorch's buffers (the kernel reads f32).
  return index == 0 ? AutocastOperand::Cast : AutocastOperand::Keep;
}
AutocastOperand RMSNormOp::getAutocastOperand(unsigned index) {
  // The kernel reads an f32 weight under a narrower input directly.
  return index == 1 ? AutocastOperand::PromoteOnly : AutocastOperand::Cast;
}
