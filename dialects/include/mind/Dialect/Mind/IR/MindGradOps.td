//===- MindGradOps.td - mind backward ops ------------------*- tablegen -*-===//
//
// Ops emitted by the VJP rules of the forward ops. They are ordinary ops:
// the interpreter runs them and the GPU lowering turns each into one kernel.
// They are not themselves differentiable (no second-order gradients).
//
//===----------------------------------------------------------------------===//

#ifndef MIND_DIALECT_MIND_IR_MINDGRADOPS_TD
#define MIND_DIALECT_MIND_IR_MINDGRADOPS_TD

class Mind_GradOp<string mnemonic, list<Trait> traits = []>
    : Mind_Op<mnemonic, !listconcat(traits, [Pure])> {
  let hasVerifier = 1;
}

def Mind_EmbeddingGradOp : Mind_GradOp<"embedding_grad"> {
  let summary = "Gradient of an embedding lookup (scatter-add)";
  let description = [{
    `result[v, :] = sum of grad[i, :] over the positions i with ids[i] == v`;
    the result is [vocab_size, H], zero for ids that do not occur.

    Example:
    ```mlir
    %dt = mind.embedding_grad %dh, %ids {vocab_size = 6400 : i64}
        : (tensor<2x24x64xf32>, tensor<2x24xi64>) -> tensor<6400x64xf32>
    ```
  }];
  let arguments = (ins Mind_FloatTensor:$grad, Mind_IntTensor:$ids,
      I64Attr:$vocab_size);
  let results = (outs Mind_FloatTensor:$result);
}

def Mind_RMSNormGradOp : Mind_GradOp<"rmsnorm_grad"> {
  let summary = "Gradients of RMSNorm with respect to input and weight";
  let description = [{
    With `r = rsqrt(mean(x^2) + epsilon)` per row and `g = grad * weight`:
    `input_grad = r * g - x * r^3 * mean(g * x)` and
    `weight_grad = sum over rows of grad * x * r`, statistics in f32 or wider.
    `grad` has the input's type, or its shape in a narrower float type (read
    widened, exactly: the gradient fused with the widening cast of `grad`,
    `mind-fuse-rmsnorm-cast`).

    Example:
    ```mlir
    %dx, %dw = mind.rmsnorm_grad %x, %w, %dy {epsilon = 1.0e-05 : f64}
        : (tensor<2x24x64xf32>, tensor<64xf32>, tensor<2x24x64xf32>)
        -> (tensor<2x24x64xf32>, tensor<64xf32>)
    ```
  }];
  let arguments = (ins Mind_FloatTensor:$input, Mind_FloatTensor:$weight,
      Mind_FloatTensor:$grad, F64Attr:$epsilon);
  let results = (outs Mind_FloatTensor:$input_grad,
      Mind_FloatTensor:$weight_grad);
}

def Mind_AttentionGradOp : Mind_GradOp<"attention_grad", [
    DeclareOpInterfaceMethods<Mind_FlopCountOpInterface>]> {
  let summary = "Gradients of grouped-query attention";
  let description = [{
    From the forward operands, the forward results (`result`, `lse`) and the
    gradient of `result`, computes the gradients of query, key and value. The
    probabilities are recomputed from `lse` (no S x S matrix is saved), and
    key/value gradients are summed over the query heads that share a KV head.

    Example:
    ```mlir
    %dq, %dk, %dv = mind.attention_grad %q, %k, %v, %o, %lse, %do {scale = 0.25 : f64}
        : (tensor<2x24x4x16xf32>, tensor<2x24x2x16xf32>, tensor<2x24x2x16xf32>,
           tensor<2x24x4x16xf32>, tensor<2x4x24xf32>, tensor<2x24x4x16xf32>)
        -> (tensor<2x24x4x16xf32>, tensor<2x24x2x16xf32>, tensor<2x24x2x16xf32>)
    ```
  }];
  let arguments = (ins Mind_FloatTensor:$query, Mind_FloatTensor:$key,
      Mind_FloatTensor:$value, Mind_FloatTensor:$result,
      Mind_FloatTensor:$lse, Mind_FloatTensor:$grad, F64Attr:$scale,
      DefaultValuedAttr<BoolAttr, "true">:$causal);
  let results = (outs Mind_FloatTensor:$query_grad, Mind_FloatTensor:$key_grad,
      Mind_FloatTensor:$value_grad);
}

