//===- InitAll.cpp - register mindc's dialects and passes -----------------===//

#include "mind/InitAll.h"

#include "mind/Dialect/Mind/IR/MindDialect.h"
#include "mind/Pipelines/Pipelines.h"
#include "mind/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

void mind::registerAllDialects(mlir::DialectRegistry &registry) {
  registry.insert<mind::MindDialect, mlir::func::FuncDialect>();
}

void mind::registerAllPasses() {
  mind::registerMindPasses();
  mind::registerPipelines();
}
