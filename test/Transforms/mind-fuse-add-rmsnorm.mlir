// RUN: mind-opt %s -split-input-file -mind-fuse-add-rmsnorm | FileCheck %s

// The residual update read by the next norm: one add_rmsnorm at the norm,
// reading the bf16 projection output narrow; the sum is the next residual.
// CHECK-LABEL: func.func @forward(
// CHECK-NEXT: %[[S:.*]], %[[Y:.*]] = mind.add_rmsnorm %arg0, %arg1, %arg2 {epsilon = 1.000000e-05 : f64} : (tensor<2x4xf32>, tensor<2x4xbf16>, tensor<4xf32>) -> (tensor<2x4xf32>, tensor<2x4xbf16>)
// CHECK-NEXT: %[[N:.*]] = mind.add %[[S]], %[[S]]
// CHECK-NEXT: return %[[Y]], %[[N]]
func.func @forward(%res: tensor<2x4xf32>, %o: tensor<2x4xbf16>, %w: tensor<4xf32>)
    -> (tensor<2x4xbf16>, tensor<2x4xf32>) {
  %c = mind.cast %o : (tensor<2x4xbf16>) -> tensor<2x4xf32>
  %h = mind.add %c, %res : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %y = mind.rmsnorm %h, %w {epsilon = 1.0e-05 : f64} : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xbf16>
  %n = mind.add %h, %h : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  return %y, %n : tensor<2x4xbf16>, tensor<2x4xf32>
}

// -----

// Left alone: the sum read before the norm (the fused op would come too
// late), a norm of something else, an add marked as a gradient sink.
// CHECK-LABEL: func.func @forward_kept(
// CHECK-NEXT: mind.add
// CHECK-NEXT: mind.mul
// CHECK-NEXT: mind.rmsnorm
// CHECK-NEXT: mind.rmsnorm %arg0
// CHECK-NEXT: mind.add {{.*}}mind.gradient_sink
// CHECK-NEXT: mind.rmsnorm
func.func @forward_kept(%a: tensor<2x4xf32>, %b: tensor<2x4xf32>, %w: tensor<4xf32>)
    -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>) {
  %h = mind.add %a, %b : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %m = mind.mul %h, %h : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %y = mind.rmsnorm %h, %w {epsilon = 1.0e-05 : f64} : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %z = mind.rmsnorm %a, %w {epsilon = 1.0e-05 : f64} : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %s = mind.add %a, %b {mind.gradient_sink = "w"} : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %v = mind.rmsnorm %s, %w {epsilon = 1.0e-05 : f64} : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  return %m, %y, %z, %v : tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>
}

// -----

// The backward: dx added to the residual gradient; the sum's bf16 casts
// become the op's narrow result (both go), the f16 one stays.
// CHECK-LABEL: func.func @backward(
// CHECK-NEXT: %[[S:.*]], %[[DW:.*]], %[[N:.*]] = mind.rmsnorm_grad_residual %arg0, %arg1, %arg2, %arg3 {epsilon = 1.000000e-05 : f64} : (tensor<2x4xf32>, tensor<4xf32>, tensor<2x4xbf16>, tensor<2x4xf32>) -> (tensor<2x4xf32>, tensor<4xf32>, tensor<2x4xbf16>)
// CHECK-NEXT: %[[H:.*]] = mind.cast %[[S]] : (tensor<2x4xf32>) -> tensor<2x4xf16>
// CHECK-NEXT: return %[[S]], %[[DW]], %[[N]], %[[N]], %[[H]]
func.func @backward(%x: tensor<2x4xf32>, %w: tensor<4xf32>, %dy: tensor<2x4xbf16>, %dr: tensor<2x4xf32>)
    -> (tensor<2x4xf32>, tensor<4xf32>, tensor<2x4xbf16>, tensor<2x4xbf16>, tensor<2x4xf16>) {
  %dx, %dw = mind.rmsnorm_grad %x, %w, %dy {epsilon = 1.0e-05 : f64} : (tensor<2x4xf32>, tensor<4xf32>, tensor<2x4xbf16>) -> (tensor<2x4xf32>, tensor<4xf32>)
  %s = mind.add %dr, %dx : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %b1 = mind.cast %s : (tensor<2x4xf32>) -> tensor<2x4xbf16>
  %b2 = mind.cast %s : (tensor<2x4xf32>) -> tensor<2x4xbf16>
  %h = mind.cast %s : (tensor<2x4xf32>) -> tensor<2x4xf16>
  return %s, %dw, %b1, %b2, %h : tensor<2x4xf32>, tensor<4xf32>, tensor<2x4xbf16>, tensor<2x4xbf16>, tensor<2x4xf16>
}

// -----

// Without a narrowing cast the op has no narrow result. Left alone: dx
// read by something else too, and dx added to itself.
// CHECK-LABEL: func.func @backward_plain(
// CHECK-NEXT: %[[S:.*]], %[[DW:.*]] = mind.rmsnorm_grad_residual %arg0, %arg1, %arg2, %arg3 {{.*}} -> (tensor<2x4xf32>, tensor<4xf32>)
// CHECK-NEXT: %[[DX2:.*]], %{{.*}} = mind.rmsnorm_grad
// CHECK-NEXT: mind.add %[[DX2]], %arg3
// CHECK-NEXT: %[[DX3:.*]], %{{.*}} = mind.rmsnorm_grad
// CHECK-NEXT: mind.add %[[DX3]], %[[DX3]]
func.func @backward_plain(%x: tensor<2x4xf32>, %w: tensor<4xf32>, %dy: tensor<2x4xf32>, %dr: tensor<2x4xf32>)
    -> (tensor<2x4xf32>, tensor<4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>) {
  %dx, %dw = mind.rmsnorm_grad %x, %w, %dy {epsilon = 1.0e-05 : f64} : (tensor<2x4xf32>, tensor<4xf32>, tensor<2x4xf32>) -> (tensor<2x4xf32>, tensor<4xf32>)
  %s = mind.add %dx, %dr : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %dx2, %dw2 = mind.rmsnorm_grad %x, %w, %dy {epsilon = 1.0e-05 : f64} : (tensor<2x4xf32>, tensor<4xf32>, tensor<2x4xf32>) -> (tensor<2x4xf32>, tensor<4xf32>)
  %s2 = mind.add %dx2, %dr : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %dx3, %dw3 = mind.rmsnorm_grad %x, %w, %dy {epsilon = 1.0e-05 : f64} : (tensor<2x4xf32>, tensor<4xf32>, tensor<2x4xf32>) -> (tensor<2x4xf32>, tensor<4xf32>)
  %s3 = mind.add %dx3, %dx3 : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  return %s, %dw, %s2, %dx2, %s3 : tensor<2x4xf32>, tensor<4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>
}
