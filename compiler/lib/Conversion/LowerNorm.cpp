//===- LowerNorm.cpp - RMSNorm and its gradient ---------------------------===//

#include "LoweringModel.h"

using namespace mlir;
namespace k = mind::runtime::kernels;
using mind::runtime::DType;
using mind::runtime::kabi::F32;
using mind::runtime::kabi::I64;

namespace mind {

/// A narrower result (mind-fuse-rmsnorm-cast) is stored rounded by the
/// same kernel: rmsnorm_fwd_cast.
static LogicalResult lowerOp(RMSNormOp o, PlanLowering &L) {
  int64_t h = lastDim(o.getInput()), rows = leadingRows(o.getInput());
  DType x = L.dtypeOf(o.getInput()), w = L.dtypeOf(o.getWeight()),
        y = L.dtypeOf(o.getResult());
  F32 eps(o.getEpsilon().convertToDouble());
  if (y == x)
    L.kernel(k::rmsnorm(x, w, rows, h), L.buf(o.getInput()),
             L.buf(o.getWeight()), L.buf(o.getResult()), I64(rows), I64(h),
             eps);
  else
    L.kernel(k::rmsnormCast(x, w, y, rows, h), L.buf(o.getInput()),
             L.buf(o.getWeight()), L.buf(o.getResult()), I64(rows), I64(h),
             eps);
  return success();
}

/// What both norm-gradient ops need for their first launch: sizes, the f32
/// partial-dw workspace, the element types and epsilon.
struct NormGrad {
  int64_t h, rows, parts;
  Value partial;
  DType x, w, dy;
  F32 eps;

  template <typename Op>
  static FailureOr<NormGrad> of(Op o, PlanLowering &L) {
    if (L.dtypeOf(o.getWeightGrad()) != DType::F32)
      return o.emitOpError("lower-to-plan: the weight gradient must be f32 "
                           "(an f32 master weight)");
    int64_t h = lastDim(o.getInput()), rows = leadingRows(o.getInput());
    int64_t parts = k::rmsnormGradPartials(rows, h);
    return NormGrad{h,
                    rows,
                    parts,
                    L.workspace("rmsnorm_partial", DType::F32, {parts, h}),
                    L.dtypeOf(o.getInput()),
                    L.dtypeOf(o.getWeight()),
                    L.dtypeOf(o.getGrad()),
                    F32(o.getEpsilon().convertToDouble())};
  }
};

/// Stage 2 of every norm gradient: dw from the per-block partial sums,
/// straight into the fp32 accumulator when dw is a marked gradient producer.
static void reduceWeightGrad(PlanLowering &L, Value partial, Value weightGrad,
                             int64_t parts, int64_t h) {
  Value sink = L.sinkOf(weightGrad);
  L.kernel(k::rmsnormGradDw(h), L.buf(partial),
           L.buf(sink ? sink : weightGrad), I64(parts), I64(h),
           I64(sink ? 1 : 0));
}

/// dx, then dw from the per-block partial sums, straight into the fp32
/// accumulator when the weight gradient is a marked gradient producer.
static LogicalResult lowerOp(RMSNormGradOp o, PlanLowering &L) {
  auto g = NormGrad::of(o, L);
  if (failed(g))
    return failure();
  auto [h, rows, parts, partial, x, w, dy, eps] = *g;
  if (dy == x)
    L.kernel(k::rmsnormGrad(x, w, rows, h), L.buf(o.getInput()),
             L.buf(o.getWeight()), L.buf(o.getGrad()), L.buf(o.getInputGrad()),
             L.buf(partial), I64(rows), I64(h), eps);
  else // a narrower dy (mind-fuse-rmsnorm-cast)
    L.kernel(k::rmsnormGradDy(x, w, dy, rows, h), L.buf(o.getInput()),
             L.buf(o.getWeight()), L.buf(o.getGrad()), L.buf(o.getInputGrad()),
             L.buf(partial), I64(rows), I64(h), eps);
  reduceWeightGrad(L, partial, o.getWeightGrad(), parts, h);
  return success();
}

/// The residual add and the norm: add_rmsnorm_fwd.
static LogicalResult lowerOp(AddRMSNormOp o, PlanLowering &L) {
  int64_t h = lastDim(o.getResidual()), rows = leadingRows(o.getResidual());
  L.kernel(k::addRmsnorm(L.dtypeOf(o.getSum()), L.dtypeOf(o.getDelta()),
                         L.dtypeOf(o.getWeight()), L.dtypeOf(o.getResult()),
                         rows, h),
           L.buf(o.getResidual()), L.buf(o.getDelta()), L.buf(o.getWeight()),
           L.buf(o.getSum()), L.buf(o.getResult()), I64(rows), I64(h),
           F32(o.getEpsilon().convertToDouble()));
  return success();
}

/// As rmsnorm_grad, with the residual gradient added (and the sum's narrow
/// copy stored) by the first launch.
static LogicalResult lowerOp(RMSNormGradResidualOp o, PlanLowering &L) {
  auto g = NormGrad::of(o, L);
  if (failed(g))
    return failure();
  auto [h, rows, parts, partial, x, w, dy, eps] = *g;
  if (Value narrow = o.getInputGradNarrow())
    L.kernel(k::rmsnormGradResidualCast(x, w, dy, L.dtypeOf(narrow), rows, h),
             L.buf(o.getInput()), L.buf(o.getWeight()), L.buf(o.getGrad()),
             L.buf(o.getResidualGrad()), L.buf(o.getInputGrad()),
             L.buf(narrow), L.buf(partial), I64(rows), I64(h), eps);
  else
    L.kernel(k::rmsnormGradResidual(x, w, dy, rows, h), L.buf(o.getInput()),
             L.buf(o.getWeight()), L.buf(o.getGrad()),
             L.buf(o.getResidualGrad()), L.buf(o.getInputGrad()),
             L.buf(partial), I64(rows), I64(h), eps);
  reduceWeightGrad(L, partial, o.getWeightGrad(), parts, h);
  return success();
}

void registerNormLowerings(DialectRegistry &registry) {
  attachLowerings<RMSNormOp, RMSNormGradOp, AddRMSNormOp,
                  RMSNormGradResidualOp>(registry);
}

} // namespace mind
