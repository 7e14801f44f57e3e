//===- PlanUtils.h - plan IR and the kernel ABI -----------------*- C++ -*-===//
//
// What the verifier, the lowering and the export to the runtime's plan share:
// element types as runtime dtypes, a launch's arguments and parameters.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_DIALECT_PLAN_IR_PLANUTILS_H
#define MIND_DIALECT_PLAN_IR_PLANUTILS_H

#include "mind/Dialect/Plan/IR/PlanOps.h"
#include "mind/abi/KernelAbi.h"

#include <optional>
#include <vector>

namespace mind::plan {

/// The runtime dtype of a type (or of a shaped type's elements).
std::optional<runtime::DType> dtypeOf(mlir::Type type);
/// The same for the element types a runtime buffer holds (f32, bf16, f16,
/// i64, i32); nothing for others (f64 has no GPU kernels).
std::optional<runtime::DType> bufferDtypeOf(mlir::Type type);

/// The largest buffer a plan holds: 512 GiB, more than any GPU, and small
/// enough that every element count and launch grid the lowering computes
/// fits its integer types.
inline constexpr uint64_t kMaxBufferBytes = uint64_t(1) << 39;

/// The bytes of a buffer of `type` (a ranked tensor or memref of a buffer
/// element type), or nothing when they exceed kMaxBufferBytes (or 2^64).
std::optional<uint64_t> bufferBytes(mlir::ShapedType type);

/// The parameters of an emitted kernel (plan.emitted_kernel's convention):
/// inputs `in<i>`, outputs `out<i>`, then `n` (i64).
std::vector<runtime::kabi::ResolvedParam>
emittedKernelParams(llvm::ArrayRef<runtime::DType> inputs,
                    llvm::ArrayRef<runtime::DType> outputs);

/// A launch's arguments in the kernel's parameter order (buffers as their
/// SSA values).
std::vector<runtime::kabi::Arg<mlir::Value>> kernelArgs(KernelOp op);

/// The parameters of the launched kernel: a library kernel's signature, or
/// the emitted kernel's, found through `symbols` (which caches the
/// micro-step's symbol table: resolving every launch stays linear). Emits an
/// error on `op` when there is none.
mlir::FailureOr<std::vector<runtime::kabi::ResolvedParam>>
kernelParams(KernelOp op, mlir::SymbolTableCollection &symbols);

} // namespace mind::plan

#endif // MIND_DIALECT_PLAN_IR_PLANUTILS_H
