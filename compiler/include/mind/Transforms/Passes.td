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

def MindPrecision : Pass<"mind-precision", "::mlir::ModuleOp"> {
  let summary = "Mixed precision for @forward, as PyTorch autocast computes it";
  let description = [{
    Rewrites the f32 `@forward` the frontend writes into mixed precision with
    the rules of `torch.autocast`, which is what MiniMind trains with:

    - the matrix ops (`linear`, `matmul`, `grouped_linear`, `attention`) cast
      their float operands to the compute type (`bf16` or `f16`) and produce
      it (`attention`'s `lse` stays f32);
    - the fp32 ops (`softmax`, `cross_entropy`, `moe_aux_loss`) cast their
      float operands to f32;
    - every other op follows type promotion: when its float operands differ,
      the narrower ones are cast to the widest, and its result takes that type.

    So the parameters stay f32 master weights (each is cast once per compute
    type where a matrix op reads it), the embedding output and the residual
    stream stay f32 as in MiniMind (an f32 residual plus a bf16 projection
    promotes to f32), RMSNorm statistics, softmax and the loss are f32, and
    every cast is an explicit `mind.cast` in the IR. Running `mind-autodiff`
    afterwards gives the mixed-precision backward: the VJP of a cast is the
    cast back, so every parameter gradient arrives in f32.

    Ops without a rule (gradient and fused ops, the return) keep their
    operand types: a value the pass narrowed is cast back for them, so the
    function's signature never changes and the result verifies.

    `dtype=f32` leaves the function unchanged.
  }];
  let options = [
    Option<"dtype", "dtype", "std::string", "\"bf16\"",
           "Compute type of the matrix ops: bf16, f16 or f32">,
    Option<"funcName", "func", "std::string", "\"forward\"",
           "Function to rewrite">,
  ];
  let dependentDialects = ["::mind::MindDialect"];
}

def MindMarkGradientSinks : Pass<"mind-mark-gradient-sinks",
                                 "::mlir::ModuleOp"> {
  let summary = "Marks where gradients can be added straight into their "
                "accumulators";
  let description = [{
    A training step returns one gradient per parameter, and the runtime adds
    each into that parameter's fp32 accumulator (gradients accumulate over
    the micro-steps of an optimizer step). Many gradient values need never
    exist on their own: a GEMM can add into the accumulator itself (cuBLASLt
    with beta = 1, writing fp32 even from bf16 operands), so can the
    embedding gradient's reduce and RMSNorm's weight-gradient reduction; and
    a gradient that is a sum of such values (the tied embedding, a weight
    used twice) is then just several producers adding into one accumulator.

    This pass records those decisions in the IR, where every later pass reads
    them: walking back from each returned gradient (through values with a
    single use), a `mind.add` of two different values and an f32 cast of a
    single-use `mind.matmul` get `mind.gradient_sink = "<param>"` (they are
    not materialized), and the f32 producers they lead to (`mind.matmul`,
    `mind.embedding_grad`, `mind.rmsnorm_grad`'s weight gradient; a
    `mind.matmul` under such a cast whatever its type) get
    `mind.accumulate_into`, one parameter name per result ("" for none).
    `mind-fuse-elementwise` leaves marked ops out of its regions;
    `mind-lower-to-plan` skips them, points the producers at the
    accumulators, and adds every other gradient value with an
    `accumulate_f32` launch. Without the marks every gradient is materialized
    and accumulated: the same result, more memory traffic.
  }];
  let options = [
    Option<"funcName", "func", "std::string", "\"train_step\"",
           "Name of the training step to mark">,
  ];
}

def MindWeightCopies : Pass<"mind-weight-copies", "::mlir::ModuleOp"> {
  let summary = "Weights in bf16/f16 once per optimizer step, not per "
                "micro-step";
  let description = [{
    After `mind-precision`, every matrix op reads its f32 master weight
    through a `mind.cast` to the compute type, so each micro-step re-rounds
    every weight although the weights change only at the optimizer step
    (one step per `accumulation_steps` micro-steps).

    This pass makes the rounded weight an input of the training step: for
    each parameter argument whose narrowing casts all give one type (the
    same for every parameter: the first one copied decides), it appends an
    argument of that type tagged `mind.param_copy = "<param>"`,
    replaces the casts' results with it and erases the casts. The parameter
    itself stays (its gradient, and any f32 use such as the embedding
    lookup, are unchanged).

    Whoever runs the step fills the copy with the parameter rounded to
    nearest even, exactly what the cast computed: the interpreter casts at
    each call; on the GPU `mind-lower-to-plan` makes it a `param_copy`
    buffer that the optimizer's AdamW kernel rewrites as it updates the
    weight (and that is filled once after weights are loaded). So the
    losses and weights are bit for bit those of the unrewritten step.
  }];
  let options = [
    Option<"funcName", "func", "std::string", "\"train_step\"",
           "Name of the training step to rewrite">,
  ];
  let dependentDialects = ["::mind::MindDialect"];
}

