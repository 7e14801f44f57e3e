//===- LowerElementwise.cpp - emitted kernels, fill, transpose, views -----===//
//
// Elementwise ops and mind.fused_elementwise regions run kernels the emitter
// writes from the IR (plan.emitted_kernel); fill and transpose instantiate
// library templates; a reshape is its operand's bytes under another shape.
//
//===----------------------------------------------------------------------===//

#include "LoweringModel.h"

using namespace mlir;
namespace k = mind::runtime::kernels;
using mind::runtime::kabi::F32;
using mind::runtime::kabi::I64;

namespace mind {

static LogicalResult lowerOp(FillOp o, PlanLowering &L) {
  int64_t n = numel(o.getResult());
  L.kernel(k::fill(L.dtypeOf(o.getResult()), n), L.buf(o.getResult()), I64(n),
           F32(o.getValue().convertToDouble()));
  return success();
}

static LogicalResult lowerOp(TransposeOp o, PlanLowering &L) {
  auto in = shapeOf(o.getInput());
  ArrayRef<int64_t> perm = o.getPermutation();
  auto a = k::transposeArgs(in, {perm.begin(), perm.end()});
  L.kernel(k::transpose(L.dtypeOf(o.getInput()), in), L.buf(o.getInput()),
           L.buf(o.getResult()), I64(a[0]), I64(a[1]), I64(a[2]), I64(a[3]),
           I64(a[4]), I64(a[5]), I64(a[6]), I64(a[7]), I64(a[8]));
  return success();
}

static LogicalResult lowerOp(ReshapeOp o, PlanLowering &L) {
  L.alias(o.getResult(), o.getInput());
  return success();
}

void registerElementwiseLowerings(DialectRegistry &registry) {
  attachEmittedLowerings<AddOp, MulOp, SiluOp, SiluGradOp, SwiGLUOp,
                         SwiGLUGradOp, CastOp, FusedElementwiseOp>(registry);
  attachLowerings<FillOp, TransposeOp, ReshapeOp>(registry);
}

} // namespace mind
