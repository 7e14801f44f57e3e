//===- PlanOps.cpp - plan op verifiers and the kernel launch syntax -------===//

#include "mind/Dialect/Plan/IR/PlanOps.h"
#include "mind/Dialect/Plan/IR/PlanUtils.h"
#include "llvm/Support/MathExtras.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace mind;
using namespace mind::plan;
namespace kabi = mind::runtime::kabi;

std::optional<runtime::DType> mind::plan::dtypeOf(Type type) {
  Type e = type;
  if (auto shaped = dyn_cast<ShapedType>(type))
    e = shaped.getElementType();
  if (e.isF32())
    return runtime::DType::F32;
  if (e.isBF16())
    return runtime::DType::BF16;
  if (e.isF16())
    return runtime::DType::F16;
  if (e.isF64())
    return runtime::DType::F64;
  if (e.isInteger(64))
    return runtime::DType::I64;
  if (e.isInteger(32))
    return runtime::DType::I32;
  return std::nullopt;
}

std::optional<runtime::DType> mind::plan::bufferDtypeOf(Type type) {
  std::optional<runtime::DType> d = dtypeOf(type);
  if (d == runtime::DType::F64)
    return std::nullopt;
  return d;
}

std::optional<uint64_t> mind::plan::bufferBytes(ShapedType type) {
  std::optional<runtime::DType> d = bufferDtypeOf(type);
  if (!d)
    return std::nullopt;
  int64_t bytes = static_cast<int64_t>(runtime::dtypeSize(*d));
  for (int64_t dim : type.getShape())
    if (dim < 0 || llvm::MulOverflow(bytes, dim, bytes))
      return std::nullopt;
  if (static_cast<uint64_t>(bytes) > kMaxBufferBytes)
    return std::nullopt;
  return static_cast<uint64_t>(bytes);
}

std::vector<kabi::ResolvedParam>
mind::plan::emittedKernelParams(ArrayRef<runtime::DType> inputs,
                                ArrayRef<runtime::DType> outputs) {
  std::vector<kabi::ResolvedParam> params;
  for (auto [i, d] : llvm::enumerate(inputs))
    params.push_back({"in" + std::to_string(i), kabi::ParamKind::In, d});
  for (auto [i, d] : llvm::enumerate(outputs))
    params.push_back({"out" + std::to_string(i), kabi::ParamKind::Out, d});
  params.push_back({"n", kabi::ParamKind::I64, std::nullopt});
  return params;
}

//===----------------------------------------------------------------------===//
// BufferOp
//===----------------------------------------------------------------------===//

LogicalResult BufferOp::verify() {
  if (getName().empty())
    return emitOpError("needs a name");
  if (!bufferDtypeOf(getType()))
    return emitOpError("element type ")
           << getType().getElementType()
           << " has no runtime buffer (f32, bf16, f16, i64, i32)";
  if ((getKind() == BufferKind::param || getKind() == BufferKind::grad) &&
      !getType().getElementType().isF32())
    return emitOpError("a ") << stringifyBufferKind(getKind())
                             << " buffer must be f32";
  if (getKind() == BufferKind::param_copy &&
      !isa<BFloat16Type, Float16Type>(getType().getElementType()))
    return emitOpError("a param_copy buffer must be bf16 or f16");
  std::optional<uint64_t> bytes = bufferBytes(getType());
  if (!bytes)
    return emitOpError("a buffer holds at most ")
           << (kMaxBufferBytes >> 30) << " GiB";
  if (*bytes == 0)
    return emitOpError("an empty buffer has no bytes to plan");
  return success();
}

//===----------------------------------------------------------------------===//
// ViewOp
//===----------------------------------------------------------------------===//

