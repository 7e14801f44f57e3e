// RUN: mind-opt %s -split-input-file -mind-precision | FileCheck %s
// RUN: mind-opt %s -split-input-file -mind-precision=dtype=f32 | FileCheck %s --check-prefix=F32
// RUN: mind-opt %s -split-input-file -mind-precision=dtype=f16 | FileCheck %s --check-prefix=F16

// Matrix ops compute in bf16 from f32 master weights (one cast per weight,
// shared by its uses); the residual add promotes back to f32; the loss is f32.

// CHECK-LABEL: func.func @forward
// CHECK-SAME:    (%[[X:.*]]: tensor<2x4xf32>, %[[W:.*]]: tensor<4x4xf32> {mind.param = "w"}
// CHECK:         %[[WB:.*]] = mind.cast %[[W]] : (tensor<4x4xf32>) -> tensor<4x4xbf16>
// CHECK:         %[[XB:.*]] = mind.cast %[[X]] : (tensor<2x4xf32>) -> tensor<2x4xbf16>
// CHECK:         %[[Y:.*]] = mind.linear %[[XB]], %[[WB]] : (tensor<2x4xbf16>, tensor<4x4xbf16>) -> tensor<2x4xbf16>
// CHECK:         %[[Z:.*]] = mind.linear %[[Y]], %[[WB]] : (tensor<2x4xbf16>, tensor<4x4xbf16>) -> tensor<2x4xbf16>
// CHECK:         %[[ZF:.*]] = mind.cast %[[Z]] : (tensor<2x4xbf16>) -> tensor<2x4xf32>
// CHECK:         %[[H:.*]] = mind.add %[[X]], %[[ZF]] : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
// CHECK:         %[[S:.*]] = mind.softmax %[[H]] : (tensor<2x4xf32>) -> tensor<2x4xf32>
// CHECK:         mind.cross_entropy %[[S]], {{.*}} -> tensor<f32>

// F32-NOT: mind.cast
// F16: mind.linear {{.*}} -> tensor<2x4xf16>
func.func @forward(%x: tensor<2x4xf32>, %w: tensor<4x4xf32> {mind.param = "w"},
                   %t: tensor<2xi64>, %m: tensor<2xi64>) -> tensor<f32> {
  %y = mind.linear %x, %w : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
  %z = mind.linear %y, %w : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
  %h = mind.add %x, %z : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %s = mind.softmax %h : (tensor<2x4xf32>) -> tensor<2x4xf32>
  %l = mind.cross_entropy %s, %t, %m : (tensor<2x4xf32>, tensor<2xi64>, tensor<2xi64>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// Attention reads bf16 q/k/v and keeps its lse in f32; RoPE keeps its f32
// tables under a bf16 input.

// CHECK-LABEL: func.func @forward
// CHECK:         mind.rope %{{.*}}, %{{.*}}, %{{.*}} : (tensor<1x2x2x4xbf16>, tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<1x2x2x4xbf16>
// CHECK:         mind.attention {{.*}} : (tensor<1x2x2x4xbf16>, tensor<1x2x2x4xbf16>, tensor<1x2x2x4xbf16>) -> (tensor<1x2x2x4xbf16>, tensor<1x2x2xf32>)
func.func @forward(%x: tensor<1x2x8xf32>, %wq: tensor<8x8xf32> {mind.param = "wq"},
                   %t: tensor<1x2x2xi64>, %m: tensor<1x2x2xi64>) -> tensor<f32> {
  %cos, %sin = mind.rope_table {theta = 1.0e+04 : f64, max_positions = 8 : i64} : () -> (tensor<2x4xf32>, tensor<2x4xf32>)
  %q = mind.linear %x, %wq : (tensor<1x2x8xf32>, tensor<8x8xf32>) -> tensor<1x2x8xf32>
  %q4 = mind.reshape %q : (tensor<1x2x8xf32>) -> tensor<1x2x2x4xf32>
  %qr = mind.rope %q4, %cos, %sin : (tensor<1x2x2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<1x2x2x4xf32>
  %o, %lse = mind.attention %qr, %qr, %qr {scale = 0.5 : f64} : (tensor<1x2x2x4xf32>, tensor<1x2x2x4xf32>, tensor<1x2x2x4xf32>) -> (tensor<1x2x2x4xf32>, tensor<1x2x2xf32>)
  %l = mind.cross_entropy %o, %t, %m : (tensor<1x2x2x4xf32>, tensor<1x2x2xi64>, tensor<1x2x2xi64>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// Ops without an autocast rule (gradient ops, the return) keep their types:
// a value the pass narrowed is cast back for them, so the IR verifies and
// the signature is unchanged.
// CHECK-LABEL: func.func @forward
// CHECK:         %[[Y:.*]] = mind.linear {{.*}} -> tensor<2x4xbf16>
// CHECK:         %[[YF:.*]] = mind.cast %[[Y]] : (tensor<2x4xbf16>) -> tensor<2x4xf32>
// CHECK:         mind.silu_grad %[[YF]], %[[YF]] : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
// CHECK:         return %{{.*}}, %[[YF]] : tensor<f32>, tensor<2x4xf32>
func.func @forward(%x: tensor<2x4xf32>, %w: tensor<4x4xf32> {mind.param = "w"},
                   %t: tensor<2xi64>, %m: tensor<2xi64>) -> (tensor<f32>, tensor<2x4xf32>) {
  %y = mind.linear %x, %w : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
  %g = mind.silu_grad %y, %y : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %l = mind.cross_entropy %g, %t, %m : (tensor<2x4xf32>, tensor<2xi64>, tensor<2xi64>) -> tensor<f32>
  return %l, %y : tensor<f32>, tensor<2x4xf32>
}
