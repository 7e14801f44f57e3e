//===- PlanLowering.cpp - building a plan.micro_step from mind ops --------===//

#include "mind/Conversion/PlanLowering.h"

#include "mind/Codegen/ElementwiseEmitter.h"
#include "mind/Dialect/Mind/IR/MindOps.h"
#include "mind/Dialect/Plan/IR/PlanUtils.h"

#include "mind/abi/KernelSpecs.h"

#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mind;
namespace kabi = mind::runtime::kabi;
using runtime::DType;

#include "mind/Conversion/PlanLoweringInterface.cpp.inc"

namespace {
Type elementType(MLIRContext *ctx, DType d) {
  Builder b(ctx);
  switch (d) {
  case DType::F32:
    return b.getF32Type();
  case DType::BF16:
    return b.getBF16Type();
  case DType::F16:
    return b.getF16Type();
  case DType::I64:
    return b.getI64Type();
  case DType::I32:
    return b.getI32Type();
  default:
    throw std::invalid_argument(std::string("no plan buffer of ") +
                                runtime::dtypeName(d));
  }
}
} // namespace

PlanLowering::PlanLowering(plan::MicroStepOp step)
    : step(step), buffers(step.getContext()), steps(step.getContext()) {
  buffers.setInsertionPointToStart(&step.getBlock());
  steps.setInsertionPointToEnd(&step.getBlock());
}

DType PlanLowering::dtypeOf(Value v) {
  std::optional<DType> d = plan::bufferDtypeOf(v.getType());
  if (!d) {
    std::string type;
    llvm::raw_string_ostream os(type);
    os << getElementTypeOrSelf(v);
    throw std::invalid_argument("element type " + type +
                                " has no GPU lowering");
  }
  return *d;
}

Value PlanLowering::newBuffer(plan::BufferKind kind, const std::string &name,
                              MemRefType type) {
  std::optional<uint64_t> bytes = plan::bufferBytes(type);
  if (!bytes)
    throw std::invalid_argument(
        "'" + name + "' is larger than the " +
        std::to_string(plan::kMaxBufferBytes >> 30) +
        " GiB a GPU buffer may hold");
  if (*bytes == 0)
    throw std::invalid_argument("'" + name +
                                "' is an empty tensor: nothing to run on "
                                "the GPU (every dimension must be positive)");
  Location loc = current ? current->getLoc() : step.getLoc();
  // After the last buffer, i.e. before every step (the insertion point is
  // taken now: steps appended since the last buffer come after it).
  if (lastBuffer)
    buffers.setInsertionPointAfter(lastBuffer);
  else
    buffers.setInsertionPointToStart(&step.getBlock());
  auto b = plan::BufferOp::create(buffers, loc, type, kind, name,
                                  /*offset=*/nullptr);
  lastBuffer = b;
  return b.getResult();
}

Value PlanLowering::view(Value source, int64_t byteOffset,
                         ArrayRef<int64_t> shape, DType dtype) {
  Value base = bufferOf(source);
  Location loc = current ? current->getLoc() : step.getLoc();
  if (lastBuffer)
    buffers.setInsertionPointAfter(lastBuffer);
  else
    buffers.setInsertionPointToStart(&step.getBlock());
  auto v = plan::ViewOp::create(
      buffers, loc,
      MemRefType::get(shape, elementType(step.getContext(), dtype)), base,
      buffers.getI64IntegerAttr(byteOffset), /*offset=*/nullptr);
  lastBuffer = v;
  return v.getResult();
}

Value PlanLowering::bind(Value v, plan::BufferKind kind,
                         const std::string &name) {
  auto t = cast<RankedTensorType>(v.getType());
  Value b = newBuffer(kind, name,
                      MemRefType::get(t.getShape(),
                                      elementType(v.getContext(), dtypeOf(v))));
  storage[v] = b;
  // A returned reshape: the value it reshapes is computed into the output
  // buffer directly (same bytes), unless that value lives elsewhere already.
  if (kind == plan::BufferKind::output)
    for (Value src = v; auto r = src.getDefiningOp<ReshapeOp>();) {
      src = r.getInput();
      if (storage.count(src) || isa<BlockArgument>(src))
        break;
      storage[src] = b;
    }
  return b;
}