LogicalResult ViewOp::verify() {
  auto source = getSource().getDefiningOp<BufferOp>();
  if (!source)
    return emitOpError("views a plan.buffer (not a view or another value)");
  if (!bufferDtypeOf(getType()))
    return emitOpError("element type ")
           << getType().getElementType()
           << " has no runtime buffer (f32, bf16, f16, i64, i32)";
  std::optional<uint64_t> bytes = bufferBytes(getType());
  if (!bytes || *bytes == 0)
    return emitOpError("a view holds between 1 byte and ")
           << (kMaxBufferBytes >> 30) << " GiB";
  int64_t offset = getByteOffset();
  if (offset < 0 || offset % 16 != 0)
    return emitOpError("byte_offset must be a non-negative multiple of 16, "
                       "got ")
           << offset;
  uint64_t sourceBytes = *bufferBytes(source.getType());
  if (static_cast<uint64_t>(offset) > sourceBytes ||
      *bytes > sourceBytes - static_cast<uint64_t>(offset))
    return emitOpError("bytes [")
           << offset << ", " << static_cast<uint64_t>(offset) + *bytes
           << ") lie outside its source's " << sourceBytes;
  return success();
}

//===----------------------------------------------------------------------===//
// KernelOp
//===----------------------------------------------------------------------===//

bool KernelOp::isBufferArg(Attribute a) { return isa<UnitAttr>(a); }

std::optional<int64_t> KernelOp::arrayArgSize(Attribute a) {
  auto i = dyn_cast<IntegerAttr>(a);
  if (i && i.getType().isIndex())
    return i.getInt();
  return std::nullopt;
}

std::vector<kabi::Arg<Value>> mind::plan::kernelArgs(KernelOp op) {
  std::vector<kabi::Arg<Value>> out;
  auto buffers = op.getBuffers();
  size_t next = 0;
  for (Attribute a : op.getArgs()) {
    if (KernelOp::isBufferArg(a)) {
      out.push_back(kabi::Arg<Value>::buf(
          next < buffers.size() ? buffers[next] : Value()));
      ++next;
    } else if (auto n = KernelOp::arrayArgSize(a)) {
      std::vector<Value> vs;
      for (int64_t i = 0; i < *n; ++i, ++next)
        vs.push_back(next < buffers.size() ? buffers[next] : Value());
      out.push_back(kabi::Arg<Value>::bufs(std::move(vs)));
    } else if (auto i = dyn_cast<IntegerAttr>(a)) {
      out.push_back(kabi::Arg<Value>::int64(i.getInt()));
    } else {
      auto f = cast<FloatAttr>(a);
      out.push_back(f.getType().isF32()
                        ? kabi::Arg<Value>::f32(f.getValueAsDouble())
                        : kabi::Arg<Value>::f64(f.getValueAsDouble()));
    }
  }
  return out;
}

FailureOr<std::vector<kabi::ResolvedParam>>
mind::plan::kernelParams(KernelOp op, SymbolTableCollection &symbols) {
  StringRef name = op.getKernel();
  if (name.starts_with("mind::")) {
    try {
      return kabi::resolveLibraryKernel(name.str());
    } catch (const std::invalid_argument &e) {
      return op.emitOpError() << e.what();
    }
  }
  auto def = dyn_cast_or_null<EmittedKernelOp>(symbols.lookupSymbolIn(
      op->getParentOp(), StringAttr::get(op->getContext(), name)));
  if (!def)
    return op.emitOpError("'")
           << name
           << "' is neither a library kernel (mind::...) nor a "
              "plan.emitted_kernel of this micro-step";
  // Element types come from the launch (the emitted kernel is written for
  // them: its name hashes its text).
  std::vector<kabi::Arg<Value>> args = kernelArgs(op);
  int64_t ins = def.getNumInputs(), outs = def.getNumOutputs();
  if (static_cast<int64_t>(args.size()) != ins + outs + 1)
    return op.emitOpError("emitted kernel '")
           << name << "' takes " << ins << " inputs, " << outs
           << " outputs and the element count";
  SmallVector<runtime::DType> inTypes, outTypes;
  for (int64_t i = 0; i < ins + outs; ++i) {
    if (args[i].kind != kabi::ArgKind::Buffer || !args[i].buffer)
      return op.emitOpError("argument ") << i << " of emitted kernel '"
                                         << name << "' must be a buffer";
    (i < ins ? inTypes : outTypes)
        .push_back(*dtypeOf(args[i].buffer.getType()));
  }
  return emittedKernelParams(inTypes, outTypes);
}

