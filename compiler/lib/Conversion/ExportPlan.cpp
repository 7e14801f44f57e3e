//===- ExportPlan.cpp - plan.micro_step to the runtime's plan -------------===//

#include "mind/Conversion/ExportPlan.h"

#include "mind/Dialect/Plan/IR/PlanUtils.h"
#include "mind/abi/KernelSpecs.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mind;
namespace kabi = mind::runtime::kabi;

namespace {
runtime::BufferKind kindOf(plan::BufferKind k) {
  switch (k) {
  case plan::BufferKind::param:
    return runtime::BufferKind::Param;
  case plan::BufferKind::grad:
    return runtime::BufferKind::Grad;
  case plan::BufferKind::input:
    return runtime::BufferKind::Input;
  case plan::BufferKind::output:
    return runtime::BufferKind::Output;
  case plan::BufferKind::activation:
    return runtime::BufferKind::Activation;
  case plan::BufferKind::param_copy:
    return runtime::BufferKind::ParamCopy;
  }
  return runtime::BufferKind::Activation;
}

/// "mind.rmsnorm at loc(...)": what profiles and runtime errors show.
std::string labelOf(Operation *step, const std::string &fallback) {
  auto source = step->getAttrOfType<StringAttr>("source");
  if (!source)
    return fallback;
  std::string s;
  llvm::raw_string_ostream os(s);
  os << source.getValue() << " at " << step->getLoc();
  return s;
}
} // namespace

FailureOr<ExportedPlan> mind::exportPlan(plan::MicroStepOp step) {
  ExportedPlan out;
  runtime::Plan &plan = out.plan;
  SymbolTableCollection symbols;
  if (!step.getArenaBytes())
    return step.emitOpError("has no arena size (run mind-plan-memory)");
  plan.arenaBytes = static_cast<uint64_t>(*step.getArenaBytes());
  llvm::DenseMap<Value, int64_t> ids; // plan.buffer and plan.view results
                                      // (the verifier allows no others)
  llvm::StringMap<int64_t> kernelIds;
  for (Operation &op : step.getBlock()) {
    if (isa<plan::BufferOp, plan::ViewOp>(op)) {
      auto offset = op.getAttrOfType<IntegerAttr>("offset");
      if (!offset)
        return op.emitOpError("has no offset (run mind-plan-memory)");
      Value result = op.getResult(0);
      runtime::BufferDesc d;
      if (auto b = dyn_cast<plan::BufferOp>(op)) {
        d.name = b.getName().str();
        d.kind = kindOf(b.getKind());
      } else {
        auto v = cast<plan::ViewOp>(op);
        d.viewOf = ids.lookup(v.getSource());
        d.name = plan.buffers[static_cast<size_t>(d.viewOf)].name + "@" +
                 std::to_string(v.getByteOffset());
        d.kind = runtime::BufferKind::View;
      }
      d.dtype = *plan::dtypeOf(result.getType());
      auto shape = cast<MemRefType>(result.getType()).getShape();
      d.shape.assign(shape.begin(), shape.end());
      d.offset = static_cast<uint64_t>(offset.getInt());
      d.bytes = runtime::numElements(d.shape) * runtime::dtypeSize(d.dtype);
      ids[result] = static_cast<int64_t>(plan.buffers.size());
      plan.buffers.push_back(std::move(d));
    } else if (auto e = dyn_cast<plan::EmittedKernelOp>(op)) {
      out.emittedSource += e.getSource().str() + "\n";
    } else if (auto k = dyn_cast<plan::KernelOp>(op)) {
      FailureOr<std::vector<kabi::ResolvedParam>> params =
          plan::kernelParams(k, symbols);
      if (failed(params))
        return failure();
      auto [it, inserted] = kernelIds.try_emplace(
          k.getKernel(), static_cast<int64_t>(plan.kernels.size()));
      if (inserted)
        plan.kernels.push_back({k.getKernel().str(), "", *params});
      runtime::KernelStep s;
      s.kernel = it->second;
      for (int d = 0; d < 3; ++d) {
        s.grid[d] = static_cast<uint32_t>(k.getGrid()[d]);
        s.block[d] = static_cast<uint32_t>(k.getBlock()[d]);
      }
      s.sharedBytes = static_cast<uint32_t>(k.getSharedBytes());
      for (const kabi::Arg<Value> &a : plan::kernelArgs(k)) {
        runtime::KernelArg r;
        r.kind = a.kind;
        r.buffer = a.kind == kabi::ArgKind::Buffer ? ids.lookup(a.buffer) : 0;
        for (Value v : a.buffers)
          r.buffers.push_back(ids.lookup(v));
        r.i64 = a.i64;
        r.f = a.f;
        s.args.push_back(std::move(r));
      }
      s.label = labelOf(k, k.getKernel().str());
      plan.steps.push_back(std::move(s));
    } else if (auto g = dyn_cast<plan::GemmOp>(op)) {
      runtime::GemmStep s;
      s.a = ids.lookup(g.getA());
      s.b = ids.lookup(g.getB());
      s.c = ids.lookup(g.getC());
      s.m = g.getM();
      s.n = g.getN();
      s.k = g.getK();
      s.transA = g.getTransA();
      s.transB = g.getTransB();
      s.alpha = g.getAlpha().convertToFloat();
      s.beta = g.getBeta().convertToFloat();
      s.label = labelOf(g, "gemm");
      plan.steps.push_back(std::move(s));
    } else if (auto m = dyn_cast<plan::MemsetOp>(op)) {
      runtime::MemsetStep s;
      s.buffer = ids.lookup(m.getBuffer());
      s.label = labelOf(m, "memset");
      plan.steps.push_back(std::move(s));
    }
  }
  // The runtime's optimizer step (norm, clip, AdamW, loss scaling) launches
  // these from the same cubin.
  // With weight copies, also the copy-writing AdamW and the cast that fills
  // the copies after weights are loaded.
  std::optional<runtime::DType> copies;
  for (const runtime::BufferDesc &b : plan.buffers)
    if (b.kind == runtime::BufferKind::ParamCopy)
      copies = b.dtype;
  for (const std::string &name :
       runtime::kernels::optimizerKernelNames(copies)) {
    bool listed = llvm::any_of(plan.kernels, [&](const auto &k) {
      return k.nameExpr == name;
    });
    if (!listed)
      plan.kernels.push_back(
          {name, "", runtime::kabi::resolveLibraryKernel(name)});
  }
  return out;
}
