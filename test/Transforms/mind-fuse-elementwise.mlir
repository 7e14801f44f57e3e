// RUN: mind-opt %s -split-input-file -mind-fuse-elementwise | FileCheck %s

// SwiGLU: silu has one use, in the mul: both become one region, and the
// intermediate disappears.

// CHECK-LABEL: func.func @swiglu
// CHECK-SAME:    (%[[G:.*]]: tensor<2x8xbf16>, %[[U:.*]]: tensor<2x8xbf16>)
// CHECK:         %[[F:.*]] = mind.fused_elementwise %[[G]], %[[U]] : (tensor<2x8xbf16>, tensor<2x8xbf16>) -> tensor<2x8xbf16> {
// CHECK-NEXT:    ^bb0(%[[X:.*]]: tensor<2x8xbf16>, %[[Y:.*]]: tensor<2x8xbf16>):
// CHECK-NEXT:      %[[S:.*]] = mind.silu %[[X]]
// CHECK-NEXT:      %[[P:.*]] = mind.mul %[[S]], %[[Y]]
// CHECK-NEXT:      mind.yield %[[P]] : tensor<2x8xbf16>
// CHECK-NEXT:    }
// CHECK-NEXT:    %[[L:.*]] = mind.linear %[[F]]
func.func @swiglu(%g: tensor<2x8xbf16>, %u: tensor<2x8xbf16>) -> tensor<2x2xbf16> {
  %s = mind.silu %g : (tensor<2x8xbf16>) -> tensor<2x8xbf16>
  %p = mind.mul %s, %u : (tensor<2x8xbf16>, tensor<2x8xbf16>) -> tensor<2x8xbf16>
  %l = mind.linear %p, %g : (tensor<2x8xbf16>, tensor<2x8xbf16>) -> tensor<2x2xbf16>
  return %l : tensor<2x2xbf16>
}

// -----

// The residual update: a GEMM output cast to f32 and added to the stream,
// with the cast of the stream for the next GEMM in the same kernel (%c is
// read after the root, so it becomes a second result); an op whose result
// is returned is never fused.

// CHECK-LABEL: func.func @residual
// CHECK:         %[[F:.*]]:2 = mind.fused_elementwise %{{.*}}, %{{.*}} : (tensor<2x4xf32>, tensor<2x4xbf16>) -> (tensor<2x4xbf16>, tensor<2x4xf32>) {
// CHECK:           %[[C:.*]] = mind.cast {{.*}} -> tensor<2x4xbf16>
// CHECK-NEXT:      mind.mul
// CHECK-NEXT:      mind.cast {{.*}} -> tensor<2x4xf32>
// CHECK-NEXT:      %[[A:.*]] = mind.add
// CHECK-NEXT:      mind.yield %[[C]], %[[A]]
// CHECK:         %[[B:.*]] = mind.cast %[[F]]#1 : (tensor<2x4xf32>) -> tensor<2x4xbf16>
// CHECK-NEXT:    %[[L:.*]] = mind.linear %[[F]]#0
// CHECK-NEXT:    return %[[B]], %[[L]]
func.func @residual(%h: tensor<2x4xf32>, %p: tensor<2x4xbf16>, %w: tensor<4x4xbf16>)
    -> (tensor<2x4xbf16>, tensor<2x4xbf16>) {
  %c = mind.cast %h : (tensor<2x4xf32>) -> tensor<2x4xbf16>
  %m = mind.mul %p, %c : (tensor<2x4xbf16>, tensor<2x4xbf16>) -> tensor<2x4xbf16>
  %mf = mind.cast %m : (tensor<2x4xbf16>) -> tensor<2x4xf32>
  %a = mind.add %mf, %h : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %b = mind.cast %a : (tensor<2x4xf32>) -> tensor<2x4xbf16>
  %l = mind.linear %c, %w : (tensor<2x4xbf16>, tensor<4x4xbf16>) -> tensor<2x4xbf16>
  return %b, %l : tensor<2x4xbf16>, tensor<2x4xbf16>
}

// -----

// Gradient sinks stay as they are: ops mind-mark-gradient-sinks marked are
// never materialized (the GEMM adds into the gradient accumulator itself),
// so fusion leaves them out; the lone mul left over is not a group.

