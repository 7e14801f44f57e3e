//===- MindFusionOps.td - ops formed by the fusion passes --*- tablegen -*-===//
//
// Ops that no frontend writes: the fusion passes form them from the ops of
// @train_step, and the lowering turns each into one kernel.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_DIALECT_MIND_IR_MINDFUSIONOPS_TD
#define MIND_DIALECT_MIND_IR_MINDFUSIONOPS_TD

def Mind_FusedElementwiseOp : Mind_Op<"fused_elementwise",
    [Pure, IsolatedFromAbove, SingleBlock]> {
  let summary = "Elementwise ops evaluated together, as one kernel";
  let description = [{
    A region of elementwise ops (`add`, `mul`, `silu`, `silu_grad`,
    `swiglu`, `swiglu_grad`, and `cast` between float types) on tensors of one
    shape, formed by `mind-fuse-elementwise`. The block's arguments stand for
    `inputs`, in order; `mind.yield` names the values that become `results`.
    The semantics are those of the ops in the body, value for value: every
    value keeps its element type, so a `bf16` value inside the region is
    rounded to `bf16` exactly as if it had been stored. The lowering emits
    one kernel that loads each input once, evaluates the body per element in
    fp32 (rounding where the types say so) and stores each result once: the
    intermediate tensors never exist in memory.

    Example (SwiGLU):
    ```mlir
    %a = mind.fused_elementwise %g, %u
        : (tensor<2x24x192xbf16>, tensor<2x24x192xbf16>) -> tensor<2x24x192xbf16> {
    ^bb0(%x: tensor<2x24x192xbf16>, %y: tensor<2x24x192xbf16>):
      %s = mind.silu %x : (tensor<2x24x192xbf16>) -> tensor<2x24x192xbf16>
      %p = mind.mul %s, %y
          : (tensor<2x24x192xbf16>, tensor<2x24x192xbf16>) -> tensor<2x24x192xbf16>
      mind.yield %p : tensor<2x24x192xbf16>
    }
    ```
  }];
  let arguments = (ins Variadic<Mind_FloatTensor>:$inputs);
  let results = (outs Variadic<Mind_FloatTensor>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $inputs attr-dict `:` functional-type($inputs, results) $body
  }];
  let hasRegionVerifier = 1;
}

def Mind_YieldOp : Mind_Op<"yield",
    [Pure, Terminator, HasParent<"FusedElementwiseOp">]> {
  let summary = "The results of a fused_elementwise region";
  let description = [{
    Ends the body of `mind.fused_elementwise`: its operands become the
    region op's results, in order and with the same types.

    Example:
    ```mlir
    mind.yield %p : tensor<2x24x192xbf16>
    ```
  }];
  let arguments = (ins Variadic<Mind_FloatTensor>:$values);
  let assemblyFormat = "$values attr-dict `:` type($values)";
}

#endif // MIND_DIALECT_MIND_IR_MINDFUSIONOPS_TD
