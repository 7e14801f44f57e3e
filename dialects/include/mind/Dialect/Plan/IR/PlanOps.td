//===- PlanOps.td - plan ops -------------------------------*- tablegen -*-===//

#ifndef MIND_DIALECT_PLAN_IR_PLANOPS_TD
#define MIND_DIALECT_PLAN_IR_PLANOPS_TD

include "mind/Dialect/Plan/IR/PlanBase.td"
include "mlir/IR/SymbolInterfaces.td"

def Plan_MicroStepOp : Plan_Op<"micro_step", [Symbol, SymbolTable, SingleBlock,
    NoTerminator, IsolatedFromAbove]> {
  let summary = "The buffers and steps of one training micro-step";
  let description = [{
    Holds, in order, the `plan.buffer`s of a micro-step (parameters first, in
    `@train_step` argument order, then their gradient accumulators in the
    same order, inputs, outputs, then activations and kernel workspaces as
    the lowering met them), the `plan.emitted_kernel`s its launches use, and
    its steps, which the runtime runs in this order. `arena_bytes`, set by
    `mind-plan-memory`, is the size of the device arena the buffers' offsets
    index.

    Example:
    ```mlir
    plan.micro_step @train_step attributes {arena_bytes = 4096 : i64} {
      %0 = plan.buffer input "x" {offset = 0 : i64} : memref<4x8xf32>
      %1 = plan.buffer output "loss" {offset = 256 : i64} : memref<4x8xf32>
      plan.kernel "mind::silu_fwd<float>"(%0, %1, 32) grid [1, 1, 1]
          block [256, 1, 1] : memref<4x8xf32>, memref<4x8xf32>
    }
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
      OptionalAttr<I64Attr>:$arena_bytes);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$sym_name attr-dict-with-keyword $body";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    mlir::Block &getBlock() { return getBody().front(); }
  }];
}

def Plan_BufferOp : Plan_Op<"buffer", [HasParent<"MicroStepOp">]> {
  let summary = "A byte range of the device arena";
  let description = [{
    A buffer of the micro-step: `kind` says who writes it and how long it
    lives (`param`: an fp32 master weight, updated by the optimizer; `grad`:
    its fp32 gradient accumulator; `input`: written by the host before the
    micro-step; `output`: read by the host after it; `activation`: lives
    from its first to its last use; `param_copy`: the bf16/f16 copy
    `"<param>.copy"` of a parameter that the optimizer step rewrites, read
    by the matrix ops instead of casting the weight every micro-step). `name` is the runtime's name for it
    (parameters carry their PyTorch state-dict names). `offset`, into the
    arena, is set by `mind-plan-memory`.

    Example:
    ```mlir
    %w = plan.buffer param "model.norm.weight" : memref<512xf32>
    ```
  }];
  let arguments = (ins Plan_BufferKind:$kind, StrAttr:$name,
      OptionalAttr<I64Attr>:$offset);
  let results = (outs AnyStaticShapeMemRef:$result);
  let assemblyFormat = "$kind $name attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Plan_ViewOp : Plan_Op<"view", [HasParent<"MicroStepOp">]> {
  let summary = "Bytes of a buffer under another shape";
  let description = [{
    The bytes `[byte_offset, byte_offset + size)` of `source` (a
    `plan.buffer`) as a buffer of the result's shape and element type: a
    launch can read or write a slice of a buffer, such as a chunk of rows,
    without a copy. A view is no storage of its own: `mind-plan-memory`
    keeps `source` alive wherever the view is used and sets `offset` to the
    source's offset plus `byte_offset`; the runtime sees it as a buffer of
    kind `view` whose kind for every other purpose (who may write it) is the
    source's. `byte_offset` is a multiple of 16, so vector loads and
    cuBLASLt see the alignment they would on the source.

    Example (rows 64..127 of a [256, 512] bf16 activation):
    ```mlir
    %rows = plan.view %x [65536] : memref<256x512xbf16> to memref<64x512xbf16>
    ```
  }];
  let arguments = (ins AnyStaticShapeMemRef:$source, I64Attr:$byte_offset,
      OptionalAttr<I64Attr>:$offset);
  let results = (outs AnyStaticShapeMemRef:$result);
  let assemblyFormat = [{
    $source `[` $byte_offset `]` attr-dict `:` type($source) `to` type($result)
  }];
  let hasVerifier = 1;
}

def Plan_EmittedKernelOp : Plan_Op<"emitted_kernel", [Symbol,
    HasParent<"MicroStepOp">]> {
  let summary = "A kernel generated from the IR, with its CUDA C++ source";
  let description = [{
    Defines the `extern "C"` kernel `sym_name` that the elementwise emitter
    wrote for an op or a `mind.fused_elementwise` region. Its parameters
    follow the emitted-kernel convention: `num_inputs` buffers it reads, then
    `num_outputs` buffers it writes, then the element count (i64); the
    element types are those of the buffers each launch passes.

    Example:
    ```mlir
    plan.emitted_kernel @mind_ew_silu_0badc0de(1 in, 1 out) "extern \"C\" ..."
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, I64Attr:$num_inputs,
      I64Attr:$num_outputs, StrAttr:$source);
  let assemblyFormat = [{
    $sym_name `(` $num_inputs `in` `,` $num_outputs `out` `)` $source attr-dict
  }];
}

def Plan_KernelOp : Plan_Op<"kernel", [HasParent<"MicroStepOp">,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "A kernel launch";
  let description = [{
    Launches `kernel` with the given grid, block and dynamic shared memory.
    The argument list mixes buffers (SSA operands), arrays of buffers (in
    brackets) and scalars (`i64`, `f32` or `f64` attributes), in the order of
    the kernel's parameters. A library kernel (`mind::...`) is verified
    against its signature in KernelSignatures.h: count, kinds, buffer element
    types; any other name must be a `plan.emitted_kernel` of the micro-step
    (checked, with its arguments, as a symbol use). `source` names the op it came from (profiles and errors show it
    with the location).

    Example:
    ```mlir
    plan.kernel "mind::rmsnorm_fwd<__nv_bfloat16, float>"(%x, %w, %y, 64, 512,
        1.000000e-05 : f32) grid [8, 1, 1] block [32, 8, 1]
        {source = "mind.rmsnorm"}
        : memref<64x512xbf16>, memref<512xf32>, memref<64x512xbf16>
    plan.kernel "mind::moe_grouped_linear_fwd<float>"(%x, %off, %y, 16, 8, 8,
        2, [%w0, %w1]) grid [3, 1, 1] block [256, 1, 1] : ...
    ```
  }];
  let arguments = (ins StrAttr:$kernel,
      Variadic<AnyStaticShapeMemRef>:$buffers, ArrayAttr:$args,
      DenseI32ArrayAttr:$grid, DenseI32ArrayAttr:$block,
      DefaultValuedAttr<I32Attr, "0">:$shared_bytes,
      OptionalAttr<StrAttr>:$source);
  let hasCustomAssemblyFormat = 1;
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// `args` holds, per kernel argument: a UnitAttr for one buffer operand,
    /// an index-typed IntegerAttr N for an array of the next N buffer
    /// operands, or a typed scalar (i64, f32, f64 attribute).
    static bool isBufferArg(mlir::Attribute a);
    static std::optional<int64_t> arrayArgSize(mlir::Attribute a);
  }];
}

