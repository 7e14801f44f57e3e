// RUN: mind-opt %s -split-input-file -mind-fuse-loss-cast | FileCheck %s

// The loss and its gradient read the bf16 logits; the gradient, narrowed by
// its only user, stores bf16 itself. Both casts go.
// CHECK-LABEL: func.func @fused(
// CHECK-NEXT: %[[L:.*]] = mind.cross_entropy %arg0, %arg1, %arg2 : (tensor<2x3x8xbf16>, tensor<2x3xi64>, tensor<2x3xi64>) -> tensor<f32>
// CHECK-NEXT: %[[G:.*]] = mind.cross_entropy_grad %arg0, %arg1, %arg2, %arg3 : (tensor<2x3x8xbf16>, tensor<2x3xi64>, tensor<2x3xi64>, tensor<f32>) -> tensor<2x3x8xbf16>
// CHECK-NEXT: return %[[L]], %[[G]]
func.func @fused(%logits: tensor<2x3x8xbf16>, %t: tensor<2x3xi64>, %m: tensor<2x3xi64>, %g: tensor<f32>)
    -> (tensor<f32>, tensor<2x3x8xbf16>) {
  %w = mind.cast %logits : (tensor<2x3x8xbf16>) -> tensor<2x3x8xf32>
  %l = mind.cross_entropy %w, %t, %m : (tensor<2x3x8xf32>, tensor<2x3xi64>, tensor<2x3xi64>) -> tensor<f32>
  %d = mind.cross_entropy_grad %w, %t, %m, %g : (tensor<2x3x8xf32>, tensor<2x3xi64>, tensor<2x3xi64>, tensor<f32>) -> tensor<2x3x8xf32>
  %n = mind.cast %d : (tensor<2x3x8xf32>) -> tensor<2x3x8xbf16>
  return %l, %n : tensor<f32>, tensor<2x3x8xbf16>
}

// -----

// The gradient stays f32 when a user reads it wide; the loss still reads
// narrow, and the widening cast stays for the gradient.
// CHECK-LABEL: func.func @wide_grad_use(
// CHECK-NEXT: %[[W:.*]] = mind.cast %arg0 : (tensor<2x8xbf16>) -> tensor<2x8xf32>
// CHECK-NEXT: mind.cross_entropy %arg0,
// CHECK-NEXT: %[[G:.*]] = mind.cross_entropy_grad %[[W]], {{.*}} -> tensor<2x8xf32>
// CHECK-NEXT: mind.cast %[[G]] : (tensor<2x8xf32>) -> tensor<2x8xbf16>
func.func @wide_grad_use(%logits: tensor<2x8xbf16>, %t: tensor<2xi64>, %m: tensor<2xi64>, %g: tensor<f32>)
    -> (tensor<f32>, tensor<2x8xbf16>, tensor<2x8xf32>) {
  %w = mind.cast %logits : (tensor<2x8xbf16>) -> tensor<2x8xf32>
  %l = mind.cross_entropy %w, %t, %m : (tensor<2x8xf32>, tensor<2xi64>, tensor<2xi64>) -> tensor<f32>
  %d = mind.cross_entropy_grad %w, %t, %m, %g : (tensor<2x8xf32>, tensor<2xi64>, tensor<2xi64>, tensor<f32>) -> tensor<2x8xf32>
  %n = mind.cast %d : (tensor<2x8xf32>) -> tensor<2x8xbf16>
  return %l, %n, %d : tensor<f32>, tensor<2x8xbf16>, tensor<2x8xf32>
}

// -----

// Left alone: f32 logits that are not a cast, a narrowing cast before the
// loss (not exact), a gradient narrowed to another type than the logits
// came from, and a widening cast marked as a gradient sink.
// CHECK-LABEL: func.func @kept(
// CHECK-NEXT: mind.cross_entropy %arg0,
// CHECK-NEXT: %[[N:.*]] = mind.cast %arg0 : (tensor<2x8xf32>) -> tensor<2x8xbf16>
// CHECK-NEXT: mind.cross_entropy %[[N]],
// CHECK-NEXT: %[[W:.*]] = mind.cast %arg1 : (tensor<2x8xbf16>) -> tensor<2x8xf32>
// CHECK-NEXT: %[[G:.*]] = mind.cross_entropy_grad %[[W]], {{.*}} -> tensor<2x8xf32>
// CHECK-NEXT: mind.cast %[[G]] : (tensor<2x8xf32>) -> tensor<2x8xf16>
// CHECK-NEXT: %[[S:.*]] = mind.cast %arg1 {mind.gradient_sink} : (tensor<2x8xbf16>) -> tensor<2x8xf32>
// CHECK-NEXT: mind.cross_entropy %[[S]],
func.func @kept(%f: tensor<2x8xf32>, %b: tensor<2x8xbf16>, %t: tensor<2xi64>, %m: tensor<2xi64>, %g: tensor<f32>)
    -> (tensor<f32>, tensor<f32>, tensor<2x8xf16>, tensor<f32>) {
  %l1 = mind.cross_entropy %f, %t, %m : (tensor<2x8xf32>, tensor<2xi64>, tensor<2xi64>) -> tensor<f32>
  %n = mind.cast %f : (tensor<2x8xf32>) -> tensor<2x8xbf16>
  %l2 = mind.cross_entropy %n, %t, %m : (tensor<2x8xbf16>, tensor<2xi64>, tensor<2xi64>) -> tensor<f32>
  %w = mind.cast %b : (tensor<2x8xbf16>) -> tensor<2x8xf32>
  %d = mind.cross_entropy_grad %w, %t, %m, %g : (tensor<2x8xf32>, tensor<2xi64>, tensor<2xi64>, tensor<f32>) -> tensor<2x8xf32>
  %h = mind.cast %d : (tensor<2x8xf32>) -> tensor<2x8xf16>
  %s = mind.cast %b {mind.gradient_sink} : (tensor<2x8xbf16>) -> tensor<2x8xf32>
  %l3 = mind.cross_entropy %s, %t, %m : (tensor<2x8xf32>, tensor<2xi64>, tensor<2xi64>) -> tensor<f32>
  return %l1, %l2, %h, %l3 : tensor<f32>, tensor<f32>, tensor<2x8xf16>, tensor<f32>
}
