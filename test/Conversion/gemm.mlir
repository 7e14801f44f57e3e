// RUN: mind-opt %s -split-input-file -mind-lower-to-plan | FileCheck %s

// The GEMM family (LowerGemm.cpp): mind.linear and mind.matmul become one
// plan.gemm each, row-major c[m, n] = op(a)[m, k] * op(b)[k, n].

// linear: the input's leading dims are the rows (m = 2 * 3), the weight
// [N, K] is transposed; a rank-1 input is one row.
// CHECK-LABEL: plan.micro_step @train_step
// CHECK-NEXT: %[[X:.*]] = plan.buffer input "x" : memref<2x3x8xbf16>
// CHECK-NEXT: %[[W:.*]] = plan.buffer input "w" : memref<16x8xbf16>
// CHECK-NEXT: %[[V:.*]] = plan.buffer input "v" : memref<8xf32>
// CHECK-NEXT: %[[W2:.*]] = plan.buffer input "w2" : memref<5x8xf32>
// CHECK-NEXT: %[[Y:.*]] = plan.buffer output "loss" : memref<2x3x16xbf16>
// CHECK-NEXT: %[[Y1:.*]] = plan.buffer output "aux_loss" : memref<5xf32>
// CHECK-NEXT: plan.gemm %[[X]], %[[W]] -> %[[Y]] {k = 8 : i64, m = 6 : i64, n = 16 : i64, source = "mind.linear", trans_b} : memref<2x3x8xbf16>, memref<16x8xbf16> -> memref<2x3x16xbf16>{{$}}
// CHECK-NEXT: plan.gemm %[[V]], %[[W2]] -> %[[Y1]] {k = 8 : i64, m = 1 : i64, n = 5 : i64, source = "mind.linear", trans_b} : memref<8xf32>, memref<5x8xf32> -> memref<5xf32>{{$}}
// CHECK-NEXT: {{^ *}$}}
func.func @train_step(%x: tensor<2x3x8xbf16> {mind.input = "x"}, %w: tensor<16x8xbf16> {mind.input = "w"},
                      %v: tensor<8xf32> {mind.input = "v"}, %w2: tensor<5x8xf32> {mind.input = "w2"})
    -> (tensor<2x3x16xbf16>, tensor<5xf32>) {
  %y = mind.linear %x, %w : (tensor<2x3x8xbf16>, tensor<16x8xbf16>) -> tensor<2x3x16xbf16>
  %y1 = mind.linear %v, %w2 : (tensor<8xf32>, tensor<5x8xf32>) -> tensor<5xf32>
  return %y, %y1 : tensor<2x3x16xbf16>, tensor<5xf32>
}

// -----

