//===- PlanBase.td - plan dialect definition ---------------*- tablegen -*-===//
//
// The `plan` dialect: one training micro-step as the runtime executes it,
// the output of `mind-lower-to-plan`.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_DIALECT_PLAN_IR_PLANBASE_TD
#define MIND_DIALECT_PLAN_IR_PLANBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Plan_Dialect : Dialect {
  let name = "plan";
  let cppNamespace = "::mind::plan";
  let summary = "A micro-step as a list of kernel launches over planned buffers";
  let description = [{
    The `plan` dialect is the GPU runtime's execution plan written as IR: a
    `plan.micro_step` holds the buffers of one training micro-step
    (`plan.buffer`: parameters, gradient accumulators, inputs, outputs and
    activations, each a `memref` of its shape and element type) followed by
    the steps the runtime runs in order on one stream (`plan.kernel`,
    `plan.gemm`, `plan.memset`). `mind-lower-to-plan` produces it from the
    fused `@train_step`; `mind-plan-memory` gives every buffer its offset in
    one arena; the bundle writer translates it into the runtime's plan
    (docs/BundleFormat.md), field for field.

    A kernel launch names its kernel: a template instantiation of the kernel
    library (`"mind::rmsnorm_fwd<__nv_bfloat16, float>"`), whose parameter
    list is its signature in `runtime/abi/include/mind/abi/KernelSignatures.h`
    and is checked by the verifier, or a kernel emitted from the IR, defined
    by a `plan.emitted_kernel` of the same micro-step.
  }];
}

def Plan_BufferKind : I32EnumAttr<"BufferKind", "what a buffer holds", [
    I32EnumAttrCase<"param", 0>, I32EnumAttrCase<"grad", 1>,
    I32EnumAttrCase<"input", 2>, I32EnumAttrCase<"output", 3>,
    I32EnumAttrCase<"activation", 4>, I32EnumAttrCase<"param_copy", 5>]> {
  let cppNamespace = "::mind::plan";
}

class Plan_Op<string mnemonic, list<Trait> traits = []>
    : Op<Plan_Dialect, mnemonic, traits>;

#endif // MIND_DIALECT_PLAN_IR_PLANBASE_TD