// CHECK-LABEL: func.func @sink_marked
// CHECK-NOT:     mind.fused_elementwise
// CHECK:         return
func.func @sink_marked(%a: tensor<4x4xbf16>, %b: tensor<4x4xbf16>,
                       %x: tensor<4x4xf32>, %q: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %mm = mind.matmul %a, %b {mind.accumulate_into = ["w"]} : (tensor<4x4xbf16>, tensor<4x4xbf16>) -> tensor<4x4xbf16>
  %mf = mind.cast %mm {mind.gradient_sink = "w"} : (tensor<4x4xbf16>) -> tensor<4x4xf32>
  %p = mind.mul %x, %x : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %s = mind.add %mf, %p {mind.gradient_sink = "w"} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %t = mind.add %s, %q {mind.gradient_sink = "w"} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  return %t : tensor<4x4xf32>
}

// -----

// The same ops unmarked are ordinary elementwise ops: the inner add absorbs
// the cast and the mul.

// CHECK-LABEL: func.func @sink_unmarked
// CHECK:         mind.fused_elementwise
// CHECK-NEXT:    ^bb0
// CHECK-NEXT:      mind.cast
// CHECK-NEXT:      mind.mul
// CHECK-NEXT:      mind.add
func.func @sink_unmarked(%a: tensor<4x4xbf16>, %b: tensor<4x4xbf16>,
                         %x: tensor<4x4xf32>, %q: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %mm = mind.matmul %a, %b : (tensor<4x4xbf16>, tensor<4x4xbf16>) -> tensor<4x4xbf16>
  %mf = mind.cast %mm : (tensor<4x4xbf16>) -> tensor<4x4xf32>
  %p = mind.mul %x, %x : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %s = mind.add %mf, %p : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %t = mind.add %s, %q : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  return %t : tensor<4x4xf32>
}

// -----

// Shapes must agree: a producer of another shape is not absorbed, and a
// lone elementwise op is left as it is.

// CHECK-LABEL: func.func @shapes
// CHECK-NOT:     mind.fused_elementwise
func.func @shapes(%x: tensor<8xf32>, %y: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %s = mind.silu %x : (tensor<8xf32>) -> tensor<8xf32>
  %r = mind.reshape %s : (tensor<8xf32>) -> tensor<2x4xf32>
  %m = mind.mul %r, %y : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %l = mind.linear %m, %y : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x2xf32>
  %q = mind.reshape %l : (tensor<2x2xf32>) -> tensor<4xf32>
  %z = mind.linear %m, %m : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x2xf32>
  return %y : tensor<2x4xf32>
}

// -----

// Multi-output: silu's result is also needed later (by the backward), so the
// region stores it as a second result instead of leaving silu out.

// CHECK-LABEL: func.func @multi_output
// CHECK:         %[[F:.*]]:2 = mind.fused_elementwise %{{.*}}, %{{.*}} : (tensor<2x8xbf16>, tensor<2x8xbf16>) -> (tensor<2x8xbf16>, tensor<2x8xbf16>) {
// CHECK:           %[[S:.*]] = mind.silu
// CHECK-NEXT:      %[[P:.*]] = mind.mul %[[S]]
// CHECK-NEXT:      mind.yield %[[S]], %[[P]]
// CHECK:         mind.linear %[[F]]#1
// CHECK:         mind.linear %[[F]]#0
func.func @multi_output(%g: tensor<2x8xbf16>, %u: tensor<2x8xbf16>) -> (tensor<2x2xbf16>, tensor<2x2xbf16>) {
  %s = mind.silu %g : (tensor<2x8xbf16>) -> tensor<2x8xbf16>
  %p = mind.mul %s, %u : (tensor<2x8xbf16>, tensor<2x8xbf16>) -> tensor<2x8xbf16>
  %l = mind.linear %p, %g : (tensor<2x8xbf16>, tensor<2x8xbf16>) -> tensor<2x2xbf16>
  %k = mind.linear %s, %u : (tensor<2x8xbf16>, tensor<2x8xbf16>) -> tensor<2x2xbf16>
  return %l, %k : tensor<2x2xbf16>, tensor<2x2xbf16>
}

// -----

// A use before the root pins the producer: %s is read by the linear that
// comes before the mul, so silu stays a kernel of its own.

