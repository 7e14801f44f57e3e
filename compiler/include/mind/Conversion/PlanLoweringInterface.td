//===- PlanLoweringInterface.td - how an op lowers to the plan -*- tablegen -*-===//

#ifndef MIND_CONVERSION_PLANLOWERINGINTERFACE_TD
#define MIND_CONVERSION_PLANLOWERINGINTERFACE_TD

include "mlir/IR/OpBase.td"

def PlanLoweringOpInterface : OpInterface<"PlanLoweringOpInterface"> {
  let cppNamespace = "::mind";
  let description = [{
    An op that `mind-lower-to-plan` can lower: it appends the buffers and
    steps (kernel launches, GEMMs, memsets) that compute its results to the
    micro-step being built. Implemented per op family in
    `compiler/lib/Conversion/Lower<Family>.cpp` as external models, attached
    by `registerPlanLoweringInterfaces`, so the dialect knows nothing of the
    runtime.
  }];
  let methods = [
    InterfaceMethod<[{
        Lowers the op through `lowering` (its results' buffers come from
        `lowering.bufferOf`). Returns failure after emitting an error on the
        op when the op's shapes or types have no GPU kernel.
      }],
      "::llvm::LogicalResult", "lowerToPlan",
      (ins "::mind::PlanLowering &":$lowering)>,
  ];
}

#endif // MIND_CONVERSION_PLANLOWERINGINTERFACE_TD
