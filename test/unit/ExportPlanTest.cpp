//===- ExportPlanTest.cpp - plan IR to the runtime's plan -----------------===//
//
// exportPlan on a planned micro-step written as IR: a plan.view becomes a
// runtime buffer of kind View that names its source and sits at the offset
// mind-plan-memory gave it, and the exported plan passes validatePlan's view
// rules.
//
//===----------------------------------------------------------------------===//

#include "mind/Conversion/ExportPlan.h"
#include "mind/Dialect/Plan/IR/PlanDialect.h"
#include "mind/abi/Bundle.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

using namespace mlir;

namespace {

const char *kStep = R"mlir(
plan.micro_step @train_step attributes {arena_bytes = 1024 : i64} {
  %x = plan.buffer activation "x" {offset = 0 : i64} : memref<4x16xf32>
  %y = plan.buffer activation "y" {offset = 256 : i64} : memref<2x16xf32>
  %rows = plan.view %x [128] {offset = 128 : i64} : memref<4x16xf32> to memref<2x16xf32>
  plan.kernel "mind::silu_fwd<float>"(%rows, %y, 32) grid [1, 1, 1] block [256, 1, 1] : memref<2x16xf32>, memref<2x16xf32>
}
)mlir";

TEST(ExportPlan, AViewNamesItsSourceAndOffset) {
  MLIRContext ctx;
  ctx.loadDialect<mind::plan::PlanDialect>();
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(kStep, &ctx);
  ASSERT_TRUE(module);
  auto step = module->lookupSymbol<mind::plan::MicroStepOp>("train_step");
  ASSERT_TRUE(step);
  FailureOr<mind::ExportedPlan> out = mind::exportPlan(step);
  ASSERT_TRUE(succeeded(out));
  mind::runtime::Plan &p = out->plan;
  ASSERT_EQ(p.buffers.size(), 3u);
  const mind::runtime::BufferDesc &v = p.buffers[2];
  EXPECT_EQ(v.kind, mind::runtime::BufferKind::View);
  EXPECT_EQ(v.viewOf, 0);
  EXPECT_EQ(v.name, "x@128");
  EXPECT_EQ(v.offset, 128u);
  EXPECT_EQ(v.bytes, 128u);
  EXPECT_EQ(v.shape, (std::vector<int64_t>{2, 16}));
  // The launch reads the view: its argument is the view's index.
  const auto &k = std::get<mind::runtime::KernelStep>(p.steps[0]);
  EXPECT_EQ(k.args[0].buffer, 2);
  for (mind::runtime::KernelEntry &e : p.kernels)
    e.loweredName = "_Z" + e.nameExpr; // NVRTC names them in a real bundle
  EXPECT_NO_THROW(mind::runtime::validatePlan(p));
}

} // namespace
