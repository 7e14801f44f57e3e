//===- PlanBuilder.cpp - builds a runtime plan from mind ops --------------===//

#include "PlanBuilder.h"

#include "mind/Conversion/MemoryPlanner.h"
#include "mind/Dialect/Mind/IR/MindOps.h"
#include "mind/abi/KernelSpecs.h"

#include "llvm/Support/raw_ostream.h"

#include <numeric>

using namespace mlir;
using namespace mind;
using runtime::BufferKind;
using runtime::DType;

namespace {
RankedTensorType tensorOf(Value v) {
  return cast<RankedTensorType>(v.getType());
}

std::optional<DType> dtypeFor(Type elem) {
  if (elem.isF32())
    return DType::F32;
  if (elem.isBF16())
    return DType::BF16;
  if (elem.isF16())
    return DType::F16;
  if (elem.isInteger(64))
    return DType::I64;
  if (elem.isInteger(32))
    return DType::I32;
  return std::nullopt;
}
} // namespace

std::string PlanBuilder::labelOf(Operation *op) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << op->getName() << " at " << op->getLoc();
  return s;
}

DType PlanBuilder::dtypeOf(Value v) const {
  return *dtypeFor(tensorOf(v).getElementType());
}

int64_t PlanBuilder::newBuffer(const std::string &name, BufferKind kind,
                               DType dtype, std::vector<int64_t> shape) {
  runtime::BufferDesc b;
  b.name = name;
  b.kind = kind;
  b.dtype = dtype;
  b.shape = std::move(shape);
  b.bytes = runtime::numElements(b.shape) * runtime::dtypeSize(dtype);
  plan.buffers.push_back(std::move(b));
  live.push_back({});
  return static_cast<int64_t>(plan.buffers.size()) - 1;
}

LogicalResult PlanBuilder::bindArgument(BlockArgument arg,
                                        const std::string &name,
                                        BufferKind kind) {
  auto ty = tensorOf(arg);
  auto dtype = dtypeFor(ty.getElementType());
  if (!dtype || (kind == BufferKind::Param && *dtype != DType::F32))
    return failure();
  storage[arg] = newBuffer(name, kind, *dtype,
                           {ty.getShape().begin(), ty.getShape().end()});
  return success();
}

void PlanBuilder::addGradAccumulator(const std::string &name, Value value) {
  auto ty = tensorOf(value);
  int64_t b = newBuffer(name + ".grad", BufferKind::Grad, DType::F32,
                        {ty.getShape().begin(), ty.getShape().end()});
  grads.push_back({name, value, b});
}

LogicalResult PlanBuilder::bindOutput(Value value, const std::string &name) {
  if (storage.count(value))
    return emitError(value.getLoc(), "lower-to-plan: output '")
           << name << "' must be computed by an op";
  auto ty = tensorOf(value);
  auto dtype = dtypeFor(ty.getElementType());
  if (!dtype)
    return emitError(value.getLoc(), "lower-to-plan: unsupported type ")
           << ty;
  storage[value] = newBuffer(name, BufferKind::Output, *dtype,
                             {ty.getShape().begin(), ty.getShape().end()});
  return success();
}

void PlanBuilder::planGradientSinks() {
  for (GradAcc &g : grads)
    sinkInto(g.value, g.buffer);
}

void PlanBuilder::sinkInto(Value v, int64_t buffer) {
  Operation *def = v.getDefiningOp();
  bool onlyUse = v.hasOneUse();
  if (def && onlyUse && !storage.count(v)) {
    if (auto add = dyn_cast<AddOp>(def)) {
      if (add.getLhs() != add.getRhs()) {
        skipped.insert(add);
        sinkInto(add.getLhs(), buffer);
        sinkInto(add.getRhs(), buffer);
        return;
      }
    }
    // bf16/f16 -> f32 cast of a GEMM: the GEMM writes fp32 itself.
    if (auto c = dyn_cast<CastOp>(def)) {
      if (c.getInput().hasOneUse() && isa_and_nonnull<MatmulOp>(
                                          c.getInput().getDefiningOp())) {
        skipped.insert(c);
        sinks[c.getInput()] = buffer;
        return;
      }
    }
    if (dtypeOf(v) == DType::F32 &&
        (isa<MatmulOp, EmbeddingGradOp>(def) ||
         (isa<RMSNormGradOp>(def) &&
          cast<RMSNormGradOp>(def).getWeightGrad() == v))) {
      sinks[v] = buffer;
      return;
    }
  }
  pendingAccumulates.push_back({v, buffer});
}

int64_t PlanBuilder::bufferOf(Value v) {
  auto it = storage.find(v);
  if (it != storage.end())
    return it->second;
  auto ty = tensorOf(v);
  int64_t b = newBuffer("%" + std::to_string(valueCounter++),
                        BufferKind::Activation, dtypeOf(v),
                        {ty.getShape().begin(), ty.getShape().end()});
  storage[v] = b;
  return b;
}

int64_t PlanBuilder::workspace(const std::string &name, DType dtype,
                               std::vector<int64_t> shape) {
  return newBuffer(name + "." + std::to_string(valueCounter++),
                   BufferKind::Activation, dtype, std::move(shape));
}

