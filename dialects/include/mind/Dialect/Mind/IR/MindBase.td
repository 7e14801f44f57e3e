//===- MindBase.td - mind dialect definition ---------------*- tablegen -*-===//
//
// The `mind` dialect: tensor-level ops with value semantics for training
// MiniMind-style decoders. Forward ops are written by the frontend; backward
// ops are emitted by the VJP rules of `mind-autodiff`.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_DIALECT_MIND_IR_MINDBASE_TD
#define MIND_DIALECT_MIND_IR_MINDBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def Mind_Dialect : Dialect {
  let name = "mind";
  let cppNamespace = "::mind";
  let summary = "Tensor ops for training small Llama-style language models";
  let description = [{
    The `mind` dialect describes one training micro-step of a MiniMind model
    (RMSNorm, GQA attention with RoPE, SwiGLU, optional mixture of experts)
    as a graph of tensor operations with value semantics on statically shaped
    builtin tensors. Every differentiable op implements
    `DifferentiableOpInterface`, whose rule emits the op's vector-Jacobian
    product as further `mind` ops; `mind-autodiff` composes those rules into
    `@train_step`. The reference interpreter executes every op on the CPU and is
    the oracle for all later passes and for the GPU kernels.
  }];
}

// Element types the float ops accept: f32 is the default, f64 serves gradient
// checks, bf16/f16 serve mixed precision.
def Mind_Float : AnyTypeOf<[F16, BF16, F32, F64]>;
def Mind_Int : AnyTypeOf<[I32, I64]>;

def Mind_FloatTensor : StaticShapeTensorOf<[F16, BF16, F32, F64]>;
def Mind_IntTensor : StaticShapeTensorOf<[I32, I64]>;
// Token masks may be given as integers (as the data loader produces them) or
// as floats.
def Mind_MaskTensor : StaticShapeTensorOf<[I32, I64, F16, BF16, F32, F64]>;
def Mind_AnyTensor : StaticShapeTensorOf<[I32, I64, F16, BF16, F32, F64]>;
def Mind_ScalarF32 : 0DTensorOf<[F32, F64]>;

class Mind_Op<string mnemonic, list<Trait> traits = []>
    : Op<Mind_Dialect, mnemonic, traits> {
  // One uniform, unambiguous syntax for every op: operands, attributes, and
  // the full function type.
  let assemblyFormat = [{
    operands attr-dict `:` functional-type(operands, results)
  }];
}

#endif // MIND_DIALECT_MIND_IR_MINDBASE_TD
