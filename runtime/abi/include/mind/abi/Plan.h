//===- Plan.h - the execution plan a bundle carries -------------*- C++ -*-===//
//
// The contract between mindc (which lowers @train_step to a plan) and the
// runtime (which executes it). No MLIR here: the runtime builds with CMake +
// CUDA alone. Every buffer is a byte range of one device arena; every step is
// a generated-kernel launch, a cuBLASLt GEMM or a memset, run in order on one
// stream. docs/BundleFormat.md describes the serialized form.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_ABI_PLAN_H
#define MIND_ABI_PLAN_H

#include "mind/abi/DType.h"
#include "mind/abi/KernelAbi.h"

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace mind::runtime {

/// What a buffer holds, which decides who writes it and how long it lives.
enum class BufferKind {
  Param,      // fp32 master weight (persistent; the optimizer updates it)
  Grad,       // fp32 gradient accumulator of one parameter (persistent)
  Input,      // ids / targets / mask / grad_scale, written by the host
  Output,     // loss / aux_loss, read by the host after each micro-step
  Activation, // planned: lives between its first write and its last read
  ParamCopy,  // bf16/f16 copy of a Param ("<param>.copy"), rewritten by the
              // optimizer step (persistent; read-only in a micro-step)
  View,       // bytes of another buffer (`viewOf`) under another shape: no
              // storage of its own; treated as its source in every check
};

struct BufferDesc {
  std::string name;
  BufferKind kind = BufferKind::Activation;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  uint64_t offset = 0; // into the arena, 256-byte aligned (param copies: 128;
                       // views: 16, inside their source)
  uint64_t bytes = 0;
  int64_t viewOf = -1; // View: the viewed buffer's index (not a view)
};

/// A launch argument of a plan step: buffers by their index into
/// Plan::buffers (an array argument: a list of indices).
using KernelArg = kabi::Arg<int64_t>;

/// A scratch buffer a kernel family needs between its launches (the plan
/// allocates it as an Activation; no zeroing unless the spec says so).
struct KernelWorkspace {
  const char *name;
  DType dtype;
  std::vector<int64_t> shape;
};

struct KernelStep {
  int64_t kernel = -1; // index into Plan::kernels
  std::array<uint32_t, 3> grid{1, 1, 1};
  std::array<uint32_t, 3> block{1, 1, 1};
  uint32_t sharedBytes = 0;
  std::vector<KernelArg> args;
  std::string label; // the op it came from, for errors and profiles
};

/// Row-major C[m, n] (+)= op(A)[m, k] op(B)[k, n] with fp32 accumulation.
/// A, B share one element type (f32, bf16 or f16); C may be that type or f32.
/// `beta` 1 accumulates into C (the gradient accumulators), 0 overwrites.
struct GemmStep {
  int64_t a = -1, b = -1, c = -1; // buffer ids
  int64_t m = 0, n = 0, k = 0;
  bool transA = false, transB = false;
  float alpha = 1.0f, beta = 0.0f;
  std::string label;
};

struct MemsetStep {
  int64_t buffer = -1; // zero-filled
  std::string label;
};

using Step = std::variant<KernelStep, GemmStep, MemsetStep>;

struct KernelEntry {
  std::string nameExpr;    // as given to NVRTC
  std::string loweredName; // the mangled symbol in the cubin
  /// The parameters every launch of this kernel is checked and marshalled
  /// by: for a library kernel those of its KernelSignatures.h entry, for a
  /// kernel emitted from the IR what the emitter declared.
  std::vector<kabi::ResolvedParam> params;
};

/// The cuBLASLt workspace every GEMM of a plan shares (one stream: never
/// concurrent); part of the planned device memory `mindc report` prints.
inline constexpr size_t kGemmWorkspaceBytes = 32u << 20;

struct Plan {
  std::vector<BufferDesc> buffers;
  std::vector<KernelEntry> kernels;
  std::vector<Step> steps;   // one micro-step (forward + backward)
  uint64_t arenaBytes = 0;   // planned device memory of one micro-step
  nlohmann::json config;     // the MiniMind config (MiniMind's keys)
  nlohmann::json meta;       // batch, seq, dtype, arch, compiler version...
};

nlohmann::json toJson(const Plan &plan);
/// Throws std::runtime_error naming the field on malformed input.
Plan planFromJson(const nlohmann::json &json);

const char *bufferKindName(BufferKind kind);

/// The plan as text for people (`mindc ir --stage=plan`): a header, one
/// line per buffer (id, kind, dtype, shape, arena offset, bytes, name), then
/// one line per step with its launch, arguments and the op it came from.
std::string describePlan(const Plan &plan);

} // namespace mind::runtime

#endif // MIND_ABI_PLAN_H
