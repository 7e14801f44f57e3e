//===- MindOps.td - mind forward ops -----------------------*- tablegen -*-===//
//
// The ops the frontend writes for the forward pass. Backward ops (emitted only
// by VJP rules) live in MindGradOps.td.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_DIALECT_MIND_IR_MINDOPS_TD
#define MIND_DIALECT_MIND_IR_MINDOPS_TD

include "mind/Dialect/Mind/IR/MindBase.td"
include "mind/Dialect/Mind/IR/MindInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

class Mind_DiffOp<string mnemonic, list<Trait> traits = []>
    : Mind_Op<mnemonic, !listconcat(traits, [Pure,
        DeclareOpInterfaceMethods<Mind_DifferentiableOpInterface>])>;

//===----------------------------------------------------------------------===//
// Dense layers
//===----------------------------------------------------------------------===//

def Mind_EmbeddingOp : Mind_DiffOp<"embedding", [Mind_AutocastOpInterface]> {
  let summary = "Row gather from an embedding table";
  let description = [{
    Looks up each token id in `table` ([V, H]): `result[i, :] = table[ids[i], :]`
    for every position `i` of `ids`. The result shape is the shape of `ids`
    followed by H. Ids outside [0, V) are a runtime error in the interpreter.

    Example:
    ```mlir
    %h = mind.embedding %table, %ids
        : (tensor<6400x512xf32>, tensor<32x511xi64>) -> tensor<32x511x512xf32>
    ```
  }];
  let arguments = (ins Mind_FloatTensor:$table, Mind_IntTensor:$ids);
  let results = (outs Mind_FloatTensor:$result);
  let hasVerifier = 1;
}

def Mind_LinearOp : Mind_DiffOp<"linear", [
    DeclareOpInterfaceMethods<Mind_AutocastOpInterface, ["getAutocastRule"]>,
    DeclareOpInterfaceMethods<Mind_FlopCountOpInterface>]> {
  let summary = "Bias-free linear layer: input times transposed weight";
  let description = [{
    Computes `input @ weight^T` over the last dimension, as PyTorch's
    `nn.Linear(K, N, bias=False)` does: `input` is [..., K], `weight` is
    [N, K] (the state_dict layout) and the result is [..., N].

    Example:
    ```mlir
    %q = mind.linear %x, %wq
        : (tensor<2x24x64xf32>, tensor<64x64xf32>) -> tensor<2x24x64xf32>
    ```
  }];
  let arguments = (ins Mind_FloatTensor:$input, Mind_FloatTensor:$weight);
  let results = (outs Mind_FloatTensor:$result);
  let hasVerifier = 1;
}

def Mind_MatmulOp : Mind_DiffOp<"matmul", [
    DeclareOpInterfaceMethods<Mind_AutocastOpInterface, ["getAutocastRule"]>,
    DeclareOpInterfaceMethods<Mind_FlopCountOpInterface>]> {
  let summary = "2-D matrix product with optional transposed operands";
  let description = [{
    `result = op(lhs) @ op(rhs)` where `op` transposes its operand when the
    matching flag is set: op(lhs) is [M, K], op(rhs) is [K, N], the result is
    [M, N]. The VJP rules of `linear` express both of its gradients with this
    op on flattened operands, so every GEMM of a training step is either a
    `linear` or a `matmul`.

    Example:
    ```mlir
    %dw = mind.matmul %dy, %x {transpose_lhs = true}
        : (tensor<48x64xf32>, tensor<48x32xf32>) -> tensor<64x32xf32>
    ```
  }];
  let arguments = (ins Mind_FloatTensor:$lhs, Mind_FloatTensor:$rhs,
      DefaultValuedAttr<BoolAttr, "false">:$transpose_lhs,
      DefaultValuedAttr<BoolAttr, "false">:$transpose_rhs);
  let results = (outs Mind_FloatTensor:$result);
  let hasVerifier = 1;
}

