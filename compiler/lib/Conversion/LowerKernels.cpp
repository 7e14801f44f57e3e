//===- LowerKernels.cpp - mind ops to kernel launches ---------------------===//
//
// One case per op: pick the kernel template through its launch rule
// (runtime/KernelSpecs.h) and pass buffers and sizes in the order the rule
// documents. Workspaces are transient buffers that live only across the op's
// own launches.
//
//===----------------------------------------------------------------------===//

#include "PlanBuilder.h"

#include "mind/Codegen/ElementwiseEmitter.h"
#include "mind/Dialect/Mind/IR/MindOps.h"
#include "mind/abi/KernelSpecs.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mind;
using runtime::DType;
using runtime::KernelArg;
namespace k = mind::runtime::kernels;

namespace {
RankedTensorType tensorOf(Value v) {
  return cast<RankedTensorType>(v.getType());
}
int64_t numel(Value v) { return tensorOf(v).getNumElements(); }
int64_t lastDim(Value v) { return tensorOf(v).getShape().back(); }
std::vector<int64_t> shapeOf(Value v) {
  auto s = tensorOf(v).getShape();
  return {s.begin(), s.end()};
}
float f32(APFloat f) { return static_cast<float>(f.convertToDouble()); }
} // namespace

LogicalResult PlanBuilder::lowerKernelOp(Operation *op) {
  auto B = [&](Value v) { return KernelArg::buf(bufferOf(v)); };
  auto I = [](int64_t v) { return KernelArg::int64(v); };
  auto F = [](double v) { return KernelArg::f32(v); };
  auto D = [](double v) { return KernelArg::f64(v); };
  try {
    if (isEmittedElementwise(op))
      return lowerEmitted(op);
    return llvm::TypeSwitch<Operation *, LogicalResult>(op)
        .Case([&](EmbeddingOp o) {
          int64_t n = numel(o.getIds()), h = lastDim(o.getResult());
          int64_t v = tensorOf(o.getTable()).getDimSize(0);
          kernel(k::embedding(dtypeOf(o.getTable()), n, h),
                 {B(o.getTable()), B(o.getIds()), B(o.getResult()), I(n),
                  I(h), I(v)},
                 op);
          return success();
        })
        .Case([&](EmbeddingGradOp o) {
          int64_t n = numel(o.getIds()), h = lastDim(o.getGrad());
          int64_t out = sinkOf(o.getResult());
          if (out < 0) {
            out = bufferOf(o.getResult());
            memset(out, op); // the kernel scatter-adds
          }
          int64_t v = o.getVocabSize();
          auto grad = k::embeddingGrad(dtypeOf(o.getGrad()), n, h, v);
          std::vector<int64_t> ws; // partial, run_ids, run_count
          for (const auto &w : grad.workspaces)
            ws.push_back(workspace(std::string("embedding_") + w.name,
                                   w.dtype, w.shape));
          kernel(grad.runs,
                 {B(o.getGrad()), B(o.getIds()), KernelArg::buf(ws[0]),
                  KernelArg::buf(ws[1]), KernelArg::buf(ws[2]), I(n), I(h),
                  I(v)},
                 op);
          kernel(grad.reduce,
                 {KernelArg::buf(ws[0]), KernelArg::buf(ws[1]),
                  KernelArg::buf(ws[2]), KernelArg::buf(out), I(grad.chunks),
                  I(h), I(v)},
                 op);
          return success();
        })
        .Case([&](RMSNormOp o) {
          int64_t h = lastDim(o.getInput()), rows = numel(o.getInput()) / h;
          kernel(k::rmsnorm(dtypeOf(o.getInput()), dtypeOf(o.getWeight()),
                            rows, h),
                 {B(o.getInput()), B(o.getWeight()), B(o.getResult()),
                  I(rows), I(h), F(o.getEpsilon().convertToDouble())},
                 op);
          return success();
        })
        .Case([&](RMSNormGradOp o) -> LogicalResult {
          int64_t h = lastDim(o.getInput()), rows = numel(o.getInput()) / h;
          if (dtypeOf(o.getWeightGrad()) != DType::F32)
            return op->emitOpError("lower-to-plan: the weight gradient must "
                                   "be f32 (an f32 master weight)");
          int64_t parts = k::rmsnormGradPartials(rows, h);
          int64_t partial = workspace("rmsnorm_partial", DType::F32,
                                      {parts, h});
          kernel(k::rmsnormGrad(dtypeOf(o.getInput()), dtypeOf(o.getWeight()),
                                rows, h),
                 {B(o.getInput()), B(o.getWeight()), B(o.getGrad()),
                  B(o.getInputGrad()), KernelArg::buf(partial), I(rows), I(h),
                  F(o.getEpsilon().convertToDouble())},
                 op);
          int64_t sink = sinkOf(o.getWeightGrad());
          kernel(k::rmsnormGradDw(h),
                 {KernelArg::buf(partial),
                  KernelArg::buf(sink >= 0 ? sink : bufferOf(o.getWeightGrad())),
                  I(parts), I(h), I(sink >= 0 ? 1 : 0)},
                 op);
          return success();
        })
        .Case([&](RopeTableOp o) {
          auto s = shapeOf(o.getCos());
          kernel(k::ropeTable(s[0], s[1]),
                 {B(o.getCos()), B(o.getSin()), I(s[0]), I(s[1]),
                  D(o.getTheta().convertToDouble()), I(o.getMaxPositions()),
                  D(o.getYarnFactor().convertToDouble()),
                  I(o.getYarnOriginalMax()),
                  D(o.getYarnBetaFast().convertToDouble()),
                  D(o.getYarnBetaSlow().convertToDouble()),
                  D(o.getAttentionFactor().convertToDouble())},
                 op);
          return success();
        })
        .Case([&](RopeOp o) {
          auto s = shapeOf(o.getInput());
          kernel(k::rope(dtypeOf(o.getInput()), s[0], s[1], s[2], s[3]),
                 {B(o.getInput()), B(o.getCos()), B(o.getSin()),
                  B(o.getResult()), I(s[0]), I(s[1]), I(s[2]), I(s[3]),
                  I(o.getInverse() ? 1 : 0)},
                 op);
          return success();
        })
        .Case([&](SoftmaxOp o) {
          int64_t c = lastDim(o.getInput()), rows = numel(o.getInput()) / c;
          kernel(k::softmax(dtypeOf(o.getInput()), rows, c),
                 {B(o.getInput()), B(o.getResult()), I(rows), I(c)}, op);
          return success();
        })
        .Case([&](SoftmaxGradOp o) {
          int64_t c = lastDim(o.getOutput()), rows = numel(o.getOutput()) / c;
          kernel(k::softmaxGrad(dtypeOf(o.getOutput()), rows, c),
                 {B(o.getOutput()), B(o.getGrad()), B(o.getResult()), I(rows),
                  I(c)},
                 op);
          return success();
        })
        .Case([&](CrossEntropyOp o) {
          int64_t v = lastDim(o.getLogits()), rows = numel(o.getLogits()) / v;
          int64_t rowLoss = workspace("ce_row_loss", DType::F32, {rows});
          kernel(k::crossEntropy(dtypeOf(o.getLogits()), rows, v),
                 {B(o.getLogits()), B(o.getTargets()), B(o.getMask()),
                  KernelArg::buf(rowLoss), I(rows), I(v)},
                 op);
          kernel(k::crossEntropyFinalize(rows),
                 {KernelArg::buf(rowLoss), B(o.getMask()), B(o.getResult()),
                  I(rows)},
                 op);
          return success();
        })
        .Case([&](CrossEntropyGradOp o) {
          int64_t v = lastDim(o.getLogits()), rows = numel(o.getLogits()) / v;
          int64_t norm = workspace("ce_mask_sum", DType::F32, {1});
          kernel(k::crossEntropyMaskSum(rows),
                 {B(o.getMask()), KernelArg::buf(norm), I(rows)}, op);
          kernel(k::crossEntropyGrad(dtypeOf(o.getLogits()), rows, v),
                 {B(o.getLogits()), B(o.getTargets()), B(o.getMask()),
                  B(o.getGrad()), KernelArg::buf(norm), B(o.getResult()),
                  I(rows), I(v)},
                 op);
          return success();
        })
        .Case([&](TransposeOp o) {
          auto in = shapeOf(o.getInput());
          ArrayRef<int64_t> perm = o.getPermutation();
          std::vector<KernelArg> args = {B(o.getInput()), B(o.getResult())};
          for (int64_t a : k::transposeArgs(in, {perm.begin(), perm.end()}))
            args.push_back(I(a));
          kernel(k::transpose(dtypeOf(o.getInput()), in), std::move(args), op);
          return success();
        })
        .Case([&](FillOp o) {
          int64_t n = numel(o.getResult());
          kernel(k::fill(dtypeOf(o.getResult()), n),
                 {B(o.getResult()), I(n), F(o.getValue().convertToDouble())},
                 op);
          return success();
        })
        .Default([&](Operation *) { return lowerMoeOrAttention(op); });
  } catch (const std::exception &e) {
    return op->emitOpError("lower-to-plan: ") << e.what();
  }
}

