//===- ElementwiseEmitter.cpp - CUDA C++ for elementwise mind ops ---------===//

#include "mind/Codegen/ElementwiseEmitter.h"

#include "mind/Dialect/Mind/IR/MindOps.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mind;

namespace {
/// The CUDA storage type of a tensor's elements.
std::optional<std::string> cudaType(Value v) {
  Type e = cast<RankedTensorType>(v.getType()).getElementType();
  if (e.isF32())
    return std::string("float");
  if (e.isBF16())
    return std::string("__nv_bfloat16");
  if (e.isF16())
    return std::string("__half");
  return std::nullopt;
}

/// The fp32 statements computing `out` from `in` for `op`
/// (ElementwiseOpInterface), or nothing when `op` is not elementwise.
std::optional<std::string> statementsOf(Operation *op,
                                        ArrayRef<std::string> in,
                                        ArrayRef<std::string> out) {
  auto ew = dyn_cast<ElementwiseOpInterface>(op);
  if (!ew)
    return std::nullopt;
  return ew.getCudaStatements(in, out);
}

std::vector<std::string> names(const char *prefix, size_t n) {
  std::vector<std::string> v;
  for (size_t i = 0; i < n; ++i)
    v.push_back(prefix + std::to_string(i));
  return v;
}

/// The per-element statements of `op` computing r0, r1, ... from a0, a1,
/// ...: one op, or the body of a fused_elementwise region, where a value
/// that is not f32 is rounded to its type as a store would round it.
FailureOr<std::string> bodyOf(Operation *op) {
  if (auto fused = dyn_cast<FusedElementwiseOp>(op)) {
    Block &block = fused.getBody().front();
    llvm::DenseMap<Value, std::string> name;
    for (auto [i, arg] : llvm::enumerate(block.getArguments()))
      name[arg] = "a" + std::to_string(i);
    std::string text;
    int next = 0;
    for (Operation &inner : block.without_terminator()) {
      std::vector<std::string> in, out;
      for (Value v : inner.getOperands())
        in.push_back(name.lookup(v));
      for (Value r : inner.getResults()) {
        out.push_back("t" + std::to_string(next++));
        name[r] = out.back();
      }
      std::optional<std::string> s = statementsOf(&inner, in, out);
      if (!s)
        return inner.emitOpError("emitter: not an elementwise op");
      text += *s;
      for (auto [r, n] : llvm::zip(inner.getResults(), out)) {
        auto t = cudaType(r);
        if (!t)
          return inner.emitOpError("emitter: unsupported result type ")
                 << r.getType();
        if (*t != "float")
          text += llvm::formatv(" {0} = mind::toF32(mind::fromF32<{1}>({0}));",
                                n, *t)
                      .str();
      }
      text += "\n      ";
    }
    Operation *yield = block.getTerminator();
    for (auto [i, v] : llvm::enumerate(yield->getOperands()))
      text += llvm::formatv("float r{0} = {1}; ", i, name.lookup(v)).str();
    return text;
  }
  std::optional<std::string> s =
      statementsOf(op, names("a", op->getNumOperands()),
                   names("r", op->getNumResults()));
  if (!s)
    return op->emitOpError("emitter: not an elementwise op");
  return *s;
}
} // namespace

bool mind::isEmittedElementwise(Operation *op) {
  return isa<FusedElementwiseOp, ElementwiseOpInterface>(op);
}

FailureOr<EmittedKernel> mind::emitElementwiseKernel(Operation *op) {
  FailureOr<std::string> body = bodyOf(op);
  if (failed(body))
    return failure();
  // Each thread handles runs of 8 consecutive elements with 16-byte vector
  // loads and stores (arena buffers are 256-byte aligned, so a run of 8 is
  // aligned for every element type), then a scalar loop finishes the tail.
  std::string params, vecLoads, vecStores, scalarLoads, scalarStores, decls;
  for (auto [i, v] : llvm::enumerate(op->getOperands())) {
    auto t = cudaType(v);
    if (!t)
      return op->emitOpError("emitter: unsupported operand type ")
             << v.getType();
    params += llvm::formatv("const {0} *__restrict__ in{1}, ", *t, i).str();
    vecLoads += llvm::formatv("    {0} x{1}[8];\n"
                              "    mind::loadVec8(x{1}, in{1} + base);\n",
                              *t, i)
                    .str();
    scalarLoads +=
        llvm::formatv("      float a{0} = mind::toF32(in{0}[i]);\n", i).str();
    decls += llvm::formatv("      float a{0} = mind::toF32(x{0}[j]);\n", i).str();
  }
  std::string resultDecls, resultSets;
  for (auto [i, v] : llvm::enumerate(op->getResults())) {
    auto t = cudaType(v);
    if (!t)
      return op->emitOpError("emitter: unsupported result type ")
             << v.getType();
    params += llvm::formatv("{0} *__restrict__ out{1}, ", *t, i).str();
    resultDecls += llvm::formatv("    {0} y{1}[8];\n", *t, i).str();
    resultSets +=
        llvm::formatv("      y{0}[j] = mind::fromF32<{1}>(r{0});\n", i, *t)
            .str();
    vecStores +=
        llvm::formatv("    mind::storeVec8(out{0} + base, y{0});\n", i).str();
    scalarStores +=
        llvm::formatv("      out{0}[i] = mind::fromF32<{1}>(r{0});\n", i, *t)
            .str();
  }
  std::string text = llvm::formatv(
      "(/*PARAMS*/long long n) {{\n"
      "  long long tid = blockIdx.x * (long long)blockDim.x + threadIdx.x;\n"
      "  long long stride = (long long)gridDim.x * blockDim.x;\n"
      "  for (long long v = tid; v < n / 8; v += stride) {{\n"
      "    long long base = v * 8;\n"
      "{0}{1}"
      "#pragma unroll\n"
      "    for (int j = 0; j < 8; ++j) {{\n"
      "{2}      {3}\n"
      "{4}    }\n"
      "{5}  }\n"
      "  for (long long i = n / 8 * 8 + tid; i < n; i += stride) {{\n"
      "{6}      {3}\n"
      "{7}  }\n"
      "}\n",
      vecLoads, resultDecls, decls, *body, resultSets, vecStores, scalarLoads,
      scalarStores);
  size_t at = text.find("/*PARAMS*/");
  text.replace(at, 10, params);
  // Same text, same kernel: the name is the op plus a hash of the code
  // (FNV-1a, so names are stable across runs and machines).
  uint32_t hash = 2166136261u;
  for (char c : text)
    hash = (hash ^ static_cast<uint8_t>(c)) * 16777619u;
  // Fused kernels are named after their ops (profiles show what they do).
  std::string opName = op->getName().stripDialect().str();
  if (auto fused = dyn_cast<FusedElementwiseOp>(op)) {
    opName = "fused";
    for (Operation &inner : fused.getBody().front().without_terminator())
      opName += "_" + inner.getName().stripDialect().str();
  }
  std::string name = llvm::formatv("mind_ew_{0}_{1:x-8}", opName, hash);
  EmittedKernel k;
  k.name = name;
  k.source = "// Emitted from '" + op->getName().getStringRef().str() +
             "'.\nextern \"C\" __global__ void " + name + text;
  return k;
}
