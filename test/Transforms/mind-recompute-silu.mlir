// RUN: mind-opt %s -split-input-file -mind-recompute-silu | FileCheck %s

// SwiGLU's pattern: silu(gate) read by the forward's mul and, later, by the
// backward's; gate is read later still (silu_grad). The backward's use gets
// its own silu right before it; the original serves the forward only.
// CHECK-LABEL: func.func @swiglu(
// CHECK-NEXT: %[[S:.*]] = mind.silu %arg0
// CHECK-NEXT: %[[H:.*]] = mind.mul %[[S]], %arg1
// CHECK-NEXT: %[[R:.*]] = mind.silu %arg0
// CHECK-NEXT: %[[DU:.*]] = mind.mul %arg2, %[[R]]
// CHECK-NEXT: %[[M:.*]] = mind.mul %arg2, %arg1
// CHECK-NEXT: mind.silu_grad %arg0, %[[M]]
func.func @swiglu(%g: tensor<2x8xbf16>, %u: tensor<2x8xbf16>, %dh: tensor<2x8xbf16>)
    -> (tensor<2x8xbf16>, tensor<2x8xbf16>, tensor<2x8xbf16>) {
  %s = mind.silu %g : (tensor<2x8xbf16>) -> tensor<2x8xbf16>
  %h = mind.mul %s, %u : (tensor<2x8xbf16>, tensor<2x8xbf16>) -> tensor<2x8xbf16>
  %du = mind.mul %dh, %s : (tensor<2x8xbf16>, tensor<2x8xbf16>) -> tensor<2x8xbf16>
  %m = mind.mul %dh, %u : (tensor<2x8xbf16>, tensor<2x8xbf16>) -> tensor<2x8xbf16>
  %dg = mind.silu_grad %g, %m : (tensor<2x8xbf16>, tensor<2x8xbf16>) -> tensor<2x8xbf16>
  return %h, %du, %dg : tensor<2x8xbf16>, tensor<2x8xbf16>, tensor<2x8xbf16>
}

// -----

// Left alone: the input's last reader comes before the later use (the
// stored value is what keeps the later use from extending the input's
// life), a silu with one use, and one with none.
// CHECK-LABEL: func.func @kept(
// CHECK-NEXT: %[[S:.*]] = mind.silu %arg0
// CHECK-NEXT: mind.mul %[[S]], %arg1
// CHECK-NEXT: mind.mul %arg1, %[[S]]
// CHECK-NEXT: mind.silu %arg1
// CHECK-NEXT: mind.silu %arg1
// CHECK-NEXT: return
func.func @kept(%g: tensor<2x8xbf16>, %u: tensor<2x8xbf16>)
    -> (tensor<2x8xbf16>, tensor<2x8xbf16>, tensor<2x8xbf16>) {
  %s = mind.silu %g : (tensor<2x8xbf16>) -> tensor<2x8xbf16>
  %h = mind.mul %s, %u : (tensor<2x8xbf16>, tensor<2x8xbf16>) -> tensor<2x8xbf16>
  %late = mind.mul %u, %s : (tensor<2x8xbf16>, tensor<2x8xbf16>) -> tensor<2x8xbf16>
  %one = mind.silu %u : (tensor<2x8xbf16>) -> tensor<2x8xbf16>
  %dead = mind.silu %u : (tensor<2x8xbf16>) -> tensor<2x8xbf16>
  return %h, %late, %one : tensor<2x8xbf16>, tensor<2x8xbf16>, tensor<2x8xbf16>
}