Value PlanLowering::persistent(plan::BufferKind kind, const std::string &name,
                               DType dtype, ArrayRef<int64_t> shape) {
  return newBuffer(kind, name,
                   MemRefType::get(shape, elementType(step.getContext(), dtype)));
}

Value PlanLowering::bufferOf(Value v) {
  if (isa<MemRefType>(v.getType()))
    return v;
  auto it = storage.find(v);
  if (it != storage.end())
    return it->second;
  return bind(v, plan::BufferKind::activation,
              "%" + std::to_string(valueCounter++));
}

void PlanLowering::alias(Value result, Value operand) {
  auto bound = storage.find(result);
  if (bound == storage.end()) {
    storage[result] = bufferOf(operand);
    return;
  }
  Value dst = bound->second;
  if (bufferOf(operand) == dst)
    return; // the producer wrote into the result's buffer already
  // The result has a buffer of its own (a returned output) and the operand
  // lives elsewhere (an argument, a value with a persistent buffer): copy
  // the bytes (an identity transpose, which every element type has).
  auto shape = cast<RankedTensorType>(operand.getType()).getShape();
  std::vector<int64_t> in(shape.begin(), shape.end()), perm;
  for (size_t i = 0; i < in.size(); ++i)
    perm.push_back(static_cast<int64_t>(i));
  auto a = runtime::kernels::transposeArgs(in, perm);
  using runtime::kabi::I64;
  kernel(runtime::kernels::transpose(dtypeOf(operand), in), buf(operand),
         Buffer(dst), I64(a[0]), I64(a[1]), I64(a[2]), I64(a[3]), I64(a[4]),
         I64(a[5]), I64(a[6]), I64(a[7]), I64(a[8]));
}

Value PlanLowering::workspace(const std::string &name, DType dtype,
                              std::vector<int64_t> shape) {
  return persistent(plan::BufferKind::activation,
                    name + "." + std::to_string(valueCounter++), dtype, shape);
}

Value PlanLowering::sinkOf(Value v) const {
  auto r = dyn_cast<OpResult>(v);
  if (!r)
    return {};
  auto names = r.getOwner()->getAttrOfType<ArrayAttr>(kAccumulateIntoAttr);
  if (!names || r.getResultNumber() >= names.size())
    return {};
  auto name = dyn_cast<StringAttr>(names[r.getResultNumber()]);
  if (!name || name.getValue().empty())
    return {};
  return gradBuffers.lookup(name.getValue());
}

void PlanLowering::attribute(Operation *s) {
  if (!current)
    return;
  s->setLoc(current->getLoc());
  s->setAttr("source",
             StringAttr::get(s->getContext(),
                             current->getName().getStringRef()));
}

