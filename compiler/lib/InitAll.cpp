//===- InitAll.cpp - register mindc's dialects and passes -----------------===//

#include "mind/InitAll.h"

#include "mind/Conversion/Passes.h"
#include "mind/Conversion/PlanLowering.h"

#include "mind/Dialect/Mind/IR/MindDialect.h"
#include "mind/Dialect/Plan/IR/PlanDialect.h"
#include "mind/Pipelines/Pipelines.h"
#include "mind/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

void mind::registerAllDialects(mlir::DialectRegistry &registry) {
  registry.insert<mind::MindDialect, mind::plan::PlanDialect,
                  mlir::func::FuncDialect>();
  mind::registerPlanLoweringInterfaces(registry);
}

void mind::registerAllPasses() {
  mind::registerMindPasses();
  mind::registerMindConversionPasses();
  mind::registerPipelines();
}