def MindFuseRmsnormCast : Pass<"mind-fuse-rmsnorm-cast", "::mlir::ModuleOp"> {
  let summary = "RMSNorm stores its output in the type its users cast it to";
  let description = [{
    MiniMind's RMSNorm runs on the f32 residual stream and returns f32; under
    autocast the projections that follow cast that output to bf16/f16. So a
    micro-step writes every normalised activation in f32 and reads it back to
    narrow it: 2 norms per layer, 6 bytes per element of traffic that a norm
    storing bf16 itself does not have.

    When every use of a `mind.rmsnorm` result is a `mind.cast` to one
    narrower float type (and none is a marked gradient sink), the norm takes
    that type as its result and the casts go. `mind.rmsnorm` with a narrower
    result rounds its input-typed value once more, so the function computes
    bit for bit what it did (`rmsnorm_fwd_cast` on the GPU, the interpreter
    rounding twice). Run after `mind-autodiff`: the backward reads the
    norm's input, never its output.

    The backward likewise: a `mind.rmsnorm_grad` whose incoming gradient is
    a widening cast (the bf16 sum of the projections' input gradients, cast
    back to f32 by the forward cast's VJP) reads the narrow value, widened
    exactly as it loads it; the cast goes when nothing else uses it.
  }];
  let dependentDialects = ["::mind::MindDialect"];
}

def MindFuseLossCast : Pass<"mind-fuse-loss-cast", "::mlir::ModuleOp"> {
  let summary = "Cross entropy reads bf16/f16 logits and writes their gradient narrow";
  let description = [{
    Under autocast the lm_head returns bf16 logits and MiniMind's
    `F.cross_entropy` widens them to f32; the VJP of that cast narrows the
    f32 logits gradient back for the lm_head's backward GEMMs. At MiniMind's
    sizes (16,352 tokens x 6,400 vocab per micro-step) the two f32 buffers
    are 418 MB each, and the casts and the loss move ~2.5 GB a micro-step.

    `mind.cross_entropy` and `mind.cross_entropy_grad` whose logits are a
    widening `mind.cast` read the narrow logits instead: widening is exact,
    and both compute in f32 as before. The gradient goes narrow only when
    every use of its result is a cast to the narrow type: it then stores
    that type itself (`cross_entropy_grad<bf16>` rounds the f32 value once,
    as the cast did; the interpreter rounds to f32 first, then narrow), and
    the casts go. The widening cast goes when nothing else reads it. Marked
    gradient sinks are left alone.
  }];
  let dependentDialects = ["::mind::MindDialect"];
}

def MindFuseAddRmsnorm : Pass<"mind-fuse-add-rmsnorm", "::mlir::ModuleOp"> {
  let summary = "Residual adds fused into the RMSNorm that reads them, and back";
  let description = [{
    Each decoder layer adds its attention and MLP outputs to the f32
    residual stream and normalises the sum; the backward adds each norm's
    input gradient to the residual stream's gradient and narrows the sum for
    the backward GEMMs. Unfused, every sum is written by one kernel and read
    back by the next (MiniMind-104M: 4 such passes over 16,352 x 768 f32
    per layer and micro-step).

    Forward: `mind.add` whose result is read by a `mind.rmsnorm` (other
    readers after the norm only) becomes `mind.add_rmsnorm` at the norm:
    the sum and the normalised value from one kernel; a widening cast on
    an operand is read narrow (exact). Backward: a `mind.rmsnorm_grad`
    whose input gradient is only added to another gradient becomes
    `mind.rmsnorm_grad_residual`, which also stores the first narrowing
    `mind.cast` of the sum (the casts to that type go). Roundings are those
    of the ops replaced: IEEE addition is commutative, and each value is
    rounded to the type it had. Marked gradient sinks are left alone; run
    after `mind-fuse-rmsnorm-cast`.
  }];
  let dependentDialects = ["::mind::MindDialect"];
}

def MindFuseAttentionRope : Pass<"mind-fuse-attention-rope",
                                  "::mlir::ModuleOp"> {
  let summary = "The attention backward rotates dq and dk back as it stores them";
  let description = [{
    The gradients of RoPE's inputs are the attention gradients of the
    rotated query and key, rotated back (`mind.rope {inverse = true}`): as
    separate ops, each is stored, read, rotated and stored again
    (MiniMind-104M: 64 MB a layer, 1 GB a micro-step, 32 launches). A
    `mind.attention_grad` whose query and key gradients are read only by
    inverse ropes with one pair of tables becomes `mind.attention_grad_rope`,
    whose kernels apply the rotation in registers on the way out. Rounded
    to the storage type before the rotation, and rotated with the same
    arithmetic as the RoPE kernel, the gradients are bit for bit those of
    the separate ops.

    Only for bf16 and f16 attention, whose tensor-core kernels do it; f32
    attention keeps its separate `mind.rope`. The forward rotation stays a
    separate op: the backward reads the rotated query and key again, so they
    are stored once either way, and rotating keys as the forward loads them
    would repeat the work in every query tile that reads them.
  }];
  let dependentDialects = ["::mind::MindDialect"];
}

def MindChunkLmHead : Pass<"mind-chunk-lm-head", "::mlir::ModuleOp"> {
  let summary = "The LM head, its loss and their gradients over token chunks";
  let description = [{
    The last GEMM of a step makes the logits [tokens, vocab], the loss reads
    them and its gradient writes a tensor as large (MiniMind-104M: 209 MB
    each in bf16), then two GEMMs turn it into the gradients of the
    hidden states and of the (tied) embedding. None of it needs all tokens
    at once. The pass replaces `mind.linear` + `mind.cross_entropy` +
    `mind.cross_entropy_grad` + the two `mind.matmul`s of the linear's
    gradient by one `mind.lm_head_loss`, whose lowering runs them
    `chunk-rows` tokens at a time (larger chunks where that would make more
    than 256) through two chunk-sized buffers (`plan.view`s select each
    chunk's rows of the hidden states, targets, mask and gradient).

    It applies when the logits are read only by the loss and its gradient,
    the gradient only by those two GEMMs (through the reshape to rows), and
    the weight's GEMM is added into a gradient accumulator
    (`mind-mark-gradient-sinks` runs first): the accumulator then takes one
    product per chunk. Rounding: the loss and every logit and logit
    gradient are those of the unchunked ops; the weight gradient's fp32 sum
    over tokens is grouped by chunk, and cuBLASLt may pick another kernel
    for a chunk's input-gradient GEMM than for all rows.
  }];
  let options = [
    Option<"chunkRows", "chunk-rows", "int64_t", "4096",
           "Tokens per chunk (a multiple of 16)">,
  ];
  let dependentDialects = ["::mind::MindDialect"];
}

def MindRecomputeSilu : Pass<"mind-recompute-silu", "::mlir::ModuleOp"> {
  let summary = "The backward recomputes silu(gate) instead of storing it";
  let description = [{
    SwiGLU's backward reads `silu(gate)` (for the up projection's gradient)
    and `gate` (for silu's own gradient). Stored from the forward, the silu
    output is one more [tokens, intermediate] activation per layer, kept
    from the forward to the backward (MiniMind-104M: 67 MB a layer, 1 GB a
    micro-step) and written and read once more each micro-step.

    Every use of a `mind.silu` result after its first reads a `mind.silu`
    cloned just before it, when the silu's input is read at or after that
    use anyway (so recomputing keeps nothing alive longer); the original
    then serves the first use only. `mind-fuse-elementwise` puts the clone
    into the backward's kernel, which already reads `gate`. Recomputed the
    same way in the same type, the value is bit for bit the stored one.
  }];
  let dependentDialects = ["::mind::MindDialect"];
}

def MindFuseElementwise : Pass<"mind-fuse-elementwise", "::mlir::ModuleOp"> {
  let summary = "Group chains of elementwise ops into mind.fused_elementwise";
  let description = [{
    Forms `mind.fused_elementwise` regions in every function: an elementwise
    op (`add`, `mul`, `silu`, `silu_grad`, `swiglu`, `swiglu_grad`, float
    `cast`) absorbs the elementwise ops that produce its operands when they
    have its shape and all their uses are inside the group or after it,
    transitively. So `mul(silu(gate), up)` becomes one SwiGLU kernel (which
    also stores `silu(gate)` when the backward needs it), the residual update
    `add(h, cast(proj))` one kernel, and the backward's cast/mul/silu_grad
    chains likewise. A fused value used only inside its region never reaches
    memory; one used later becomes an extra result, stored by the same
    kernel.

    Then siblings: a group (or a single op) that reads an input of an
    earlier group of its shape joins it, when all its inputs exist at the
    earlier group's place, where the merged op stays. The SwiGLU backward's
    up path `dh * silu(gate)` and gate path `silu_grad(gate, dh * up)` both
    read `dh`: one kernel reads it once and stores both gradients.

    Why producer-into-consumer with all uses inside: every op still runs
    exactly once, so fusion never recomputes, and the rounding of each value
    to its element type is kept inside the region, so a fused function
    computes bit for bit what the unfused one does (the interpreter and the
    GPU tests check both against each other).

    Left alone: groups of one op, the defining ops of returned values, and
    the ops `mind-mark-gradient-sinks` marked (`mind.gradient_sink`: sums
    and GEMM output casts that the producers' writes into the fp32 gradient
    accumulators replace; cuBLASLt adding with beta = 1 beats any kernel).
  }];
  let dependentDialects = ["::mind::MindDialect"];
}

#endif // MIND_TRANSFORMS_PASSES_TD