void PlanLowering::launchKernel(const runtime::LaunchConfig &launch,
                                std::vector<kabi::Arg<Value>> args) {
  Builder b(step.getContext());
  SmallVector<Value> operands;
  SmallVector<Attribute> attrs;
  for (const kabi::Arg<Value> &a : args) {
    switch (a.kind) {
    case kabi::ArgKind::Buffer:
      operands.push_back(bufferOf(a.buffer));
      attrs.push_back(b.getUnitAttr());
      break;
    case kabi::ArgKind::Buffers:
      for (Value v : a.buffers)
        operands.push_back(bufferOf(v));
      attrs.push_back(b.getIndexAttr(static_cast<int64_t>(a.buffers.size())));
      break;
    case kabi::ArgKind::I64:
      attrs.push_back(b.getI64IntegerAttr(a.i64));
      break;
    case kabi::ArgKind::F32:
      attrs.push_back(b.getF32FloatAttr(static_cast<float>(a.f)));
      break;
    case kabi::ArgKind::F64:
      attrs.push_back(b.getF64FloatAttr(a.f));
      break;
    }
  }
  auto toI32 = [](const std::array<uint32_t, 3> &d) {
    return SmallVector<int32_t>{static_cast<int32_t>(d[0]),
                                static_cast<int32_t>(d[1]),
                                static_cast<int32_t>(d[2])};
  };
  auto k = plan::KernelOp::create(
      steps, step.getLoc(), launch.nameExpr, operands, b.getArrayAttr(attrs),
      toI32(launch.grid), toI32(launch.block),
      static_cast<int32_t>(launch.sharedBytes), /*source=*/nullptr);
  attribute(k);
  // A launch the kernel's signature rejects (the op's operand types have no
  // kernel) is reported here, at the op, not after the pass.
  FailureOr<std::vector<kabi::ResolvedParam>> params =
      plan::kernelParams(k, symbols);
  if (failed(params))
    throw std::invalid_argument("no such kernel");
  try {
    kabi::checkArguments<Value>(
        *params, plan::kernelArgs(k),
        [](const Value &v) { return *plan::dtypeOf(v.getType()); },
        launch.nameExpr);
  } catch (const std::invalid_argument &) {
    k.erase();
    throw;
  }
}

void PlanLowering::emittedKernel(Operation *op) {
  FailureOr<EmittedKernel> k = emitElementwiseKernel(op);
  if (failed(k))
    throw std::invalid_argument("the elementwise emitter failed");
  if (emittedKernels.insert(k->name).second) {
    auto def = plan::EmittedKernelOp::create(
        steps, op->getLoc(), k->name, op->getNumOperands(),
        op->getNumResults(), k->source);
    symbols.getSymbolTable(def->getParentOp()).insert(def);
  }
  int64_t n = cast<RankedTensorType>(op->getResult(0).getType())
                  .getNumElements();
  runtime::LaunchConfig cfg;
  cfg.nameExpr = k->name;
  cfg.block = {256, 1, 1};
  // Each thread takes runs of 8 elements (see ElementwiseEmitter.h).
  int64_t threads = std::max<int64_t>((n + 7) / 8, 1);
  cfg.grid = {static_cast<uint32_t>(
                  std::min<int64_t>((threads + 255) / 256, int64_t{1} << 16)),
              1, 1};
  std::vector<kabi::Arg<Value>> args;
  for (Value v : op->getOperands())
    args.push_back(kabi::Arg<Value>::buf(bufferOf(v)));
  for (Value v : op->getResults())
    args.push_back(kabi::Arg<Value>::buf(bufferOf(v)));
  args.push_back(kabi::Arg<Value>::int64(n));
  launchKernel(cfg, std::move(args));
}

void PlanLowering::gemm(Value a, Value b, Value c, int64_t m, int64_t n,
                        int64_t k, bool transA, bool transB, float beta) {
  Builder bb(step.getContext());
  Value ba = bufferOf(a), bb2 = bufferOf(b), bc = bufferOf(c);
  auto g = plan::GemmOp::create(
      steps, step.getLoc(), ba, bb2, bc,
      bb.getI64IntegerAttr(m), bb.getI64IntegerAttr(n),
      bb.getI64IntegerAttr(k), transA ? bb.getUnitAttr() : nullptr,
      transB ? bb.getUnitAttr() : nullptr, bb.getF32FloatAttr(1.0f),
      bb.getF32FloatAttr(beta), /*source=*/nullptr);
  attribute(g);
}

void PlanLowering::memset(Value buffer) {
  auto m = plan::MemsetOp::create(steps, step.getLoc(), bufferOf(buffer),
                                  /*source=*/nullptr);
  attribute(m);
}
