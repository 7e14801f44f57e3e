//===- RegisterLowerings.cpp - every family's plan lowerings --------------===//

#include "LoweringModel.h"

void mind::registerPlanLoweringInterfaces(mlir::DialectRegistry &registry) {
  registerGemmLowerings(registry);
  registerElementwiseLowerings(registry);
  registerNormLowerings(registry);
  registerLossLowerings(registry);
  registerAttentionLowerings(registry);
  registerMoeLowerings(registry);
  registerEmbeddingLowerings(registry);
}
