//===- PlanBuilder.h - builds a runtime plan from mind ops ------*- C++ -*-===//
//
// Internal to LowerToPlan: buffer bookkeeping (one buffer per SSA value,
// reshapes alias their operand), step emission, liveness recording, and the
// final memory plan.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_CONVERSION_PLANBUILDER_H
#define MIND_CONVERSION_PLANBUILDER_H

#include "mind/abi/Plan.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

namespace mind {

class PlanBuilder {
public:
  /// Gives a block argument its persistent buffer.
  mlir::LogicalResult bindArgument(mlir::BlockArgument arg,
                                   const std::string &name,
                                   runtime::BufferKind kind);
  /// The fp32 accumulator `grad.<name>` that `value` is added into after the
  /// backward.
  void addGradAccumulator(const std::string &name, mlir::Value value);
  /// Makes `value` live in a persistent output buffer the host reads.
  mlir::LogicalResult bindOutput(mlir::Value value, const std::string &name);
  /// Decides how each gradient reaches its accumulator: ops that can add
  /// into an fp32 buffer (GEMMs with beta = 1, RMSNorm's weight gradient,
  /// the embedding scatter-add) write into it directly, through the sums and
  /// casts between them and the return; anything else is materialized and
  /// added by an `accumulate` kernel.
  void planGradientSinks();

  mlir::LogicalResult lowerOp(mlir::Operation *op);
  /// Adds each remaining gradient into its accumulator.
  void accumulateGradients();
  runtime::Plan finish();
  /// The CUDA C++ of every kernel emitted from the IR so far.
  const std::string &emittedSource() const { return emitted; }

  // Used by the per-op lowerings (LowerKernels.cpp).
  int64_t bufferOf(mlir::Value v);
  int64_t workspace(const std::string &name, runtime::DType dtype,
                    std::vector<int64_t> shape);
  /// Appends a launch of `cfg`'s kernel. `params` is its signature when the
  /// kernel is emitted from the IR; library kernels take theirs from
  /// KernelSignatures.h. Throws std::invalid_argument when `args` do not fit.
  void kernel(const runtime::LaunchConfig &cfg,
              std::vector<runtime::KernelArg> args, mlir::Operation *op,
              const std::vector<runtime::kabi::ResolvedParam> *params = nullptr);
  void gemm(runtime::GemmStep step, mlir::Operation *op);
  void memset(int64_t buffer, mlir::Operation *op);
  runtime::DType dtypeOf(mlir::Value v) const;
  static std::string labelOf(mlir::Operation *op);

private:
  mlir::LogicalResult lowerKernelOp(mlir::Operation *op);
  mlir::LogicalResult lowerMoeOrAttention(mlir::Operation *op);
  mlir::LogicalResult lowerEmitted(mlir::Operation *op);
  std::vector<int64_t> buffersOf(mlir::ValueRange values);
  int64_t invertPerm(mlir::Value perm, int64_t rows, mlir::Operation *op);
  int64_t newBuffer(const std::string &name, runtime::BufferKind kind,
                    runtime::DType dtype, std::vector<int64_t> shape);
  void touch(int64_t buffer);

  runtime::Plan plan;
  llvm::DenseMap<mlir::Value, int64_t> storage;
  llvm::StringMap<int64_t> kernelIndex;
  struct LiveRange {
    int64_t first = -1, last = -1; // steps that first and last touch it
  };
  std::vector<LiveRange> live;
  struct GradAcc {
    std::string name;
    mlir::Value value;
    int64_t buffer;
  };
  std::vector<GradAcc> grads;
  void sinkInto(mlir::Value v, int64_t buffer);

public:
  /// The gradient accumulator `v` is added into directly, or -1.
  int64_t sinkOf(mlir::Value v) const {
    auto it = sinks.find(v);
    return it == sinks.end() ? -1 : it->second;
  }

private:
  llvm::DenseMap<mlir::Value, int64_t> sinks;
  /// Values added into an accumulator by an `accumulate` kernel.
  std::vector<std::pair<mlir::Value, int64_t>> pendingAccumulates;
  /// Sums and casts that the sinks make unnecessary.
  llvm::DenseSet<mlir::Operation *> skipped;
  int64_t valueCounter = 0;
  std::string emitted;
  llvm::StringSet<> emittedNames;
};

} // namespace mind

#endif // MIND_CONVERSION_PLANBUILDER_H