def Mind_SiluGradOp : Mind_GradOp<"silu_grad", [
    SameOperandsAndResultType,
    DeclareOpInterfaceMethods<Mind_ElementwiseOpInterface>]> {
  let summary = "Gradient of silu";
  let description = [{
    `result = grad * s * (1 + x * (1 - s))` with `s = sigmoid(x)`.

    Example:
    ```mlir
    %dx = mind.silu_grad %x, %dy
        : (tensor<2x24x192xf32>, tensor<2x24x192xf32>) -> tensor<2x24x192xf32>
    ```
  }];
  let arguments = (ins Mind_FloatTensor:$input, Mind_FloatTensor:$grad);
  let results = (outs Mind_FloatTensor:$result);
  let hasVerifier = 0;
}

def Mind_SwiGLUGradOp : Mind_GradOp<"swiglu_grad", [
    SameOperandsAndResultType,
    DeclareOpInterfaceMethods<Mind_ElementwiseOpInterface>]> {
  let summary = "Gradients of swiglu";
  let description = [{
    `gate_grad = silu_grad(gate, grad * up)` and `up_grad = grad * silu(gate)`.

    Example:
    ```mlir
    %dg, %du = mind.swiglu_grad %g, %u, %dy
        : (tensor<2x24x192xf32>, tensor<2x24x192xf32>, tensor<2x24x192xf32>)
        -> (tensor<2x24x192xf32>, tensor<2x24x192xf32>)
    ```
  }];
  let arguments = (ins Mind_FloatTensor:$gate, Mind_FloatTensor:$up,
      Mind_FloatTensor:$grad);
  let results = (outs Mind_FloatTensor:$gate_grad, Mind_FloatTensor:$up_grad);
  let hasVerifier = 0;
}

def Mind_SoftmaxGradOp : Mind_GradOp<"softmax_grad", [SameOperandsAndResultType]> {
  let summary = "Gradient of softmax from its output";
  let description = [{
    `result = y * (grad - sum(grad * y, -1))` where `y` is the softmax output.

    Example:
    ```mlir
    %dx = mind.softmax_grad %y, %dy
        : (tensor<48x4xf32>, tensor<48x4xf32>) -> tensor<48x4xf32>
    ```
  }];
  let arguments = (ins Mind_FloatTensor:$output, Mind_FloatTensor:$grad);
  let results = (outs Mind_FloatTensor:$result);
  let hasVerifier = 1;
}

def Mind_CrossEntropyGradOp : Mind_GradOp<"cross_entropy_grad"> {
  let summary = "Gradient of the masked mean cross-entropy";
  let description = [{
    `result = grad * mask / sum(mask) * (softmax(logits) - onehot(targets))`,
    with `grad` the rank-0 gradient of the loss.

    Example:
    ```mlir
    %dl = mind.cross_entropy_grad %logits, %targets, %mask, %g
        : (tensor<2x24x6400xf32>, tensor<2x24xi64>, tensor<2x24xi64>, tensor<f32>)
        -> tensor<2x24x6400xf32>
    ```
  }];
  let arguments = (ins Mind_FloatTensor:$logits, Mind_IntTensor:$targets,
      Mind_MaskTensor:$mask, Mind_ScalarF32:$grad);
  let results = (outs Mind_FloatTensor:$result);
}

def Mind_TopKGradOp : Mind_GradOp<"topk_grad"> {
  let summary = "Gradient of top-k weights with respect to all scores";
  let description = [{
    Scatters the gradient of the selected `weights` [T, k] back into a [T, E]
    tensor shaped like `scores`. With `normalize`, each row goes through the
    Jacobian of `w / (sum(w) + 1e-20)` first:
    `d s_j = (dw_j - sum_i dw_i * w_i) / (sum(s_sel) + 1e-20)`.

    Example:
    ```mlir
    %ds = mind.topk_grad %scores, %idx, %dw {normalize = true}
        : (tensor<48x4xf32>, tensor<48x2xi64>, tensor<48x2xf32>) -> tensor<48x4xf32>
    ```
  }];
  let arguments = (ins Mind_FloatTensor:$scores, Mind_IntTensor:$indices,
      Mind_FloatTensor:$grad, DefaultValuedAttr<BoolAttr, "false">:$normalize);
  let results = (outs Mind_FloatTensor:$result);
}

