//===- Bundle.h - the file mindc writes and the runtime runs ----*- C++ -*-===//
//
// A bundle is everything the GPU trainer needs: the plan (as JSON), the
// cubin of every kernel the plan launches (the optimizer's included), the PTX
// and CUDA source they came from, and the plan-stage IR for debugging. It is
// a standalone file or is appended to a mind-trainer executable behind a
// 24-byte trailer. docs/BundleFormat.md specifies the bytes and the rules the
// plan must satisfy; every reader here checks all of them, so a bundle that
// loads is safe to execute (indices in range, buffers inside the arena).
//
//===----------------------------------------------------------------------===//

#ifndef MIND_ABI_BUNDLE_H
#define MIND_ABI_BUNDLE_H

#include "mind/abi/Plan.h"

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace mind::runtime {

/// Every failure to read, validate or write a bundle. Messages start with
/// the file name (or "<memory>").
class BundleError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

struct Bundle {
  Plan plan;
  std::vector<uint8_t> cubin; // one module holding every plan.kernels entry
  std::string ptx;            // optional: JIT fallback for other GPUs
  std::string cudaSource;     // optional: the NVRTC source, for debugging
  std::string mlir;           // optional: the plan-stage IR, for debugging
};

/// The version this runtime writes and reads.
inline constexpr uint32_t kBundleVersion = 3; // 2: kernel signatures; 3: param copies
/// Alignment of every buffer offset in the arena.
inline constexpr uint64_t kArenaAlignment = 256;

/// The bundle's bytes (docs/BundleFormat.md). Validates the plan first.
std::vector<uint8_t> serializeBundle(const Bundle &bundle);
/// Writes atomically: `path.tmp`, fsync, rename, fsync the directory.
void writeBundle(const Bundle &bundle, const std::string &path);
/// Reads and fully validates a bundle file.
Bundle readBundle(const std::string &path);
Bundle readBundleFromBytes(const uint8_t *data, size_t size,
                           const std::string &displayName = "<memory>");
inline Bundle readBundleFromBytes(const std::vector<uint8_t> &bytes,
                                  const std::string &displayName = "<memory>") {
  return readBundleFromBytes(bytes.data(), bytes.size(), displayName);
}

/// The bundle appended to the executable `exePath` (the running one by
/// default), or nullopt when it has no trailer. Throws BundleError when the
/// trailer is there but the bundle behind it is damaged.
std::optional<Bundle>
readEmbeddedBundle(const std::string &exePath = "/proc/self/exe");
/// Writes `outPath`: a copy of `trainerExe` (minus any bundle it already
/// carries) + `bundle` + trailer, executable, atomically. What
/// `mindc compile -o trainer` does with mind-trainer.
void writeEmbeddedExecutable(const std::string &trainerExe,
                             const Bundle &bundle, const std::string &outPath);

/// CRC-32 (IEEE 802.3, as zlib's crc32): the bundle checksum.
uint32_t crc32(const void *data, size_t size, uint32_t crc = 0);

/// Structural rules of a plan (docs/BundleFormat.md "Plan rules"): unique
/// names, bytes == numel * dtype size, 256-aligned offsets inside the arena,
/// persistent buffers overlapping nothing, indices in range, launch shapes
/// and GEMM operand types/sizes consistent. Throws BundleError("plan: ...").
void validatePlan(const Plan &plan);

/// Index of the buffer called `name`, or -1.
int64_t findBuffer(const Plan &plan, const std::string &name);

/// The flat fp32 parameter and gradient regions the optimizer works on.
/// Param buffers are laid out in plan order, each following the previous
/// one up to alignment padding; Grad buffer i is "<param i>.grad" with the
/// same shape at the same relative offset. Padding is zero-filled.
///
/// Param copies (optional): the plan's matrix ops read bf16/f16 copies of
/// the weights that the optimizer step writes, not a cast every micro-step.
/// Then every param i has one, "<param i>.copy", in a region of half the
/// param region's bytes at copyBase, at half its param's relative offset:
/// element e of the param region is element e of the copy region.
struct ParamLayout {
  std::vector<int64_t> params, grads;   // buffer ids, in plan order
  std::vector<int64_t> copies;          // empty: the plan has no copies
  uint64_t paramBase = 0, gradBase = 0; // arena offsets of the regions
  uint64_t regionBytes = 0;             // span of either region
  uint64_t copyBase = 0;                // the copy region (copies only)
  DType copyDtype = DType::F32;         // BF16 or F16 (copies only)
  uint64_t numElements() const { return regionBytes / 4; }
  bool hasCopies() const { return !copies.empty(); }
};
/// Throws BundleError("plan: ...") when the plan breaks the layout rules.
ParamLayout paramLayout(const Plan &plan);

/// What a training step plan must provide (docs/BundleFormat.md "Training
/// contract"): meta batch_size/seq_len/dtype, inputs ids/targets/mask (I64
/// [batch, seq_len]) and grad_scale (F32 scalar), output loss (F32 scalar)
/// and optionally aux_loss, and a valid ParamLayout.
struct TrainingInterface {
  int64_t batch = 0, seq = 0;
  std::string dtype; // "float32", "bfloat16" or "float16"
  int64_t ids = -1, targets = -1, mask = -1, gradScale = -1;
  int64_t loss = -1, auxLoss = -1; // auxLoss -1: the plan has none
  ParamLayout layout;
};
TrainingInterface trainingInterface(const Plan &plan);

} // namespace mind::runtime

#endif // MIND_ABI_BUNDLE_H