def Mind_RMSNormOp : Mind_DiffOp<"rmsnorm", [
    DeclareOpInterfaceMethods<Mind_AutocastOpInterface, ["getAutocastOperand"]>]> {
  let summary = "Root-mean-square normalisation over the last dimension";
  let description = [{
    `result = weight * input * rsqrt(mean(input^2, -1) + epsilon)` with the
    statistics computed in f32 (or wider) whatever the element type, then cast
    back, as MiniMind's `RMSNorm` does. `weight` is [H] with H the last
    dimension of `input`.

    The result has the input's type, or its shape in a narrower float type:
    then the input-typed value is rounded once more to the result type (the
    norm fused with a cast of its output, `mind-fuse-rmsnorm-cast`; bit for
    bit the two ops).

    Example:
    ```mlir
    %n = mind.rmsnorm %h, %w {epsilon = 1.0e-05 : f64}
        : (tensor<2x24x64xf32>, tensor<64xf32>) -> tensor<2x24x64xf32>
    ```
  }];
  let arguments = (ins Mind_FloatTensor:$input, Mind_FloatTensor:$weight,
      F64Attr:$epsilon);
  let results = (outs Mind_FloatTensor:$result);
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

def Mind_RopeTableOp : Mind_Op<"rope_table", [Pure, Mind_AutocastOpInterface]> {
  let summary = "Rotary position embedding cos/sin tables";
  let description = [{
    Produces the rotate-half RoPE tables for positions 0..S-1 and head
    dimension D (the result shapes): `inv_freq[j] = theta^(-2j/D)` for
    j < D/2, `cos[s] = cat(cos(s * inv_freq), cos(s * inv_freq)) *
    attention_factor`, likewise `sin`. When `yarn_factor` is not 1 and
    `max_positions / yarn_original_max > 1`, `inv_freq` is scaled by YaRN's
    linear ramp between the dimensions given by `yarn_beta_fast` and
    `yarn_beta_slow` (MiniMind's `precompute_freqs_cis`). The tables are
    buffers, not parameters: they have no gradient.

    Example:
    ```mlir
    %cos, %sin = mind.rope_table {theta = 1.0e+06 : f64, max_positions = 32768 : i64}
        : () -> (tensor<24x16xf32>, tensor<24x16xf32>)
    ```
  }];
  let arguments = (ins F64Attr:$theta, I64Attr:$max_positions,
      DefaultValuedAttr<F64Attr, "1.0">:$yarn_factor,
      DefaultValuedAttr<I64Attr, "2048">:$yarn_original_max,
      DefaultValuedAttr<F64Attr, "32.0">:$yarn_beta_fast,
      DefaultValuedAttr<F64Attr, "1.0">:$yarn_beta_slow,
      DefaultValuedAttr<F64Attr, "1.0">:$attention_factor);
  let results = (outs Mind_FloatTensor:$cos, Mind_FloatTensor:$sin);
  // No operands: keep the printed form free of a dangling space.
  let assemblyFormat = "attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Mind_RopeOp : Mind_DiffOp<"rope", [
    DeclareOpInterfaceMethods<Mind_AutocastOpInterface, ["getAutocastOperand"]>]> {
  let summary = "Applies rotary position embedding (rotate-half convention)";
  let description = [{
    `result = input * cos + rotate_half(input) * sin` with
    `rotate_half([a, b]) = [-b, a]` over the last dimension D. `input` is
    [B, S, N, D] (N heads), the tables are [S, D] and broadcast over B and N.
    With `inverse = true` the op uses `-sin`, which is both the inverse
    rotation and the op's VJP.

    Example:
    ```mlir
    %qr = mind.rope %q, %cos, %sin
        : (tensor<2x24x4x16xf32>, tensor<24x16xf32>, tensor<24x16xf32>) -> tensor<2x24x4x16xf32>
    ```
  }];
  let arguments = (ins Mind_FloatTensor:$input, Mind_FloatTensor:$cos,
      Mind_FloatTensor:$sin, DefaultValuedAttr<BoolAttr, "false">:$inverse);
  let results = (outs Mind_FloatTensor:$result);
  let hasVerifier = 1;
}

def Mind_AttentionOp : Mind_DiffOp<"attention", [
    DeclareOpInterfaceMethods<Mind_AutocastOpInterface, ["getAutocastRule"]>,
    DeclareOpInterfaceMethods<Mind_FlopCountOpInterface>]> {
  let summary = "Scaled dot-product attention with grouped KV heads";
  let description = [{
    `query` is [B, S, Hq, D], `key` and `value` are [B, S, Hkv, D] with Hq a
    multiple of Hkv; query head h reads KV head `h / (Hq / Hkv)` (MiniMind's
    `repeat_kv`). For each batch and head: `P = softmax(q k^T * scale)` with
    key positions after the query position masked out when `causal`, and
    `result = P v` in the layout of `query`. The second result `lse` [B, Hq, S]
    (f32) holds the log-sum-exp of each row of scaled scores: it is what a
    flash-attention backward needs, so the forward produces it. The softmax is
    computed in f32 or wider.

    Example:
    ```mlir
    %o, %lse = mind.attention %q, %k, %v {scale = 0.25 : f64}
        : (tensor<2x24x4x16xf32>, tensor<2x24x2x16xf32>, tensor<2x24x2x16xf32>)
        -> (tensor<2x24x4x16xf32>, tensor<2x4x24xf32>)
    ```
  }];
  let arguments = (ins Mind_FloatTensor:$query, Mind_FloatTensor:$key,
      Mind_FloatTensor:$value, F64Attr:$scale,
      DefaultValuedAttr<BoolAttr, "true">:$causal);
  let results = (outs Mind_FloatTensor:$result, Mind_FloatTensor:$lse);
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

class Mind_BinaryOp<string mnemonic, string summaryText, string formula>
    : Mind_DiffOp<mnemonic, [SameOperandsAndResultType, Mind_AutocastOpInterface,
        DeclareOpInterfaceMethods<Mind_ElementwiseOpInterface>]> {
  let summary = summaryText;
  let description = "Elementwise `" # formula # "` of two tensors of the same "
      # "type (no broadcasting: shapes are explicit in `mind`).\n\n"
      # "Example:\n```mlir\n%r = mind." # mnemonic # " %a, %b\n"
      # "    : (tensor<2x24x64xf32>, tensor<2x24x64xf32>) -> tensor<2x24x64xf32>\n```";
  let arguments = (ins Mind_FloatTensor:$lhs, Mind_FloatTensor:$rhs);
  let results = (outs Mind_FloatTensor:$result);
}

def Mind_AddOp : Mind_BinaryOp<"add", "Elementwise addition", "lhs + rhs">;
def Mind_MulOp : Mind_BinaryOp<"mul", "Elementwise multiplication", "lhs * rhs">;

def Mind_SiluOp : Mind_DiffOp<"silu", [
    SameOperandsAndResultType,
    Mind_AutocastOpInterface,
    DeclareOpInterfaceMethods<Mind_ElementwiseOpInterface>]> {
  let summary = "Sigmoid-weighted linear unit";
  let description = [{
    Elementwise `input * sigmoid(input)` (PyTorch `F.silu`, MiniMind's
    `hidden_act = "silu"`).

    Example:
    ```mlir
    %a = mind.silu %g : (tensor<2x24x192xf32>) -> tensor<2x24x192xf32>
    ```
  }];
  let arguments = (ins Mind_FloatTensor:$input);
  let results = (outs Mind_FloatTensor:$result);
}

def Mind_SwiGLUOp : Mind_DiffOp<"swiglu", [
    SameOperandsAndResultType,
    Mind_AutocastOpInterface,
    DeclareOpInterfaceMethods<Mind_ElementwiseOpInterface>]> {
  let summary = "Fused SwiGLU activation: silu(gate) * up";
  let description = [{
    Elementwise `silu(gate) * up`. The frontend writes `silu` and `mul` as
    PyTorch does; fusion forms this op so that one kernel reads both inputs
    once.

    Example:
    ```mlir
    %a = mind.swiglu %g, %u
        : (tensor<2x24x192xf32>, tensor<2x24x192xf32>) -> tensor<2x24x192xf32>
    ```
  }];
  let arguments = (ins Mind_FloatTensor:$gate, Mind_FloatTensor:$up);
  let results = (outs Mind_FloatTensor:$result);
}

def Mind_SoftmaxOp : Mind_DiffOp<"softmax", [
    SameOperandsAndResultType,
    DeclareOpInterfaceMethods<Mind_AutocastOpInterface, ["getAutocastRule"]>]> {
  let summary = "Softmax over the last dimension";
  let description = [{
    `result = exp(x - max(x)) / sum(exp(x - max(x)))` along the last
    dimension, computed in f32 or wider. Used for the MoE router scores.

    Example:
    ```mlir
    %s = mind.softmax %logits : (tensor<48x4xf32>) -> tensor<48x4xf32>
    ```
  }];
  let arguments = (ins Mind_FloatTensor:$input);
  let results = (outs Mind_FloatTensor:$result);
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Loss
//===----------------------------------------------------------------------===//

def Mind_CrossEntropyOp : Mind_DiffOp<"cross_entropy", [
    DeclareOpInterfaceMethods<Mind_AutocastOpInterface, ["getAutocastRule"]>]> {
  let summary = "Masked mean token cross-entropy";
  let description = [{
    For logits [..., V], integer `targets` and `mask` of the leading shape:
    `ce = logsumexp(logits) - logits[target]` per position and
    `result = sum(ce * mask) / sum(mask)`, a rank-0 tensor, computed in f32 or
    wider (MiniMind's pretraining loss before the aux loss and the division by
    `accumulation_steps`).

    Example:
    ```mlir
    %loss = mind.cross_entropy %logits, %targets, %mask
        : (tensor<2x24x6400xf32>, tensor<2x24xi64>, tensor<2x24xi64>) -> tensor<f32>
    ```
  }];
  let arguments = (ins Mind_FloatTensor:$logits, Mind_IntTensor:$targets,
      Mind_MaskTensor:$mask);
  let results = (outs Mind_ScalarF32:$result);
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Mixture of experts
//===----------------------------------------------------------------------===//

def Mind_TopKOp : Mind_DiffOp<"topk", [Mind_AutocastOpInterface]> {
  let summary = "Router top-k selection with optional renormalisation";
  let description = [{
    For router scores [T, E], picks the `k` largest scores of each row in
    descending order (ties go to the lower expert index): `indices` [T, k]
    (i64) and their `weights` [T, k]. With `normalize` the weights are divided
    by `(sum of the k weights + 1e-20)` (MiniMind's `norm_topk_prob` when
    k > 1). Only `weights` is differentiable.

    Example:
    ```mlir
    %w, %idx = mind.topk %scores {k = 2 : i64, normalize = true}
        : (tensor<48x4xf32>) -> (tensor<48x2xf32>, tensor<48x2xi64>)
    ```
  }];
  let arguments = (ins Mind_FloatTensor:$scores, I64Attr:$k,
      DefaultValuedAttr<BoolAttr, "false">:$normalize);
  let results = (outs Mind_FloatTensor:$weights, Mind_IntTensor:$indices);
  let hasVerifier = 1;
}

def Mind_MoeRouteOp : Mind_Op<"moe_route", [Pure, Mind_AutocastOpInterface]> {
  let summary = "Groups the routed token slots by expert";
  let description = [{
    For expert `indices` [T, k], sorts the R = T*k slots stably by expert:
    routed row r holds slot `perm[r] = t*k + j` (token t's j-th pick), and
    expert e owns rows `offsets[e] ..< offsets[e+1]` (`offsets` has
    `num_experts + 1` entries). Dispatch, grouped GEMMs and combine all read
    this one permutation. Not differentiable (integer results).

    Example:
    ```mlir
    %perm, %offsets = mind.moe_route %idx {num_experts = 4 : i64}
        : (tensor<48x2xi64>) -> (tensor<96xi64>, tensor<5xi64>)
    ```
  }];
  let arguments = (ins Mind_IntTensor:$indices, I64Attr:$num_experts);
  let results = (outs Mind_IntTensor:$perm, Mind_IntTensor:$offsets);
  let hasVerifier = 1;
}

def Mind_MoeDispatchOp : Mind_DiffOp<"moe_dispatch", [Mind_AutocastOpInterface]> {
  let summary = "Gathers token rows into expert-sorted order";
  let description = [{
    `result[r] = input[perm[r] / top_k]`: input [T, H], `perm` [R] from
    `mind.moe_route`, result [R, H] with R = T * top_k.

    Example:
    ```mlir
    %xs = mind.moe_dispatch %x, %perm {top_k = 2 : i64}
        : (tensor<48x64xf32>, tensor<96xi64>) -> tensor<96x64xf32>
    ```
  }];
  let arguments = (ins Mind_FloatTensor:$input, Mind_IntTensor:$perm,
      I64Attr:$top_k);
  let results = (outs Mind_FloatTensor:$result);
  let hasVerifier = 1;
}

def Mind_GroupedLinearOp : Mind_DiffOp<"grouped_linear", [
    DeclareOpInterfaceMethods<Mind_AutocastOpInterface, ["getAutocastRule"]>,
    DeclareOpInterfaceMethods<Mind_FlopCountOpInterface>]> {
  let summary = "One linear layer per expert over expert-sorted rows";
  let description = [{
    `input` [R, K] holds rows sorted by expert; rows
    `offsets[e] ..< offsets[e+1]` are multiplied by `weights[e]^T` (each
    [N, K]); the result is [R, N]. This is the expert FFN GEMM of a MoE layer
    (a grouped GEMM on the GPU). One weight operand per expert keeps the
    PyTorch parameter names.

    Example:
    ```mlir
    %g = mind.grouped_linear %xs, %offsets, %w0, %w1, %w2, %w3
        : (tensor<96x64xf32>, tensor<5xi64>, tensor<192x64xf32>, tensor<192x64xf32>,
           tensor<192x64xf32>, tensor<192x64xf32>) -> tensor<96x192xf32>
    ```
  }];
  let arguments = (ins Mind_FloatTensor:$input, Mind_IntTensor:$offsets,
      Variadic<Mind_FloatTensor>:$weights);
  let results = (outs Mind_FloatTensor:$result);
  let hasVerifier = 1;
}

def Mind_MoeCombineOp : Mind_DiffOp<"moe_combine", [Mind_AutocastOpInterface]> {
  let summary = "Weighted sum of each token's expert outputs";
  let description = [{
    `result[t] = sum_j weights[t, j] * input[r]` where `perm[r] = t*k + j`:
    input [R, H] in expert-sorted order, `weights` [T, k] from `mind.topk`,
    result [T, H].

    Example:
    ```mlir
    %y = mind.moe_combine %ys, %perm, %w
        : (tensor<96x64xf32>, tensor<96xi64>, tensor<48x2xf32>) -> tensor<48x64xf32>
    ```
  }];
  let arguments = (ins Mind_FloatTensor:$input, Mind_IntTensor:$perm,
      Mind_FloatTensor:$weights);
  let results = (outs Mind_FloatTensor:$result);
  let hasVerifier = 1;
}

def Mind_MoeAuxLossOp : Mind_DiffOp<"moe_aux_loss", [
    DeclareOpInterfaceMethods<Mind_AutocastOpInterface, ["getAutocastRule"]>]> {
  let summary = "MiniMind's load-balancing loss of one MoE layer";
  let description = [{
    From router `scores` [T, E] and top-k `indices` [T, k]. With `seq_aux`
    (tokens viewed as [batch, S]): `ce[b, e] = count(indices[b] == e) /
    (S * k / E)` and `result = alpha * mean_b(sum_e ce[b, e] *
    mean_s(scores[b, s, e]))`. Without: `fi[e] = E * count(indices == e) /
    (T * k)`, `Pi[e] = mean_t scores[t, e]`, `result = alpha * sum_e Pi * fi`.
    The counts are constants for differentiation; the gradient flows into
    `scores` only.

    Example:
    ```mlir
    %aux = mind.moe_aux_loss %scores, %idx {alpha = 0.01 : f64, seq_aux = true, batch = 2 : i64}
        : (tensor<48x4xf32>, tensor<48x2xi64>) -> tensor<f32>
    ```
  }];
  let arguments = (ins Mind_FloatTensor:$scores, Mind_IntTensor:$indices,
      F64Attr:$alpha, BoolAttr:$seq_aux, I64Attr:$batch);
  let results = (outs Mind_ScalarF32:$result);
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Shape and type
//===----------------------------------------------------------------------===//

def Mind_ReshapeOp : Mind_DiffOp<"reshape", [Mind_AutocastOpInterface]> {
  let summary = "Row-major reshape";
  let description = [{
    Reinterprets the elements of `input` in row-major order with the result's
    shape; element type and element count must match.

    Example:
    ```mlir
    %q4 = mind.reshape %q : (tensor<2x24x64xf32>) -> tensor<2x24x4x16xf32>
    ```
  }];
  let arguments = (ins Mind_AnyTensor:$input);
  let results = (outs Mind_AnyTensor:$result);
  let hasVerifier = 1;
}

def Mind_TransposeOp : Mind_DiffOp<"transpose", [Mind_AutocastOpInterface]> {
  let summary = "Permutes dimensions";
  let description = [{
    `result.shape[i] = input.shape[permutation[i]]` and
    `result[i_0, ...] = input[...]` accordingly.

    Example:
    ```mlir
    %t = mind.transpose %x {permutation = array<i64: 0, 2, 1, 3>}
        : (tensor<2x24x4x16xf32>) -> tensor<2x4x24x16xf32>
    ```
  }];
  let arguments = (ins Mind_AnyTensor:$input, DenseI64ArrayAttr:$permutation);
  let results = (outs Mind_AnyTensor:$result);
  let hasVerifier = 1;
}

def Mind_CastOp : Mind_DiffOp<"cast", [
    DeclareOpInterfaceMethods<Mind_ElementwiseOpInterface>]> {
  let summary = "Element type conversion";
  let description = [{
    Converts every element to the result's element type (same shape):
    float to float rounds to nearest even, int to int wraps, int to float is
    exact where representable. Float to int is not allowed. Only float to
    float casts carry a gradient.

    Example:
    ```mlir
    %b = mind.cast %x : (tensor<2x24x64xf32>) -> tensor<2x24x64xbf16>
    ```
  }];
  let arguments = (ins Mind_AnyTensor:$input);
  let results = (outs Mind_AnyTensor:$result);
  let hasVerifier = 1;
}

def Mind_FillOp : Mind_Op<"fill", [Pure, Mind_AutocastOpInterface]> {
  let summary = "A tensor with every element equal to a constant";
  let description = [{
    Produces a tensor of the result type whose elements all equal `value`:
    for example the zero aux loss of a dense model.

    Example:
    ```mlir
    %zero = mind.fill {value = 0.0 : f64} : () -> tensor<f32>
    ```
  }];
  let arguments = (ins F64Attr:$value);
  let results = (outs Mind_AnyTensor:$result);
  // No operands: keep the printed form free of a dangling space.
  let assemblyFormat = "attr-dict `:` functional-type(operands, results)";
}

include "mind/Dialect/Mind/IR/MindGradOps.td"
include "mind/Dialect/Mind/IR/MindFusionOps.td"

#endif // MIND_DIALECT_MIND_IR_MINDOPS_TD
