//===- OptimizerSpecs.h - launch rules of the optimizer kernels -*- C++ -*-===//
//
// The optimizer runs on the device in three launches per step over the flat
// fp32 regions of a plan's ParamLayout (Bundle.h), with no host sync:
//   1. grad_sqnorm_partial: per-block sums of squared (unscaled) gradients;
//   2. optimizer_prepare:   norm, clip coefficient, GradScaler update and the
//                           AdamW step scalars, into an OptimizerState;
//   3. adamw_fused:         unscale + clip + AdamW, then zero the gradients.
// Every argument but the device state is fixed for a given Executor (the
// learning rate, too, is read from device memory), so the three launches are
// captured once as a CUDA graph and replayed every step.
// The kernels live in the bundle's cubin like every other kernel: mindc adds
// optimizerKernelNames() to every training plan's kernel list.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_ABI_OPTIMIZERSPECS_H
#define MIND_ABI_OPTIMIZERSPECS_H

#include "mind/abi/KernelAbi.h"
#include "mind/abi/Plan.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mind::runtime {

/// The device optimizer's state (KernelSignatures.h: one definition for
/// the kernels and the host, which reads it back after a step).
using OptimizerState = ::mind::OptimizerState;

namespace kernels {

/// Blocks (= partial sums) of grad_sqnorm_partial for `n` elements: a
/// function of n alone, so the reduction order, and the norm, are
/// deterministic.
int64_t gradNormPartials(int64_t n);

/// mind::grad_sqnorm_partial: per-block sums of the squared unscaled
/// gradients into partials (double, gradNormPartials(n)).
kabi::Launch<sig::grad_sqnorm_partial> gradSqNormPartial(int64_t n);

/// mind::optimizer_prepare, one block: norm, clip and AdamW scalars into the
/// state; writes the next window's grad_scale (the plan's input); reads the
/// learning rate from device memory (written before the launch, so a
/// captured graph replays with a new lr).
kabi::Launch<sig::optimizer_prepare> optimizerPrepare();

/// mind::adamw_fused: unscale + clip + AdamW over the flat regions (float,
/// n each, 16-byte aligned), then zero the gradients.
kabi::Launch<sig::adamw_fused> adamwFused(int64_t n);

/// mind::adamw_fused_copy<T>: adamw_fused that also writes each updated
/// weight, rounded to T (bf16 or f16), into the param copy region.
kabi::Launch<sig::adamw_fused_copy> adamwFusedCopy(DType copy, int64_t n);

/// Name expressions of every optimizer kernel: mindc must list these in
/// Plan::kernels (any order) of a training plan. With param copies of
/// dtype `copy`: also adamw_fused_copy and the cast that fills the copies
/// from the params (after weights are loaded).
std::vector<std::string>
optimizerKernelNames(std::optional<DType> copy = std::nullopt);

} // namespace kernels
} // namespace mind::runtime

#endif // MIND_ABI_OPTIMIZERSPECS_H
