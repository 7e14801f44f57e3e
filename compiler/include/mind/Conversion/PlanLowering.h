//===- PlanLowering.h - building a plan.micro_step from mind ops -*- C++ -*-===//
//
// What a per-family lowering (PlanLoweringOpInterface) sees while
// `mind-lower-to-plan` runs: the buffer of every value (created on first
// use, at the top of the micro-step), workspaces, and the steps to append.
// Library kernels are launched through their typed signatures:
//
//   L.kernel(k::rmsnorm(xType, wType, rows, h), L.buf(x), L.buf(w), L.buf(y),
//            I64(rows), I64(h), F32(eps));
//
// takes exactly the parameters of sig::rmsnorm_fwd in KernelSignatures.h, so
// a missing, extra or wrong-kind argument does not compile.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_CONVERSION_PLANLOWERING_H
#define MIND_CONVERSION_PLANLOWERING_H

#include "mind/Dialect/Plan/IR/PlanOps.h"
#include "mind/abi/KernelAbi.h"
#include "mind/abi/Plan.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

namespace mind {
class PlanLowering;
} // namespace mind

#include "mind/Conversion/PlanLoweringInterface.h.inc"

namespace mind {

/// Attaches the per-family lowerings to the mind ops.
void registerPlanLoweringInterfaces(mlir::DialectRegistry &registry);

class PlanLowering {
public:
  using Buffer = runtime::kabi::Buffer<mlir::Value>;
  using Buffers = runtime::kabi::Buffers<mlir::Value>;

  explicit PlanLowering(plan::MicroStepOp step);

  //===--------------------------------------------------------------------===//
  // Buffers
  //===--------------------------------------------------------------------===//

  /// The plan buffer holding `v`: an activation made on first use unless `v`
  /// was bound to a persistent buffer. A `memref` value is a plan buffer
  /// already and is returned as it is.
  mlir::Value bufferOf(mlir::Value v);
  /// `v`'s buffer as a kernel argument. Buffers are made when the launch is
  /// appended, in argument order (C++ leaves the order in which a call's
  /// arguments are evaluated open; the plan must not depend on it).
  Buffer buf(mlir::Value v) { return Buffer(v); }
  /// The buffers of `values` as one array argument.
  Buffers bufs(mlir::ValueRange values) {
    return Buffers(std::vector<mlir::Value>(values.begin(), values.end()));
  }
  /// `result` is `operand`'s bytes under another shape (mind.reshape).
  void alias(mlir::Value result, mlir::Value operand);
  /// Bytes [byteOffset, ...) of `source`'s buffer as a buffer of `shape` and
  /// `dtype` (a plan.view: a chunk of rows, say). byteOffset % 16 == 0.
  mlir::Value view(mlir::Value source, int64_t byteOffset,
                   llvm::ArrayRef<int64_t> shape, runtime::DType dtype);
  /// A scratch activation live only across the current op's steps.
  mlir::Value workspace(const std::string &name, runtime::DType dtype,
                        std::vector<int64_t> shape);
  /// Binds `v` to a persistent buffer of `kind` called `name`.
  mlir::Value bind(mlir::Value v, plan::BufferKind kind,
                   const std::string &name);
  /// A persistent buffer not tied to a value (gradient accumulators).
  mlir::Value persistent(plan::BufferKind kind, const std::string &name,
                         runtime::DType dtype, llvm::ArrayRef<int64_t> shape);
  bool isBound(mlir::Value v) const { return storage.count(v); }

  /// The accumulator `v` is added into directly (a GEMM with beta = 1, the
  /// embedding gradient's reduce, RMSNorm's dw), as mind-mark-gradient-sinks
  /// marked it, or null.
  mlir::Value sinkOf(mlir::Value v) const;
  /// Records `grad` as the accumulator of parameter `param`.
  void setGradAccumulator(llvm::StringRef param, mlir::Value grad) {
    gradBuffers[param] = grad;
  }
  mlir::Value gradAccumulator(llvm::StringRef param) const {
    return gradBuffers.lookup(param);
  }

  static runtime::DType dtypeOf(mlir::Value v);

  //===--------------------------------------------------------------------===//
  // Steps (attributed to the op being lowered: setCurrentOp)
  //===--------------------------------------------------------------------===//

  /// Launches a library kernel; the arguments follow S's signature.
  template <class S, class... A>
  void kernel(const runtime::kabi::Launch<S> &launch, const A &...args) {
    launchKernel(launch, runtime::kabi::Builder<S, mlir::Value>::args(args...));
  }
  /// Launches the kernel the elementwise emitter writes for `op` (defined
  /// once per distinct kernel as a plan.emitted_kernel).
  void emittedKernel(mlir::Operation *op);
  void gemm(mlir::Value a, mlir::Value b, mlir::Value c, int64_t m, int64_t n,
            int64_t k, bool transA, bool transB, float beta);
  void memset(mlir::Value buffer);

  void setCurrentOp(mlir::Operation *op) { current = op; }

private:
  void launchKernel(const runtime::LaunchConfig &launch,
                    std::vector<runtime::kabi::Arg<mlir::Value>> args);
  mlir::Value newBuffer(plan::BufferKind kind, const std::string &name,
                        mlir::MemRefType type);
  void attribute(mlir::Operation *step);

  plan::MicroStepOp step;
  mlir::OpBuilder buffers;  // inserts after the last buffer
  mlir::Operation *lastBuffer = nullptr;
  mlir::OpBuilder steps;   // appends at the end
  mlir::Operation *current = nullptr;
  llvm::DenseMap<mlir::Value, mlir::Value> storage;
  llvm::StringMap<mlir::Value> gradBuffers;
  llvm::StringSet<> emittedKernels;
  /// Resolves launches of emitted kernels (each is added as it is created).
  mlir::SymbolTableCollection symbols;
  int64_t valueCounter = 0;
};

} // namespace mind

#endif // MIND_CONVERSION_PLANLOWERING_H
