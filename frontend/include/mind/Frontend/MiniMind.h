//===- MiniMind.h - the MiniMind model in mind IR ---------------*- C++ -*-===//

#ifndef MIND_FRONTEND_MINIMIND_H
#define MIND_FRONTEND_MINIMIND_H

#include "mind/Frontend/Config.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace mind {

/// The shape of one micro-step: `batch` sequences of `seqLen` trained tokens
/// (MiniMind's max_seq_len - 1).
struct TrainShape {
  int64_t batch = 32;
  int64_t seqLen = 511;
};

/// Builds a module holding `func @forward(params..., %ids, %targets, %mask)
/// -> (%loss, %aux_loss)` for `config` in training mode (MINIMIND-SPEC §3).
/// Parameters come first, in parameterShapes() order, each tagged
/// `mind.param = "<state_dict name>"`; ids/targets/mask are i64 [B, S],
/// tagged `mind.input`. The module carries the config as JSON text in its
/// `mind.config` attribute. Throws ConfigError for settings the compiler does not
/// implement (dropout > 0).
mlir::OwningOpRef<mlir::ModuleOp>
buildMiniMindForward(mlir::MLIRContext &context, const MiniMindConfig &config,
                     const TrainShape &shape);

} // namespace mind

#endif // MIND_FRONTEND_MINIMIND_H
