//===- ElementwiseEmitter.cpp - CUDA C++ for elementwise mind ops ---------===//

#include "mind/Codegen/ElementwiseEmitter.h"

#include "mind/Dialect/Mind/IR/MindOps.h"

#include "llvm/ADT/TypeSwitch.h"
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

/// The fp32 statements computing r0, r1, ... from a0, a1, ... for `op`,
/// written from the op's definition (docs/Rationale/OpSet.md).
std::optional<std::string> bodyOf(Operation *op) {
  return llvm::TypeSwitch<Operation *, std::optional<std::string>>(op)
      .Case([](AddOp) { return "float r0 = a0 + a1;"; })
      .Case([](MulOp) { return "float r0 = a0 * a1;"; })
      .Case([](SiluOp) {
        return "float s = 1.0f / (1.0f + expf(-a0)); float r0 = a0 * s;";
      })
      .Case([](SiluGradOp) {
        // d silu(x)/dx = s * (1 + x * (1 - s)), s = sigmoid(x).
        return "float s = 1.0f / (1.0f + expf(-a0));"
               " float r0 = a1 * s * (1.0f + a0 * (1.0f - s));";
      })
      .Case([](SwiGLUOp) {
        return "float s = 1.0f / (1.0f + expf(-a0)); float r0 = a0 * s * a1;";
      })
      .Case([](SwiGLUGradOp) {
        // gate_grad = silu'(gate) * grad * up; up_grad = grad * silu(gate).
        return "float s = 1.0f / (1.0f + expf(-a0));"
               " float r0 = a2 * a1 * s * (1.0f + a0 * (1.0f - s));"
               " float r1 = a2 * a0 * s;";
      })
      .Case([](CastOp) { return "float r0 = a0;"; })
      .Default([](Operation *) { return std::nullopt; });
}
} // namespace

bool mind::isEmittedElementwise(Operation *op) {
  return bodyOf(op).has_value();
}

FailureOr<EmittedKernel> mind::emitElementwiseKernel(Operation *op) {
  std::optional<std::string> body = bodyOf(op);
  if (!body)
    return op->emitOpError("emitter: not an elementwise op");
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
  std::string opName = op->getName().stripDialect().str();
  std::string name = llvm::formatv("mind_ew_{0}_{1:x-8}", opName, hash);
  EmittedKernel k;
  k.name = name;
  k.source = "// Emitted from '" + op->getName().getStringRef().str() +
             "'.\nextern \"C\" __global__ void " + name + text;
  return k;
}
