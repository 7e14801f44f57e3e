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

def Mind_AddRMSNormOp : Mind_Op<"add_rmsnorm", [Pure]> {
  let summary = "Residual add and RMSNorm of the sum, as one kernel";
  let description = [{
    `sum = residual + delta` (in the residual's type; a narrower `delta` is
    widened exactly as it is read), then `result = rmsnorm(sum, weight)`
    as `mind.rmsnorm` computes it, stored in `result`'s type (the
    residual's, or narrower: rounded once more, as `mind-fuse-rmsnorm-cast`
    does). Formed by `mind-fuse-add-rmsnorm` from the residual update of a
    decoder layer and the norm that reads it; `sum` is the next residual.

    Example:
    ```mlir
    %h, %y = mind.add_rmsnorm %res, %o, %w {epsilon = 1.0e-05 : f64}
        : (tensor<2x24x64xf32>, tensor<2x24x64xbf16>, tensor<64xf32>)
        -> (tensor<2x24x64xf32>, tensor<2x24x64xbf16>)
    ```
  }];
  let arguments = (ins Mind_FloatTensor:$residual, Mind_FloatTensor:$delta,
      Mind_FloatTensor:$weight, F64Attr:$epsilon);
  let results = (outs Mind_FloatTensor:$sum, Mind_FloatTensor:$result);
  let hasVerifier = 1;
}

def Mind_RMSNormGradResidualOp : Mind_Op<"rmsnorm_grad_residual", [Pure]> {
  let summary = "RMSNorm gradient added to the residual stream's gradient";
  let description = [{
    `mind.rmsnorm_grad`'s gradients with the input gradient added to
    `residual_grad` (the gradient the residual stream carries past the
    norm): `input_grad = residual_grad + dx`, in the input's type, and
    `weight_grad` as `mind.rmsnorm_grad`. When present, `input_grad_narrow`
    is `input_grad` rounded to a narrower float type, stored by the same
    kernel (the cast the backward GEMMs read). Formed by
    `mind-fuse-add-rmsnorm`.

    Example:
    ```mlir
    %s, %dw, %sb = mind.rmsnorm_grad_residual %x, %w, %dy, %dres {epsilon = 1.0e-05 : f64}
        : (tensor<2x24x64xf32>, tensor<64xf32>, tensor<2x24x64xbf16>, tensor<2x24x64xf32>)
        -> (tensor<2x24x64xf32>, tensor<64xf32>, tensor<2x24x64xbf16>)
    ```
  }];
  let arguments = (ins Mind_FloatTensor:$input, Mind_FloatTensor:$weight,
      Mind_FloatTensor:$grad, Mind_FloatTensor:$residual_grad,
      F64Attr:$epsilon);
  let results = (outs Mind_FloatTensor:$input_grad,
      Mind_FloatTensor:$weight_grad,
      Optional<Mind_FloatTensor>:$input_grad_narrow);
  let hasVerifier = 1;
}

def Mind_AttentionGradRopeOp : Mind_Op<"attention_grad_rope", [Pure,
    DeclareOpInterfaceMethods<Mind_FlopCountOpInterface>]> {
  let summary = "Attention gradients with the inverse RoPE of dq and dk";
  let description = [{
    `mind.attention_grad` of the rotated `query` and `key` (what the forward
    attention read), followed by `mind.rope {inverse = true}` of its query
    and key gradients with the tables `cos` and `sin` [S, D]: `query_grad`
    and `key_grad` are the gradients of the tensors before the rotation.
    Each gradient is rounded to its type before it is rotated, and the
    rotation rounds as `mind.rope` does, so the result is value for value
    that of the three ops it replaces. Formed by `mind-fuse-attention-rope`;
    the kernels rotate dQ and dK in registers as they store them, so no
    separate pass reads and writes them again.

    Example:
    ```mlir
    %dq, %dk, %dv = mind.attention_grad_rope %q, %k, %v, %o, %lse, %do, %cos, %sin
        {scale = 0.25 : f64}
        : (tensor<2x24x4x16xbf16>, tensor<2x24x2x16xbf16>, tensor<2x24x2x16xbf16>,
           tensor<2x24x4x16xbf16>, tensor<2x4x24xf32>, tensor<2x24x4x16xbf16>,
           tensor<24x16xf32>, tensor<24x16xf32>)
        -> (tensor<2x24x4x16xbf16>, tensor<2x24x2x16xbf16>, tensor<2x24x2x16xbf16>)
    ```
  }];
  let arguments = (ins Mind_FloatTensor:$query, Mind_FloatTensor:$key,
      Mind_FloatTensor:$value, Mind_FloatTensor:$result,
      Mind_FloatTensor:$lse, Mind_FloatTensor:$grad, Mind_FloatTensor:$cos,
      Mind_FloatTensor:$sin, F64Attr:$scale,
      DefaultValuedAttr<BoolAttr, "true">:$causal);
  let results = (outs Mind_FloatTensor:$query_grad, Mind_FloatTensor:$key_grad,
      Mind_FloatTensor:$value_grad);
  let hasVerifier = 1;
}

def Mind_LmHeadLossOp : Mind_Op<"lm_head_loss", [Pure,
    DeclareOpInterfaceMethods<Mind_FlopCountOpInterface>]> {
  let summary = "LM head, cross entropy and their gradients, chunk by chunk";
  let description = [{
    The end of a training step as one op: `logits = mind.linear(input,
    weight)`, `loss = mind.cross_entropy(logits, targets, mask)`, `dlogits =
    mind.cross_entropy_grad(logits, targets, mask, grad)`, `input_grad =
    dlogits * weight` and `weight_grad = dlogits^T * input` (over the rows
    of `input` [..., H]), each value rounded to its type as those ops round
    it. The kernels run `chunk_rows` tokens at a time (a multiple of 16), so
    neither the logits nor their gradient ever exist for all tokens: two
    [chunk_rows, V] buffers instead of two [tokens, V] ones. The loss is the
    unchunked one to the bit (per-row losses, summed once); `weight_grad`,
    which must be added into a gradient accumulator (`mind.accumulate_into`),
    arrives as one product per chunk, so its fp32 sum is grouped by chunk.
    Formed by `mind-chunk-lm-head`.

    Example:
    ```mlir
    %loss, %dx, %dw = mind.lm_head_loss %x, %w, %t, %m, %s {chunk_rows = 4096 : i64}
        : (tensor<2x24x64xbf16>, tensor<6400x64xbf16>, tensor<2x24xi64>,
           tensor<2x24xi64>, tensor<f32>)
        -> (tensor<f32>, tensor<2x24x64xbf16>, tensor<6400x64xbf16>)
    ```
  }];
  let arguments = (ins Mind_FloatTensor:$input, Mind_FloatTensor:$weight,
      Mind_IntTensor:$targets, Mind_MaskTensor:$mask, Mind_ScalarF32:$grad,
      I64Attr:$chunk_rows);
  let results = (outs Mind_ScalarF32:$loss, Mind_FloatTensor:$input_grad,
      Mind_FloatTensor:$weight_grad);
  let hasVerifier = 1;
}

#endif // MIND_DIALECT_MIND_IR_MINDFUSIONOPS_TD
