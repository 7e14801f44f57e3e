//===- Passes.td - mind conversion passes ------------------*- tablegen -*-===//

#ifndef MIND_CONVERSION_PASSES_TD
#define MIND_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def MindLowerToPlan : Pass<"mind-lower-to-plan", "::mlir::ModuleOp"> {
  let summary = "Lowers @train_step to the runtime's plan (the plan dialect)";
  let description = [{
    Replaces the (mixed-precision, fused) `@train_step` by a
    `plan.micro_step` of the same name: one `plan.buffer` per value that needs
    memory, then the launches that compute them, op by op in program order.

    Buffers: each parameter (`mind.param`) becomes an fp32 `param` buffer and
    gets a `grad` accumulator of the same shape, named `<param>.grad`, in the
    same order (the optimizer treats both as flat arrays). If any argument
    is a weight copy (`mind.param_copy`, from `mind-weight-copies`), every
    parameter gets a bf16/f16 `param_copy` buffer `<param>.copy`, in the same
    order (the optimizer rewrites all of them), and the copy arguments are
    bound to theirs. Inputs (`mind.input`) become `input` buffers, the results that are not gradients
    `output` buffers named `loss`, `aux_loss`. Every other value becomes an
    `activation`, except `mind.reshape` results, which alias their operand.

    Each op lowers itself through `PlanLoweringOpInterface` (external models
    per op family: GEMMs, emitted elementwise kernels, norms, losses,
    attention, mixture of experts, embeddings). Library kernels are launched
    through their typed signatures (`kabi::Launch<S>` and the arguments the
    signature declares), emitted kernels become `plan.emitted_kernel`s.

    Gradients reach their accumulators as `mind-mark-gradient-sinks` marked
    them: a marked producer (a GEMM, the embedding gradient, RMSNorm's weight
    gradient) writes into the accumulator itself (GEMMs with `beta = 1`), the
    marked sums and casts between it and the return are skipped, and every
    other gradient value is added by an `accumulate_f32` launch after the
    backward.
  }];
  let options = [
    Option<"funcName", "func", "std::string", "\"train_step\"",
           "Name of the function to lower">,
  ];
  let dependentDialects = ["::mind::plan::PlanDialect"];
}

def MindPlanMemory : Pass<"mind-plan-memory", "::mlir::ModuleOp"> {
  let summary = "Gives every plan buffer its offset in one device arena";
  let description = [{
    Sets `offset` on every `plan.buffer` of each `plan.micro_step` and the
    micro-step's `arena_bytes`. Persistent buffers (params, grads, param
    copies, inputs, outputs) come first, in that order and each kind in IR
    order, back to back at 256-byte alignment, except that param copies sit
    at half their parameter's offset into the param region (element e of
    the params is element e of the copies, for the optimizer); activations live from the first step that
    uses them to the last and are placed at their first step, best fit among
    the free intervals (freed after a buffer's last step), so two activations
    share bytes only when their lifetimes do not overlap. A step's outputs
    never share memory with its inputs.
  }];
}

#endif // MIND_CONVERSION_PASSES_TD