/// The launch matches the kernel's parameters.
static LogicalResult verifyLaunch(KernelOp op, SymbolTableCollection &symbols) {
  FailureOr<std::vector<kabi::ResolvedParam>> params =
      kernelParams(op, symbols);
  if (failed(params))
    return failure();
  try {
    kabi::checkArguments<Value>(
        *params, kernelArgs(op),
        [](const Value &v) { return *dtypeOf(v.getType()); },
        op.getKernel().str());
  } catch (const std::invalid_argument &e) {
    return op.emitOpError() << e.what();
  }
  return success();
}

LogicalResult KernelOp::verify() {
  if (getGrid().size() != 3 || getBlock().size() != 3)
    return emitOpError("grid and block need three dimensions");
  for (int32_t d : llvm::concat<const int32_t>(getGrid(), getBlock()))
    if (d < 1)
      return emitOpError("grid and block dimensions must be positive");
  ArrayRef<int32_t> g = getGrid(), bl = getBlock();
  // CUDA's launch limits (the bundle validator checks the same).
  if (int64_t(bl[0]) * bl[1] * bl[2] > 1024 || bl[2] > 64 || g[1] > 65535 ||
      g[2] > 65535)
    return emitOpError("launch shape exceeds CUDA's limits (at most 1024 "
                       "threads per block, block z <= 64, grid y, z <= "
                       "65535)");
  if (getSharedBytes() < 0 || getSharedBytes() > 227 * 1024)
    return emitOpError("shared memory must be in [0, 227 KiB]");
  int64_t buffers = 0;
  for (Attribute a : getArgs()) {
    if (isBufferArg(a)) {
      ++buffers;
    } else if (auto n = arrayArgSize(a)) {
      if (*n < 0)
        return emitOpError("an array argument cannot have ")
               << *n << " buffers";
      buffers += *n;
    } else if (auto i = dyn_cast<IntegerAttr>(a)) {
      if (!i.getType().isInteger(64))
        return emitOpError("integer arguments are i64");
    } else if (auto f = dyn_cast<FloatAttr>(a)) {
      if (!f.getType().isF32() && !f.getType().isF64())
        return emitOpError("float arguments are f32 or f64");
    } else {
      return emitOpError("unexpected argument ") << a;
    }
  }
  if (buffers != static_cast<int64_t>(getBuffers().size()))
    return emitOpError("the arguments name ")
           << buffers << " buffers but the op has " << getBuffers().size();
  // An emitted kernel is a symbol: verifySymbolUses checks its launches.
  if (!getKernel().starts_with("mind::"))
    return success();
  SymbolTableCollection noSymbols;
  return verifyLaunch(*this, noSymbols);
}

LogicalResult KernelOp::verifySymbolUses(SymbolTableCollection &symbols) {
  if (getKernel().starts_with("mind::"))
    return success();
  return verifyLaunch(*this, symbols);
}

// plan.kernel "name"(%a, [%b, %c], 16, 1.0 : f32) grid [..] block [..]
//     (smem N)? attr-dict : type, ...
ParseResult KernelOp::parse(OpAsmParser &parser, OperationState &result) {
  Builder &b = parser.getBuilder();
  StringAttr kernel;
  if (parser.parseAttribute(kernel, "kernel", result.attributes))
    return failure();
  SmallVector<OpAsmParser::UnresolvedOperand> operands;
  SmallVector<Attribute> args;
  auto parseArg = [&]() -> ParseResult {
    OpAsmParser::UnresolvedOperand operand;
    OptionalParseResult one = parser.parseOptionalOperand(operand);
    if (one.has_value()) {
      if (failed(*one))
        return failure();
      operands.push_back(operand);
      args.push_back(b.getUnitAttr());
      return success();
    }
    if (succeeded(parser.parseOptionalLSquare())) {
      int64_t n = 0;
      if (failed(parser.parseOptionalRSquare()) &&
          (parser.parseCommaSeparatedList([&]() -> ParseResult {
             ++n;
             operands.emplace_back();
             return parser.parseOperand(operands.back());
           }) ||
           parser.parseRSquare()))
        return failure();
      args.push_back(b.getIndexAttr(n));
      return success();
    }
    Attribute scalar;
    if (parser.parseAttribute(scalar))
      return failure();
    args.push_back(scalar);
    return success();
  };
  if (parser.parseCommaSeparatedList(AsmParser::Delimiter::Paren, parseArg))
    return failure();
  result.addAttribute("args", b.getArrayAttr(args));
  auto parseDims = [&](const char *keyword, const char *attr) -> ParseResult {
    SmallVector<int32_t> dims;
    if (parser.parseKeyword(keyword) ||
        parser.parseCommaSeparatedList(AsmParser::Delimiter::Square, [&]() {
          int32_t v;
          if (parser.parseInteger(v))
            return failure();
          dims.push_back(v);
          return success();
        }))
      return failure();
    result.addAttribute(attr, b.getDenseI32ArrayAttr(dims));
    return success();
  };
  if (parseDims("grid", "grid") || parseDims("block", "block"))
    return failure();
  if (succeeded(parser.parseOptionalKeyword("smem"))) {
    int32_t smem;
    if (parser.parseInteger(smem))
      return failure();
    result.addAttribute("shared_bytes", b.getI32IntegerAttr(smem));
  }
  SmallVector<Type> types;
  if (parser.parseOptionalAttrDict(result.attributes))
    return failure();
  if (!operands.empty() &&
      (parser.parseColon() || parser.parseTypeList(types)))
    return failure();
  return parser.resolveOperands(operands, types, parser.getNameLoc(),
                                result.operands);
}