void PlanBuilder::touch(int64_t buffer) {
  int64_t step = static_cast<int64_t>(plan.steps.size());
  auto &l = live[buffer];
  if (l.first < 0)
    l.first = step;
  l.last = step;
}

void PlanBuilder::kernel(
    const runtime::LaunchConfig &cfg, std::vector<runtime::KernelArg> args,
    Operation *op, const std::vector<runtime::kabi::ResolvedParam> *params) {
  auto [it, inserted] = kernelIndex.try_emplace(
      cfg.nameExpr, static_cast<int64_t>(plan.kernels.size()));
  if (inserted) {
    runtime::KernelEntry entry;
    entry.nameExpr = cfg.nameExpr;
    entry.params = params ? *params
                          : runtime::kabi::resolveLibraryKernel(cfg.nameExpr);
    plan.kernels.push_back(std::move(entry));
  }
  runtime::kabi::checkArguments<int64_t>(
      plan.kernels[it->second].params, args,
      [&](const int64_t &id) {
        return plan.buffers[static_cast<size_t>(id)].dtype;
      },
      cfg.nameExpr);
  runtime::KernelStep s;
  s.kernel = it->second;
  s.grid = cfg.grid;
  s.block = cfg.block;
  s.sharedBytes = cfg.sharedBytes;
  s.label = op ? labelOf(op) : cfg.nameExpr;
  for (const auto &a : args) {
    if (a.kind == runtime::KernelArg::Kind::Buffer)
      touch(a.buffer);
    for (int64_t b : a.buffers)
      touch(b);
  }
  s.args = std::move(args);
  plan.steps.push_back(std::move(s));
}

void PlanBuilder::gemm(runtime::GemmStep s, Operation *op) {
  touch(s.a);
  touch(s.b);
  touch(s.c);
  s.label = labelOf(op);
  plan.steps.push_back(std::move(s));
}

void PlanBuilder::memset(int64_t buffer, Operation *op) {
  touch(buffer);
  runtime::MemsetStep s;
  s.buffer = buffer;
  s.label = op ? labelOf(op) : "memset";
  plan.steps.push_back(std::move(s));
}

LogicalResult PlanBuilder::lowerOp(Operation *op) {
  if (skipped.contains(op))
    return success();
  // A reshape is the same bytes under another shape.
  if (auto r = dyn_cast<ReshapeOp>(op)) {
    storage[r.getResult()] = bufferOf(r.getInput());
    return success();
  }
  for (Value v : op->getResults())
    if (!dtypeFor(tensorOf(v).getElementType()))
      return op->emitOpError("lower-to-plan: element type ")
             << tensorOf(v).getElementType() << " has no GPU lowering";

  if (auto l = dyn_cast<LinearOp>(op)) {
    auto w = tensorOf(l.getWeight()).getShape();
    runtime::GemmStep s;
    s.a = bufferOf(l.getInput());
    s.b = bufferOf(l.getWeight());
    s.c = bufferOf(l.getResult());
    s.m = tensorOf(l.getInput()).getNumElements() / w[1];
    s.n = w[0];
    s.k = w[1];
    s.transB = true;
    gemm(s, op);
    return success();
  }
  if (auto m = dyn_cast<MatmulOp>(op)) {
    auto lhs = tensorOf(m.getLhs()).getShape();
    auto res = tensorOf(m.getResult()).getShape();
    runtime::GemmStep s;
    s.a = bufferOf(m.getLhs());
    s.b = bufferOf(m.getRhs());
    if (int64_t sink = sinkOf(m.getResult()); sink >= 0) {
      s.c = sink;
      s.beta = 1.0f;
    } else {
      s.c = bufferOf(m.getResult());
    }
    s.m = res[0];
    s.n = res[1];
    s.k = m.getTransposeLhs() ? lhs[0] : lhs[1];
    s.transA = m.getTransposeLhs();
    s.transB = m.getTransposeRhs();
    gemm(s, op);
    return success();
  }
  return lowerKernelOp(op);
}

runtime::Plan PlanBuilder::finish() {
  std::vector<PlannedBuffer> planned;
  for (size_t i = 0; i < plan.buffers.size(); ++i) {
    const auto &b = plan.buffers[i];
    PlannedBuffer p;
    p.bytes = b.bytes;
    p.persistent = b.kind != BufferKind::Activation;
    p.first = std::max<int64_t>(live[i].first, 0);
    p.last = std::max<int64_t>(live[i].last, p.first);
    planned.push_back(p);
  }
  // The planner lays out persistent buffers in list order; keep params,
  // grads, inputs and outputs grouped in that order.
  std::vector<size_t> order(plan.buffers.size());
  std::iota(order.begin(), order.end(), 0);
  auto rank = [&](size_t i) {
    switch (plan.buffers[i].kind) {
    case BufferKind::Param:
      return 0;
    case BufferKind::Grad:
      return 1;
    case BufferKind::Input:
      return 2;
    case BufferKind::Output:
      return 3;
    default:
      return 4;
    }
  };
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return rank(a) < rank(b); });
  std::vector<PlannedBuffer> sorted;
  for (size_t i : order)
    sorted.push_back(planned[i]);
  MemoryPlan mp = planMemory(sorted);
  for (size_t k = 0; k < order.size(); ++k)
    plan.buffers[order[k]].offset = sorted[k].offset;
  plan.arenaBytes = mp.arenaBytes;
  return std::move(plan);
}
