// RUN: mind-opt %s -split-input-file -mind-mark-gradient-sinks | FileCheck %s

// A returned sum of gradients: the adds are sinks, the f32 GEMM and the
// embedding gradient write into the accumulator of "emb", and the cast of a
// single-use bf16 GEMM is a sink whose GEMM writes f32 itself.

// CHECK-LABEL: func.func @train_step
// CHECK:         mind.matmul %{{.*}} {mind.accumulate_into = ["emb"], transpose_lhs = true} : {{.*}} -> tensor<8x4xbf16>
// CHECK-NEXT:    mind.cast %{{.*}} {mind.gradient_sink = "emb"}
// CHECK-NEXT:    mind.matmul %{{.*}} {mind.accumulate_into = ["emb"], transpose_lhs = true} : {{.*}} -> tensor<8x4xf32>
// CHECK-NEXT:    mind.embedding_grad {{.*}}mind.accumulate_into = ["emb"]
// CHECK-NEXT:    mind.add %{{.*}} {mind.gradient_sink = "emb"}
// CHECK-NEXT:    mind.add %{{.*}} {mind.gradient_sink = "emb"}
// CHECK-NEXT:    return
func.func @train_step(%e: tensor<8x4xf32> {mind.param = "emb"},
                      %a: tensor<2x8xbf16> {mind.input = "a"},
                      %b: tensor<2x4xbf16> {mind.input = "b"},
                      %c: tensor<2x8xf32> {mind.input = "c"},
                      %d: tensor<2x4xf32> {mind.input = "d"},
                      %ids: tensor<2xi64> {mind.input = "ids"})
    -> (tensor<8x4xf32> {mind.grad = "emb"}) {
  %m1 = mind.matmul %a, %b {transpose_lhs = true} : (tensor<2x8xbf16>, tensor<2x4xbf16>) -> tensor<8x4xbf16>
  %c1 = mind.cast %m1 : (tensor<8x4xbf16>) -> tensor<8x4xf32>
  %m2 = mind.matmul %c, %d {transpose_lhs = true} : (tensor<2x8xf32>, tensor<2x4xf32>) -> tensor<8x4xf32>
  %g = mind.embedding_grad %d, %ids {vocab_size = 8 : i64} : (tensor<2x4xf32>, tensor<2xi64>) -> tensor<8x4xf32>
  %s1 = mind.add %c1, %m2 : (tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<8x4xf32>
  %s2 = mind.add %s1, %g : (tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<8x4xf32>
  return %s2 : tensor<8x4xf32>
}

// -----

// Only single-use values are followed: a product that is also returned as a
// loss, a bf16 GEMM used twice and an add of a value with itself stay
// unmarked (the lowering adds them with an accumulate kernel); so does a
// bf16 producer without a cast (it cannot write the f32 accumulator).

// CHECK-LABEL: func.func @train_step
// CHECK-NOT:     mind.accumulate_into
// CHECK-NOT:     mind.gradient_sink
// CHECK:         return
func.func @train_step(%w: tensor<4x4xf32> {mind.param = "w"},
                      %v: tensor<4x4xf32> {mind.param = "v"},
                      %u: tensor<4x4xf32> {mind.param = "u"},
                      %a: tensor<4x4xbf16> {mind.input = "a"},
                      %c: tensor<4x4xf32> {mind.input = "c"})
    -> (tensor<4x4xf32>, tensor<4x4xf32> {mind.grad = "w"},
        tensor<4x4xf32> {mind.grad = "v"}, tensor<4x4xbf16> {mind.grad = "u"}) {
  %m = mind.matmul %c, %c : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %b = mind.matmul %a, %a : (tensor<4x4xbf16>, tensor<4x4xbf16>) -> tensor<4x4xbf16>
  %bf = mind.cast %b : (tensor<4x4xbf16>) -> tensor<4x4xf32>
  %bx = mind.mul %bf, %bf : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %s = mind.add %bx, %bx : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %ub = mind.matmul %a, %a : (tensor<4x4xbf16>, tensor<4x4xbf16>) -> tensor<4x4xbf16>
  return %m, %m, %s, %ub : tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xbf16>
}

// -----

// RMSNorm's weight gradient is a producer, its input gradient is not.

// CHECK-LABEL: func.func @train_step
// CHECK:         mind.rmsnorm_grad {{.*}}mind.accumulate_into = ["", "g"]
func.func @train_step(%g: tensor<4xf32> {mind.param = "g"},
                      %x: tensor<2x4xf32> {mind.input = "x"},
                      %dy: tensor<2x4xf32> {mind.input = "dy"})
    -> (tensor<2x4xf32>, tensor<4xf32> {mind.grad = "g"}) {
  %dx, %dw = mind.rmsnorm_grad %x, %g, %dy {epsilon = 1.0e-05 : f64} : (tensor<2x4xf32>, tensor<4xf32>, tensor<2x4xf32>) -> (tensor<2x4xf32>, tensor<4xf32>)
  return %dx, %dw : tensor<2x4xf32>, tensor<4xf32>
}

// -----

// So is the weight gradient of the norm fused with the residual gradient's
// add (mind-fuse-add-rmsnorm).

// CHECK-LABEL: func.func @train_step
// CHECK:         mind.rmsnorm_grad_residual {{.*}}mind.accumulate_into = ["", "g", ""]
func.func @train_step(%g: tensor<4xf32> {mind.param = "g"},
                      %x: tensor<2x4xf32> {mind.input = "x"},
                      %dy: tensor<2x4xbf16> {mind.input = "dy"},
                      %dr: tensor<2x4xf32> {mind.input = "dr"})
    -> (tensor<2x4xf32>, tensor<4xf32> {mind.grad = "g"}, tensor<2x4xbf16>) {
  %dx, %dw, %n = mind.rmsnorm_grad_residual %x, %g, %dy, %dr {epsilon = 1.0e-05 : f64} : (tensor<2x4xf32>, tensor<4xf32>, tensor<2x4xbf16>, tensor<2x4xf32>) -> (tensor<2x4xf32>, tensor<4xf32>, tensor<2x4xbf16>)
  return %dx, %dw, %n : tensor<2x4xf32>, tensor<4xf32>, tensor<2x4xbf16>
}