def Plan_GemmOp : Plan_Op<"gemm", [HasParent<"MicroStepOp">]> {
  let summary = "A cuBLASLt matrix product";
  let description = [{
    Row-major `c[m, n] = alpha * op(a)[m, k] * op(b)[k, n] + beta * c` with
    fp32 accumulation, `op` transposing where `trans_a` / `trans_b` say. `a`
    and `b` share one float type; `c` has it or is f32. `beta = 1`
    accumulates (gradient accumulators).

    Example:
    ```mlir
    plan.gemm %x, %w -> %y {m = 64 : i64, n = 128 : i64, k = 32 : i64,
        trans_b} : memref<64x32xbf16>, memref<128x32xbf16> -> memref<64x128xbf16>
    ```
  }];
  let arguments = (ins AnyStaticShapeMemRef:$a, AnyStaticShapeMemRef:$b,
      AnyStaticShapeMemRef:$c, I64Attr:$m, I64Attr:$n, I64Attr:$k,
      UnitAttr:$trans_a, UnitAttr:$trans_b,
      DefaultValuedAttr<F32Attr, "1.0f">:$alpha,
      DefaultValuedAttr<F32Attr, "0.0f">:$beta,
      OptionalAttr<StrAttr>:$source);
  let assemblyFormat = [{
    $a `,` $b `->` $c attr-dict `:` type($a) `,` type($b) `->` type($c)
  }];
  let hasVerifier = 1;
}

def Plan_MemsetOp : Plan_Op<"memset", [HasParent<"MicroStepOp">]> {
  let summary = "Zero-fills a buffer";
  let description = [{
    Example:
    ```mlir
    plan.memset %dtable : memref<6400x512xf32>
    ```
  }];
  let arguments = (ins AnyStaticShapeMemRef:$buffer,
      OptionalAttr<StrAttr>:$source);
  let assemblyFormat = "$buffer attr-dict `:` type($buffer)";
}

#endif // MIND_DIALECT_PLAN_IR_PLANOPS_TD