void KernelOp::print(OpAsmPrinter &p) {
  p << " ";
  p.printAttributeWithoutType(getKernelAttr());
  p << "(";
  auto buffers = getBuffers();
  size_t next = 0;
  llvm::interleaveComma(getArgs(), p, [&](Attribute a) {
    if (isBufferArg(a)) {
      p.printOperand(buffers[next++]);
    } else if (auto n = arrayArgSize(a)) {
      p << "[";
      for (int64_t i = 0; i < *n; ++i)
        p << (i ? ", " : "") << buffers[next++];
      p << "]";
    } else {
      p.printAttribute(a);
    }
  });
  p << ") grid [";
  llvm::interleaveComma(getGrid(), p);
  p << "] block [";
  llvm::interleaveComma(getBlock(), p);
  p << "]";
  if (getSharedBytes() != 0)
    p << " smem " << getSharedBytes();
  p.printOptionalAttrDict((*this)->getAttrs(),
                          {"kernel", "args", "grid", "block", "shared_bytes"});
  if (!buffers.empty()) {
    p << " : ";
    llvm::interleaveComma(buffers.getTypes(), p);
  }
}

//===----------------------------------------------------------------------===//
// GemmOp
//===----------------------------------------------------------------------===//

LogicalResult MicroStepOp::verify() {
  if (getBlock().getNumArguments() != 0)
    return emitOpError("takes no block arguments: its buffers are "
                       "plan.buffer ops");
  for (Operation &op : getBlock())
    for (Value v : op.getOperands())
      if (isa<MemRefType>(v.getType()) && !v.getDefiningOp<BufferOp>() &&
          !v.getDefiningOp<ViewOp>())
        return op.emitOpError("uses a memref that is not a plan.buffer or "
                              "plan.view of its micro-step");
  return success();
}

LogicalResult GemmOp::verify() {
  auto a = cast<MemRefType>(getA().getType());
  auto b = cast<MemRefType>(getB().getType());
  auto c = cast<MemRefType>(getC().getType());
  Type ea = a.getElementType();
  if (!(ea.isF32() || ea.isBF16() || ea.isF16()) || ea != b.getElementType())
    return emitOpError("a and b must share one of f32, bf16, f16");
  if (c.getElementType() != ea && !c.getElementType().isF32())
    return emitOpError("c must be ") << ea << " or f32";
  int64_t m = getM(), n = getN(), k = getK();
  if (m < 1 || n < 1 || k < 1)
    return emitOpError("m, n, k must be positive");
  if (a.getNumElements() != m * k || b.getNumElements() != k * n ||
      c.getNumElements() != m * n)
    return emitOpError("operand sizes do not match m = ")
           << m << ", n = " << n << ", k = " << k;
  return success();
}

#define GET_OP_CLASSES
#include "mind/Dialect/Plan/IR/PlanOps.cpp.inc"
