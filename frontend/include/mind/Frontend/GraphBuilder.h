//===- GraphBuilder.h - C++ API for writing mind graphs ---------*- C++ -*-===//
//
// A thin layer over OpBuilder: each method creates one `mind` op and infers
// its result type, so model code reads like the PyTorch it mirrors.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_FRONTEND_GRAPHBUILDER_H
#define MIND_FRONTEND_GRAPHBUILDER_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Value.h"

#include <optional>
#include <utility>

namespace mind {

struct RopeScaling;

class GraphBuilder {
public:
  /// `floatType` is the element type of the activations the builder creates
  /// (f32 unless a model is written directly in another precision).
  GraphBuilder(mlir::OpBuilder &builder, mlir::Location loc,
               mlir::Type floatType);

  mlir::OpBuilder &builder() { return b; }
  mlir::Type floatType() const { return fType; }
  mlir::RankedTensorType tensorType(llvm::ArrayRef<int64_t> shape,
                                    mlir::Type elementType = {}) const;

  // Dense layers.
  mlir::Value embedding(mlir::Value table, mlir::Value ids);
  mlir::Value linear(mlir::Value input, mlir::Value weight);
  mlir::Value matmul(mlir::Value lhs, mlir::Value rhs, bool transposeLhs,
                     bool transposeRhs);
  mlir::Value rmsnorm(mlir::Value input, mlir::Value weight, double epsilon);

  // Attention.
  /// cos/sin tables [seqLen, headDim]; `scaling` enables YaRN.
  std::pair<mlir::Value, mlir::Value>
  ropeTable(int64_t seqLen, int64_t headDim, double theta,
            int64_t maxPositions, const std::optional<RopeScaling> &scaling);
  mlir::Value rope(mlir::Value input, mlir::Value cos, mlir::Value sin);
  /// Returns the attention output; the lse result stays in the IR for the
  /// backward.
  mlir::Value attention(mlir::Value query, mlir::Value key, mlir::Value value,
                        double scale, bool causal = true);

  // Elementwise.
  mlir::Value add(mlir::Value lhs, mlir::Value rhs);
  mlir::Value mul(mlir::Value lhs, mlir::Value rhs);
  mlir::Value silu(mlir::Value input);
  mlir::Value swiglu(mlir::Value gate, mlir::Value up);
  mlir::Value softmax(mlir::Value input);

  // Loss.
  mlir::Value crossEntropy(mlir::Value logits, mlir::Value targets,
                           mlir::Value mask);

  // Mixture of experts.
  /// Returns (weights, indices).
  std::pair<mlir::Value, mlir::Value> topk(mlir::Value scores, int64_t k,
                                           bool normalize);
  /// Returns (perm, offsets).
  std::pair<mlir::Value, mlir::Value> moeRoute(mlir::Value indices,
                                               int64_t numExperts);
  mlir::Value moeDispatch(mlir::Value input, mlir::Value perm, int64_t topK);
  mlir::Value groupedLinear(mlir::Value input, mlir::Value offsets,
                            mlir::ValueRange weights);
  mlir::Value moeCombine(mlir::Value input, mlir::Value perm,
                         mlir::Value weights);
  mlir::Value moeAuxLoss(mlir::Value scores, mlir::Value indices,
                         double alpha, bool seqAux, int64_t batch);

  // Shape and type.
  mlir::Value reshape(mlir::Value input, llvm::ArrayRef<int64_t> shape);
  mlir::Value transpose(mlir::Value input, llvm::ArrayRef<int64_t> perm);
  mlir::Value cast(mlir::Value input, mlir::Type elementType);
  mlir::Value fill(llvm::ArrayRef<int64_t> shape, double value,
                   mlir::Type elementType = {});

private:
  mlir::OpBuilder &b;
  mlir::Location loc;
  mlir::Type fType;
};

} // namespace mind

#endif // MIND_FRONTEND_GRAPHBUILDER_H