def Mind_MoeDispatchGradOp : Mind_GradOp<"moe_dispatch_grad"> {
  let summary = "Gradient of moe_dispatch (scatter-add back to tokens)";
  let description = [{
    `result[t] = sum of grad[r] over the rows r with perm[r] / top_k == t`;
    the result is [T, H] with T = R / top_k.

    Example:
    ```mlir
    %dx = mind.moe_dispatch_grad %dxs, %perm {top_k = 2 : i64}
        : (tensor<96x64xf32>, tensor<96xi64>) -> tensor<48x64xf32>
    ```
  }];
  let arguments = (ins Mind_FloatTensor:$grad, Mind_IntTensor:$perm,
      I64Attr:$top_k);
  let results = (outs Mind_FloatTensor:$result);
}

def Mind_GroupedLinearGradOp : Mind_GradOp<"grouped_linear_grad", [
    DeclareOpInterfaceMethods<Mind_FlopCountOpInterface>]> {
  let summary = "Gradients of grouped_linear";
  let description = [{
    For rows of expert e (`offsets[e] ..< offsets[e+1]`):
    `input_grad[r] = grad[r] @ weights[e]` and
    `weight_grads[e] = grad[rows]^T @ input[rows]` (zero for an expert with no
    rows).

    Example:
    ```mlir
    %dx, %dw0, %dw1 = mind.grouped_linear_grad %xs, %offsets, %dy, %w0, %w1
        : (tensor<8x4xf32>, tensor<3xi64>, tensor<8x6xf32>, tensor<6x4xf32>, tensor<6x4xf32>)
        -> (tensor<8x4xf32>, tensor<6x4xf32>, tensor<6x4xf32>)
    ```
  }];
  let arguments = (ins Mind_FloatTensor:$input, Mind_IntTensor:$offsets,
      Mind_FloatTensor:$grad, Variadic<Mind_FloatTensor>:$weights);
  let results = (outs Mind_FloatTensor:$input_grad,
      Variadic<Mind_FloatTensor>:$weight_grads);
}

def Mind_MoeCombineGradOp : Mind_GradOp<"moe_combine_grad"> {
  let summary = "Gradients of moe_combine";
  let description = [{
    For routed row r with `perm[r] = t*k + j`:
    `input_grad[r] = weights[t, j] * grad[t]` and
    `weights_grad[t, j] = dot(grad[t], input[r])`.

    Example:
    ```mlir
    %dys, %dw = mind.moe_combine_grad %ys, %perm, %w, %dy
        : (tensor<96x64xf32>, tensor<96xi64>, tensor<48x2xf32>, tensor<48x64xf32>)
        -> (tensor<96x64xf32>, tensor<48x2xf32>)
    ```
  }];
  let arguments = (ins Mind_FloatTensor:$input, Mind_IntTensor:$perm,
      Mind_FloatTensor:$weights, Mind_FloatTensor:$grad);
  let results = (outs Mind_FloatTensor:$input_grad,
      Mind_FloatTensor:$weights_grad);
}

def Mind_MoeAuxLossGradOp : Mind_GradOp<"moe_aux_loss_grad"> {
  let summary = "Gradient of the MoE aux loss with respect to the scores";
  let description = [{
    With `seq_aux`: `result[b, s, e] = grad * alpha * ce[b, e] / (batch * S)`;
    without: `result[t, e] = grad * alpha * fi[e] / T` (counts as in
    `mind.moe_aux_loss`). `grad` is the rank-0 gradient of the aux loss.

    Example:
    ```mlir
    %ds = mind.moe_aux_loss_grad %scores, %idx, %g {alpha = 0.01 : f64, seq_aux = true, batch = 2 : i64}
        : (tensor<48x4xf32>, tensor<48x2xi64>, tensor<f32>) -> tensor<48x4xf32>
    ```
  }];
  let arguments = (ins Mind_FloatTensor:$scores, Mind_IntTensor:$indices,
      Mind_ScalarF32:$grad, F64Attr:$alpha, BoolAttr:$seq_aux, I64Attr:$batch);
  let results = (outs Mind_FloatTensor:$result);
}

#endif // MIND_DIALECT_MIND_IR_MINDGRADOPS_TD