LogicalResult PlanBuilder::lowerEmitted(Operation *op) {
  FailureOr<EmittedKernel> k = emitElementwiseKernel(op);
  if (failed(k))
    return failure();
  if (emittedNames.insert(k->name).second)
    emitted += k->source + "\n";
  int64_t n = numel(op->getResult(0));
  runtime::LaunchConfig cfg;
  cfg.nameExpr = k->name;
  cfg.block = {256, 1, 1};
  // Each thread takes runs of 8 elements (see ElementwiseEmitter.h).
  int64_t threads = std::max<int64_t>((n + 7) / 8, 1);
  cfg.grid = {static_cast<uint32_t>(
                  std::min<int64_t>((threads + 255) / 256, int64_t{1} << 16)),
              1, 1};
  // The emitted parameter list: operands, results, then the element count.
  std::vector<KernelArg> args;
  std::vector<runtime::kabi::ResolvedParam> params;
  for (auto [i, v] : llvm::enumerate(op->getOperands())) {
    args.push_back(KernelArg::buf(bufferOf(v)));
    params.push_back({"in" + std::to_string(i), runtime::kabi::ParamKind::In,
                      dtypeOf(v)});
  }
  for (auto [i, v] : llvm::enumerate(op->getResults())) {
    args.push_back(KernelArg::buf(bufferOf(v)));
    params.push_back({"out" + std::to_string(i), runtime::kabi::ParamKind::Out,
                      dtypeOf(v)});
  }
  args.push_back(KernelArg::int64(n));
  params.push_back({"n", runtime::kabi::ParamKind::I64, std::nullopt});
  kernel(cfg, std::move(args), op, &params);
  return success();
}

void PlanBuilder::accumulateGradients() {
  for (auto [v, buffer] : pendingAccumulates) {
    int64_t n = numel(v);
    kernel(k::accumulate(dtypeOf(v), n),
           {KernelArg::buf(buffer), KernelArg::buf(bufferOf(v)),
            KernelArg::int64(n)},
           v.getDefiningOp());
  }
}
