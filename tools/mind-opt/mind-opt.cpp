//===- mind-opt.cpp - run mind passes on .mlir files ----------------------===//

#include "mind/InitAll.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mind::registerAllDialects(registry);
  mind::registerAllPasses();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "mind-opt: the mindc pass driver\n", registry));
}
