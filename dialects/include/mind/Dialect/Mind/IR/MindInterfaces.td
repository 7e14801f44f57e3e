//===- MindInterfaces.td - mind op interfaces --------------*- tablegen -*-===//

#ifndef MIND_DIALECT_MIND_IR_MINDINTERFACES_TD
#define MIND_DIALECT_MIND_IR_MINDINTERFACES_TD

include "mlir/IR/OpBase.td"

def Mind_DifferentiableOpInterface : OpInterface<"DifferentiableOpInterface"> {
  let cppNamespace = "::mind";
  let description = [{
    An op that knows its vector-Jacobian product (VJP). Given the gradients
    flowing into its results, the rule builds `mind` ops that compute the
    gradients of its operands. Reverse-mode autodiff (`mind-autodiff`) walks a
    function backwards and calls this rule on every op whose results carry a
    gradient.
  }];
  let methods = [
    InterfaceMethod<[{
        Builds the VJP at the builder's insertion point. `resultGrads` has one
        entry per result; an entry is null when nothing downstream depends on
        that result. On success `operandGrads` has one entry per operand, null
        for operands that are not differentiable (integer ids, indices,
        masks). Returns failure (after emitting an error on the op) when the
        gradient cannot be expressed.
      }],
      "::llvm::LogicalResult", "buildVJP",
      (ins "::mlir::OpBuilder &":$builder,
           "::llvm::ArrayRef<::mlir::Value>":$resultGrads,
           "::llvm::SmallVectorImpl<::mlir::Value> &":$operandGrads)>,
  ];
}

def Mind_ElementwiseOpInterface : OpInterface<"ElementwiseOpInterface"> {
  let cppNamespace = "::mind";
  let description = [{
    An op applied element by element to operands of its results' shape, in
    fp32 arithmetic with every value rounded to its element type on store.
    `mind-fuse-elementwise` groups such ops into `mind.fused_elementwise`
    regions and the CUDA emitter writes their kernels from
    `getCudaStatements`, so a new elementwise op needs only this method (and
    its reference kernel) to be fused and to run on the GPU.
  }];
  let methods = [
    InterfaceMethod<[{
        CUDA C++ statements computing the results from the operands, all
        fp32 scalars: `operands[i]` names the value of operand i,
        `results[j]` is the variable result j must be declared as (`float
        <name> = ...;`). Temporaries take a result's name as their prefix, so
        several ops' statements can share one kernel body.
      }],
      "std::string", "getCudaStatements",
      (ins "::llvm::ArrayRef<std::string>":$operands,
           "::llvm::ArrayRef<std::string>":$results)>,
  ];
}

def Mind_FlopCountOpInterface : OpInterface<"FlopCountOpInterface"> {
  let cppNamespace = "::mind";
  let description = [{
    An op with matrix-multiply work (GEMMs and attention): the FLOPs
    `mindc report` counts and benchmarks divide by, 2 per multiply-add,
    causal attention counting the half of the score matrix it computes (as
    FlashAttention counts it).
  }];
  let methods = [
    InterfaceMethod<"The op's matrix-multiply FLOPs.", "int64_t",
                    "getMatmulFlops", (ins)>,
  ];
}

def Mind_AutocastOpInterface : OpInterface<"AutocastOpInterface"> {
  let cppNamespace = "::mind";
  let description = [{
    How `mind-precision` (PyTorch autocast's rules) treats the op: its rule
    (the matrix ops compute in the compute type, a few ops in f32, every
    other op promotes its float operands to the widest of them) and, per
    operand, whether the operand takes part (RoPE's tables stay f32; RMSNorm
    reads an f32 weight under a narrower input). Result 0 then takes the
    compute type (compute rule) or operand 0's float type.
  }];
  let methods = [
    InterfaceMethod<"The op's autocast rule.", "::mind::AutocastRule",
                    "getAutocastRule", (ins), [{}],
                    [{ return ::mind::AutocastRule::Promote; }]>,
    InterfaceMethod<"How float operand `index` is treated.",
                    "::mind::AutocastOperand", "getAutocastOperand",
                    (ins "unsigned":$index), [{}],
                    [{ return ::mind::AutocastOperand::Cast; }]>,
  ];
}

#endif // MIND_DIALECT_MIND_IR_MINDINTERFACES_TD
