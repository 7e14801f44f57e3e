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

#endif // MIND_DIALECT_MIND_IR_MINDINTERFACES_TD
