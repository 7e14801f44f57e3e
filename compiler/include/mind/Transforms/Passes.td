//===- Passes.td - mind transformation passes --------------*- tablegen -*-===//

#ifndef MIND_TRANSFORMS_PASSES_TD
#define MIND_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def MindAutodiff : Pass<"mind-autodiff", "::mlir::ModuleOp"> {
  let summary = "Reverse-mode differentiation of @forward into @train_step";
  let description = [{
    Adds `@train_step` beside `@forward`: the forward body, followed by its
    reverse sweep. The sweep visits the ops backwards and calls each op's
    `DifferentiableOpInterface::buildVJP` on the gradients of its results;
    gradients reaching one value from several uses (the tied embedding, the
    residual stream) are summed with `mind.add`.

    `@train_step` takes the forward's arguments plus `%grad_scale:
    tensor<f32>` and returns the forward's results followed by one gradient
    per parameter (argument with a `mind.param` attribute), in argument
    order, each tagged `mind.grad = "<name>"`. Every forward result is seeded
    with `grad_scale`, so the gradients are those of
    `grad_scale * (sum of the results)`: MiniMind's `(loss + aux_loss) /
    accumulation_steps` with `grad_scale = 1 / accumulation_steps`, and the
    fp16 loss scale folds into the same scalar. A parameter that does not
    influence the results gets a zero gradient.

    Why one function for forward and backward: the memory planner and the
    fusion passes see the whole micro-step, so activations saved for the
    backward are ordinary SSA values with visible lifetimes.
  }];
  let options = [
    Option<"forwardName", "forward", "std::string", "\"forward\"",
           "Name of the function to differentiate">,
    Option<"trainStepName", "train-step", "std::string", "\"train_step\"",
           "Name of the function to create">,
  ];
  let dependentDialects = ["::mind::MindDialect",
                           "::mlir::func::FuncDialect"];
}

#endif // MIND_TRANSFORMS_PASSES_TD