// matmul: m and n from the result [2, 4], k = 3 from the lhs (its dim 0 when
// transposed); the transpose flags carry over. Each result is a new
// activation buffer.
// CHECK-LABEL: plan.micro_step @train_step
// CHECK-NEXT: %[[A:.*]] = plan.buffer input "a" : memref<2x3xf32>
// CHECK-NEXT: %[[B:.*]] = plan.buffer input "b" : memref<3x4xf32>
// CHECK-NEXT: %[[AT:.*]] = plan.buffer input "at" : memref<3x2xf32>
// CHECK-NEXT: %[[BT:.*]] = plan.buffer input "bt" : memref<4x3xf32>
// CHECK-NEXT: %[[OUT:.*]] = plan.buffer output "loss" : memref<2x4xf32>
// CHECK-NEXT: %[[SUM:.*]] = plan.buffer output "aux_loss" : memref<2x4xf32>
// CHECK-NEXT: %[[R0:.*]] = plan.buffer activation "%0" : memref<2x4xf32>
// CHECK-NEXT: %[[R1:.*]] = plan.buffer activation "%1" : memref<2x4xf32>
// CHECK-NEXT: %[[R2:.*]] = plan.buffer activation "%2" : memref<2x4xf32>
// CHECK-NEXT: %[[T:.*]] = plan.buffer activation "%3" : memref<2x4xf32>
// CHECK-NEXT: plan.gemm %[[A]], %[[B]] -> %[[R0]] {k = 3 : i64, m = 2 : i64, n = 4 : i64, source = "mind.matmul"} : memref<2x3xf32>, memref<3x4xf32> -> memref<2x4xf32>{{$}}
// CHECK-NEXT: plan.gemm %[[AT]], %[[B]] -> %[[R1]] {k = 3 : i64, m = 2 : i64, n = 4 : i64, source = "mind.matmul", trans_a} : memref<3x2xf32>, memref<3x4xf32> -> memref<2x4xf32>{{$}}
// CHECK-NEXT: plan.gemm %[[A]], %[[BT]] -> %[[R2]] {k = 3 : i64, m = 2 : i64, n = 4 : i64, source = "mind.matmul", trans_b} : memref<2x3xf32>, memref<4x3xf32> -> memref<2x4xf32>{{$}}
// CHECK-NEXT: plan.gemm %[[AT]], %[[BT]] -> %[[OUT]] {k = 3 : i64, m = 2 : i64, n = 4 : i64, source = "mind.matmul", trans_a, trans_b} : memref<3x2xf32>, memref<4x3xf32> -> memref<2x4xf32>{{$}}
// The products are summed by emitted kernels (elementwise.mlir).
// CHECK-NEXT: plan.emitted_kernel @[[ADD:mind_ew_add_[0-9a-f]+]]
// CHECK-NEXT: plan.kernel "[[ADD]]"(%[[R0]], %[[R1]], %[[T]], 8 : i64)
// CHECK-NEXT: plan.kernel "[[ADD]]"(%[[T]], %[[R2]], %[[SUM]], 8 : i64)
// CHECK-NEXT: {{^ *}$}}
func.func @train_step(%a: tensor<2x3xf32> {mind.input = "a"}, %b: tensor<3x4xf32> {mind.input = "b"},
                      %at: tensor<3x2xf32> {mind.input = "at"}, %bt: tensor<4x3xf32> {mind.input = "bt"})
    -> (tensor<2x4xf32>, tensor<2x4xf32>) {
  %r0 = mind.matmul %a, %b : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  %r1 = mind.matmul %at, %b {transpose_lhs = true} : (tensor<3x2xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  %r2 = mind.matmul %a, %bt {transpose_rhs = true} : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
  %r3 = mind.matmul %at, %bt {transpose_lhs = true, transpose_rhs = true} : (tensor<3x2xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
  %s = mind.add %r0, %r1 : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %t = mind.add %s, %r2 : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  return %r3, %t : tensor<2x4xf32>, tensor<2x4xf32>
}

// -----

// A matmul marked as a gradient producer (mind.accumulate_into) writes
// straight into the parameter's fp32 accumulator with beta = 1: no buffer of
// its own, no accumulate launch.
// CHECK-LABEL: plan.micro_step @train_step
// CHECK-NEXT: %[[P:.*]] = plan.buffer param "w" : memref<4x3xf32>
// CHECK-NEXT: %[[G:.*]] = plan.buffer grad "w.grad" : memref<4x3xf32>
// CHECK-NEXT: %[[DY:.*]] = plan.buffer input "dy" : memref<2x4xf32>
// CHECK-NEXT: %[[X:.*]] = plan.buffer input "x" : memref<2x3xf32>
// CHECK-NEXT: plan.gemm %[[DY]], %[[X]] -> %[[G]] {beta = 1.000000e+00 : f32, k = 2 : i64, m = 4 : i64, n = 3 : i64, source = "mind.matmul", trans_a} : memref<2x4xf32>, memref<2x3xf32> -> memref<4x3xf32>{{$}}
// CHECK-NEXT: {{^ *}$}}
func.func @train_step(%w: tensor<4x3xf32> {mind.param = "w"}, %dy: tensor<2x4xf32> {mind.input = "dy"},
                      %x: tensor<2x3xf32> {mind.input = "x"}) -> (tensor<4x3xf32> {mind.grad = "w"}) {
  %dw = mind.matmul %dy, %x {transpose_lhs = true, mind.accumulate_into = ["w"]}
      : (tensor<2x4xf32>, tensor<2x3xf32>) -> tensor<4x3xf32>
  return %dw : tensor<4x3xf32>
}

// -----

// A bf16 weight gradient whose cast to f32 is marked (mind.gradient_sink):
// the GEMM reads bf16 and writes the fp32 accumulator itself; the cast is
// skipped.
// CHECK-LABEL: plan.micro_step @train_step
// CHECK-NEXT: %[[P:.*]] = plan.buffer param "w" : memref<4x3xf32>
// CHECK-NEXT: %[[G:.*]] = plan.buffer grad "w.grad" : memref<4x3xf32>
// CHECK-NEXT: %[[DY:.*]] = plan.buffer input "dy" : memref<2x4xbf16>
// CHECK-NEXT: %[[X:.*]] = plan.buffer input "x" : memref<2x3xbf16>
// CHECK-NEXT: plan.gemm %[[DY]], %[[X]] -> %[[G]] {beta = 1.000000e+00 : f32, k = 2 : i64, m = 4 : i64, n = 3 : i64, source = "mind.matmul", trans_a} : memref<2x4xbf16>, memref<2x3xbf16> -> memref<4x3xf32>{{$}}
// CHECK-NEXT: {{^ *}$}}
func.func @train_step(%w: tensor<4x3xf32> {mind.param = "w"}, %dy: tensor<2x4xbf16> {mind.input = "dy"},
                      %x: tensor<2x3xbf16> {mind.input = "x"}) -> (tensor<4x3xf32> {mind.grad = "w"}) {
  %dw = mind.matmul %dy, %x {transpose_lhs = true, mind.accumulate_into = ["w"]}
      : (tensor<2x4xbf16>, tensor<2x3xbf16>) -> tensor<4x3xbf16>
  %c = mind.cast %dw {mind.gradient_sink = "w"} : (tensor<4x3xbf16>) -> tensor<4x3xf32>
  return %c : tensor<4x3xf32>
}
