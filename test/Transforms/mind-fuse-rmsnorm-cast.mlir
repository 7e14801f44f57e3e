// RUN: mind-opt %s -split-input-file -mind-fuse-rmsnorm-cast | FileCheck %s

// An f32 norm whose every use casts it to bf16 stores bf16 itself: the two
// casts go, their users read the norm.
// CHECK-LABEL: func.func @fused(
// CHECK-NEXT: %[[N:.*]] = mind.rmsnorm %arg0, %arg1 {epsilon = 1.000000e-05 : f64} : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xbf16>
// CHECK-NEXT: %[[A:.*]] = mind.linear %[[N]], %arg2
// CHECK-NEXT: %[[B:.*]] = mind.linear %[[N]], %arg2
// CHECK-NEXT: return %[[A]], %[[B]]
func.func @fused(%x: tensor<2x4xf32>, %w: tensor<4xf32>, %p: tensor<3x4xbf16>)
    -> (tensor<2x3xbf16>, tensor<2x3xbf16>) {
  %n = mind.rmsnorm %x, %w {epsilon = 1.0e-05 : f64} : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %c1 = mind.cast %n : (tensor<2x4xf32>) -> tensor<2x4xbf16>
  %a = mind.linear %c1, %p : (tensor<2x4xbf16>, tensor<3x4xbf16>) -> tensor<2x3xbf16>
  %c2 = mind.cast %n : (tensor<2x4xf32>) -> tensor<2x4xbf16>
  %b = mind.linear %c2, %p : (tensor<2x4xbf16>, tensor<3x4xbf16>) -> tensor<2x3xbf16>
  return %a, %b : tensor<2x3xbf16>, tensor<2x3xbf16>
}

// -----

// Left alone: a use that is not a cast (the f32 value must exist), casts to
// two types, a widening cast, and a norm that is already narrow.
// CHECK-LABEL: func.func @kept(
// CHECK-NEXT: mind.rmsnorm {{.*}} -> tensor<2x4xf32>
// CHECK-NEXT: mind.cast {{.*}} -> tensor<2x4xbf16>
// CHECK-NEXT: mind.rmsnorm {{.*}} -> tensor<2x4xf32>
// CHECK-NEXT: mind.cast {{.*}} -> tensor<2x4xbf16>
// CHECK-NEXT: mind.cast {{.*}} -> tensor<2x4xf16>
// CHECK-NEXT: mind.rmsnorm {{.*}} -> tensor<2x4xf32>
// CHECK-NEXT: mind.cast {{.*}} -> tensor<2x4xf64>
// CHECK-NEXT: mind.rmsnorm {{.*}} -> tensor<2x4xf32>
// CHECK-NEXT: mind.rmsnorm {{.*}} -> tensor<2x4xbf16>
// CHECK-NEXT: mind.cast {{.*}} -> tensor<2x4xf32>
func.func @kept(%x: tensor<2x4xf32>, %w: tensor<4xf32>, %xb: tensor<2x4xbf16>, %wb: tensor<4xbf16>)
    -> (tensor<2x4xf32>, tensor<2x4xbf16>, tensor<2x4xbf16>, tensor<2x4xf16>, tensor<2x4xf64>, tensor<2x4xf32>) {
  %n1 = mind.rmsnorm %x, %w {epsilon = 1.0e-05 : f64} : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %c1 = mind.cast %n1 : (tensor<2x4xf32>) -> tensor<2x4xbf16>
  %n2 = mind.rmsnorm %x, %w {epsilon = 1.0e-05 : f64} : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %c2 = mind.cast %n2 : (tensor<2x4xf32>) -> tensor<2x4xbf16>
  %c3 = mind.cast %n2 : (tensor<2x4xf32>) -> tensor<2x4xf16>
  %n3 = mind.rmsnorm %x, %w {epsilon = 1.0e-05 : f64} : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %c4 = mind.cast %n3 : (tensor<2x4xf32>) -> tensor<2x4xf64>
  %n4 = mind.rmsnorm %x, %w {epsilon = 1.0e-05 : f64} : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %n5 = mind.rmsnorm %xb, %wb {epsilon = 1.0e-05 : f64} : (tensor<2x4xbf16>, tensor<4xbf16>) -> tensor<2x4xbf16>
  %c5 = mind.cast %n5 : (tensor<2x4xbf16>) -> tensor<2x4xf32>
  return %n1, %c1, %c2, %c3, %c4, %n4 : tensor<2x4xf32>, tensor<2x4xbf16>, tensor<2x4xbf16>, tensor<2x4xf16>, tensor<2x4xf64>, tensor<2x4xf32>
}

// -----

// The backward: the gradient reads a widened dy narrow (the cast goes when
// nothing else reads it; %dy2's cast has another use and stays). A
// narrowing cast before the gradient is not exact and stays.
// CHECK-LABEL: func.func @grad(
// CHECK-NEXT: %{{.*}}, %{{.*}} = mind.rmsnorm_grad %arg0, %arg1, %arg2 {{.*}} : (tensor<2x4xf32>, tensor<4xf32>, tensor<2x4xbf16>)
// CHECK-NEXT: %[[W2:.*]] = mind.cast %arg3 : (tensor<2x4xbf16>) -> tensor<2x4xf32>
// CHECK-NEXT: %{{.*}}, %{{.*}} = mind.rmsnorm_grad %arg0, %arg1, %arg3 {{.*}} : (tensor<2x4xf32>, tensor<4xf32>, tensor<2x4xbf16>)
// CHECK-NEXT: %[[N:.*]] = mind.cast %arg4 : (tensor<2x4xf64>) -> tensor<2x4xf32>
// CHECK-NEXT: mind.rmsnorm_grad %arg0, %arg1, %[[N]]
// CHECK-NEXT: return %{{.*}}, %{{.*}}, %[[W2]],
func.func @grad(%x: tensor<2x4xf32>, %w: tensor<4xf32>, %dy: tensor<2x4xbf16>, %dy2: tensor<2x4xbf16>,
                %dy3: tensor<2x4xf64>)
    -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>) {
  %c = mind.cast %dy : (tensor<2x4xbf16>) -> tensor<2x4xf32>
  %dx, %dw = mind.rmsnorm_grad %x, %w, %c {epsilon = 1.0e-05 : f64} : (tensor<2x4xf32>, tensor<4xf32>, tensor<2x4xf32>) -> (tensor<2x4xf32>, tensor<4xf32>)
  %c2 = mind.cast %dy2 : (tensor<2x4xbf16>) -> tensor<2x4xf32>
  %dx2, %dw2 = mind.rmsnorm_grad %x, %w, %c2 {epsilon = 1.0e-05 : f64} : (tensor<2x4xf32>, tensor<4xf32>, tensor<2x4xf32>) -> (tensor<2x4xf32>, tensor<4xf32>)
  %c3 = mind.cast %dy3 : (tensor<2x4xf64>) -> tensor<2x4xf32>
  %dx3, %dw3 = mind.rmsnorm_grad %x, %w, %c3 {epsilon = 1.0e-05 : f64} : (tensor<2x4xf32>, tensor<4xf32>, tensor<2x4xf32>) -> (tensor<2x4xf32>, tensor<4xf32>)
  return %dx, %dx2, %c2, %dx3 : tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>
}