// CHECK-LABEL: func.func @use_before_root
// CHECK-NOT:     mind.fused_elementwise
func.func @use_before_root(%g: tensor<2x8xbf16>, %u: tensor<2x8xbf16>) -> (tensor<2x2xbf16>, tensor<2x2xbf16>) {
  %s = mind.silu %g : (tensor<2x8xbf16>) -> tensor<2x8xbf16>
  %k = mind.linear %s, %u : (tensor<2x8xbf16>, tensor<2x8xbf16>) -> tensor<2x2xbf16>
  %p = mind.mul %s, %u : (tensor<2x8xbf16>, tensor<2x8xbf16>) -> tensor<2x8xbf16>
  %l = mind.linear %p, %g : (tensor<2x8xbf16>, tensor<2x8xbf16>) -> tensor<2x2xbf16>
  return %l, %k : tensor<2x2xbf16>, tensor<2x2xbf16>
}

// -----

// Siblings: two groups reading %dh (SwiGLU's backward up and gate paths)
// become one kernel at the earlier one, whose result is used first; the
// later group's inputs all exist there.
// CHECK-LABEL: func.func @siblings(
// CHECK-NEXT: %[[F:.*]]:2 = mind.fused_elementwise %arg0, %arg1, %arg2, %arg3 :
// CHECK-NEXT: ^bb0
// CHECK-NEXT: mind.mul
// CHECK-NEXT: mind.mul
// CHECK-NEXT: mind.silu_grad
// CHECK-NEXT: mind.yield
// CHECK-NEXT: }
// CHECK-NEXT: mind.linear %[[F]]#0
// CHECK-NEXT: mind.linear %[[F]]#1
func.func @siblings(%dh: tensor<2x8xbf16>, %silu: tensor<2x8xbf16>, %up: tensor<2x8xbf16>, %gate: tensor<2x8xbf16>, %w: tensor<3x8xbf16>)
    -> (tensor<2x3xbf16>, tensor<2x3xbf16>) {
  %du = mind.mul %dh, %silu : (tensor<2x8xbf16>, tensor<2x8xbf16>) -> tensor<2x8xbf16>
  %y = mind.linear %du, %w : (tensor<2x8xbf16>, tensor<3x8xbf16>) -> tensor<2x3xbf16>
  %m = mind.mul %dh, %up : (tensor<2x8xbf16>, tensor<2x8xbf16>) -> tensor<2x8xbf16>
  %dg = mind.silu_grad %gate, %m : (tensor<2x8xbf16>, tensor<2x8xbf16>) -> tensor<2x8xbf16>
  %z = mind.linear %dg, %w : (tensor<2x8xbf16>, tensor<3x8xbf16>) -> tensor<2x3xbf16>
  return %y, %z : tensor<2x3xbf16>, tensor<2x3xbf16>
}

// -----

// Not siblings: the later group reads a value made after the earlier one
// (it cannot move up); an op sharing no input stays alone.
// CHECK-LABEL: func.func @not_siblings(
// CHECK-NEXT: %[[D:.*]] = mind.mul %arg0, %arg1
// CHECK-NEXT: %[[L:.*]] = mind.linear %[[D]]
// CHECK-NEXT: mind.fused_elementwise %arg0, %[[L]]
// CHECK: mind.linear
// CHECK-NEXT: mind.mul %arg3, %arg3
// CHECK-NEXT: mind.reshape
func.func @not_siblings(%dh: tensor<2x8xbf16>, %silu: tensor<2x8xbf16>, %w: tensor<8x8xbf16>, %dh2: tensor<16xbf16>)
    -> (tensor<2x8xbf16>, tensor<2x8xbf16>, tensor<2x8xbf16>) {
  %du = mind.mul %dh, %silu : (tensor<2x8xbf16>, tensor<2x8xbf16>) -> tensor<2x8xbf16>
  %late = mind.linear %du, %w : (tensor<2x8xbf16>, tensor<8x8xbf16>) -> tensor<2x8xbf16>
  %m = mind.mul %dh, %late : (tensor<2x8xbf16>, tensor<2x8xbf16>) -> tensor<2x8xbf16>
  %s = mind.silu %m : (tensor<2x8xbf16>) -> tensor<2x8xbf16>
  %z = mind.linear %s, %w : (tensor<2x8xbf16>, tensor<8x8xbf16>) -> tensor<2x8xbf16>
  %q = mind.mul %dh2, %dh2 : (tensor<16xbf16>, tensor<16xbf16>) -> tensor<16xbf16>
  %r = mind.reshape %q : (tensor<16xbf16>) -> tensor<2x8xbf16>
  return %late, %z, %r : tensor<2x8xbf16>, tensor<2x8xbf16>, tensor<2x8xbf16>
}
