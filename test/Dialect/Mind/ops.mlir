// RUN: mind-opt %s | mind-opt | FileCheck %s
// RUN: mind-opt %s --mlir-print-op-generic | mind-opt | FileCheck %s

// Round trip of every `mind` op, forward and backward, in the custom form and
// through the generic form. Attributes equal to their default value are elided
// by the printer; the CHECK lines pin that down (`{{$}}` where nothing may
// follow the type).

//===----------------------------------------------------------------------===//
// Dense layers
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @embedding
// CHECK-SAME: (%[[TABLE:[a-z0-9_]+]]: tensor<6400x64xf32>, %[[IDS:[a-z0-9_]+]]: tensor<2x24xi64>, %[[IDS32:[a-z0-9_]+]]: tensor<7xi32>)
func.func @embedding(%table: tensor<6400x64xf32>, %ids: tensor<2x24xi64>,
                     %ids32: tensor<7xi32>) -> (tensor<2x24x64xf32>, tensor<7x64xf32>) {
  // CHECK: %[[H:[a-z0-9_]+]] = mind.embedding %[[TABLE]], %[[IDS]] : (tensor<6400x64xf32>, tensor<2x24xi64>) -> tensor<2x24x64xf32>
  %h = mind.embedding %table, %ids : (tensor<6400x64xf32>, tensor<2x24xi64>) -> tensor<2x24x64xf32>
  // CHECK: %[[H32:[a-z0-9_]+]] = mind.embedding %[[TABLE]], %[[IDS32]] : (tensor<6400x64xf32>, tensor<7xi32>) -> tensor<7x64xf32>
  %h32 = mind.embedding %table, %ids32 : (tensor<6400x64xf32>, tensor<7xi32>) -> tensor<7x64xf32>
  // CHECK: return %[[H]], %[[H32]]
  return %h, %h32 : tensor<2x24x64xf32>, tensor<7x64xf32>
}

// CHECK-LABEL: func.func @embedding_rank0_ids
func.func @embedding_rank0_ids(%table: tensor<10x4xbf16>, %id: tensor<i64>) -> tensor<4xbf16> {
  // CHECK: mind.embedding %{{.*}}, %{{.*}} : (tensor<10x4xbf16>, tensor<i64>) -> tensor<4xbf16>
  %h = mind.embedding %table, %id : (tensor<10x4xbf16>, tensor<i64>) -> tensor<4xbf16>
  return %h : tensor<4xbf16>
}

// CHECK-LABEL: func.func @linear
// CHECK-SAME: (%[[X:[a-z0-9_]+]]: tensor<2x3x4xf32>, %[[W:[a-z0-9_]+]]: tensor<5x4xf32>, %[[X1:[a-z0-9_]+]]: tensor<4xf32>)
func.func @linear(%x: tensor<2x3x4xf32>, %w: tensor<5x4xf32>, %x1: tensor<4xf32>)
    -> (tensor<2x3x5xf32>, tensor<5xf32>) {
  // CHECK: %[[Y:[a-z0-9_]+]] = mind.linear %[[X]], %[[W]] : (tensor<2x3x4xf32>, tensor<5x4xf32>) -> tensor<2x3x5xf32>
  %y = mind.linear %x, %w : (tensor<2x3x4xf32>, tensor<5x4xf32>) -> tensor<2x3x5xf32>
  // A rank-1 input is a single row.
  // CHECK: %[[Y1:[a-z0-9_]+]] = mind.linear %[[X1]], %[[W]] : (tensor<4xf32>, tensor<5x4xf32>) -> tensor<5xf32>
  %y1 = mind.linear %x1, %w : (tensor<4xf32>, tensor<5x4xf32>) -> tensor<5xf32>
  // CHECK: return %[[Y]], %[[Y1]]
  return %y, %y1 : tensor<2x3x5xf32>, tensor<5xf32>
}

// CHECK-LABEL: func.func @linear_f16
func.func @linear_f16(%x: tensor<8x16xf16>, %w: tensor<32x16xf16>) -> tensor<8x32xf16> {
  // CHECK: mind.linear %{{.*}}, %{{.*}} : (tensor<8x16xf16>, tensor<32x16xf16>) -> tensor<8x32xf16>
  %y = mind.linear %x, %w : (tensor<8x16xf16>, tensor<32x16xf16>) -> tensor<8x32xf16>
  return %y : tensor<8x32xf16>
}

// CHECK-LABEL: func.func @matmul
// CHECK-SAME: (%[[A:[a-z0-9_]+]]: tensor<2x3xf32>, %[[B:[a-z0-9_]+]]: tensor<3x4xf32>, %[[AT:[a-z0-9_]+]]: tensor<3x2xf32>, %[[BT:[a-z0-9_]+]]: tensor<4x3xf32>)
func.func @matmul(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>, %at: tensor<3x2xf32>,
                  %bt: tensor<4x3xf32>)
    -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>) {
  // Default flags (false) are elided, whether written or not.
  // CHECK: %[[R0:[a-z0-9_]+]] = mind.matmul %[[A]], %[[B]] : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  %r0 = mind.matmul %a, %b : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  // CHECK: %[[R1:[a-z0-9_]+]] = mind.matmul %[[A]], %[[B]] : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  %r1 = mind.matmul %a, %b {transpose_lhs = false, transpose_rhs = false}
      : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  // CHECK: %[[R2:[a-z0-9_]+]] = mind.matmul %[[AT]], %[[B]] {transpose_lhs = true} : (tensor<3x2xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  %r2 = mind.matmul %at, %b {transpose_lhs = true} : (tensor<3x2xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  // CHECK: %[[R3:[a-z0-9_]+]] = mind.matmul %[[A]], %[[BT]] {transpose_rhs = true} : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
  %r3 = mind.matmul %a, %bt {transpose_rhs = true} : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
  // CHECK: %[[R4:[a-z0-9_]+]] = mind.matmul %[[AT]], %[[BT]] {transpose_lhs = true, transpose_rhs = true} : (tensor<3x2xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
  %r4 = mind.matmul %at, %bt {transpose_rhs = true, transpose_lhs = true}
      : (tensor<3x2xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
  // CHECK: return %[[R0]], %[[R1]], %[[R2]], %[[R3]], %[[R4]]
  return %r0, %r1, %r2, %r3, %r4
      : tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>
}

// CHECK-LABEL: func.func @matmul_f64
func.func @matmul_f64(%a: tensor<5x2xf64>, %b: tensor<5x3xf64>) -> tensor<2x3xf64> {
  // CHECK: mind.matmul %{{.*}}, %{{.*}} {transpose_lhs = true} : (tensor<5x2xf64>, tensor<5x3xf64>) -> tensor<2x3xf64>
  %r = mind.matmul %a, %b {transpose_lhs = true} : (tensor<5x2xf64>, tensor<5x3xf64>) -> tensor<2x3xf64>
  return %r : tensor<2x3xf64>
}

// CHECK-LABEL: func.func @rmsnorm
func.func @rmsnorm(%x: tensor<2x24x64xf32>, %w: tensor<64xf32>, %xb: tensor<64xbf16>,
                   %wb: tensor<64xbf16>) -> (tensor<2x24x64xf32>, tensor<64xbf16>) {
  // CHECK: mind.rmsnorm %{{.*}}, %{{.*}} {epsilon = 1.000000e-05 : f64} : (tensor<2x24x64xf32>, tensor<64xf32>) -> tensor<2x24x64xf32>
  %n = mind.rmsnorm %x, %w {epsilon = 1.0e-05 : f64}
      : (tensor<2x24x64xf32>, tensor<64xf32>) -> tensor<2x24x64xf32>
  // CHECK: mind.rmsnorm %{{.*}}, %{{.*}} {epsilon = 9.9999999999999995E-7 : f64} : (tensor<64xbf16>, tensor<64xbf16>) -> tensor<64xbf16>
  %nb = mind.rmsnorm %xb, %wb {epsilon = 1.0e-06 : f64}
      : (tensor<64xbf16>, tensor<64xbf16>) -> tensor<64xbf16>
  // A narrower result (RMSNorm fused with the cast of its output).
  // CHECK: mind.rmsnorm %{{.*}}, %{{.*}} {epsilon = 1.000000e-05 : f64} : (tensor<2x24x64xf32>, tensor<64xf32>) -> tensor<2x24x64xbf16>
  %nc = mind.rmsnorm %x, %w {epsilon = 1.0e-05 : f64}
      : (tensor<2x24x64xf32>, tensor<64xf32>) -> tensor<2x24x64xbf16>
  return %n, %nb : tensor<2x24x64xf32>, tensor<64xbf16>
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @rope_table
func.func @rope_table() -> (tensor<24x16xf32>, tensor<24x16xf32>, tensor<8x4xf64>, tensor<8x4xf64>) {
  // Only the required attributes: the YaRN ones keep their defaults.
  // CHECK: %[[COS:[a-z0-9_]+]], %[[SIN:[a-z0-9_]+]] = mind.rope_table {max_positions = 32768 : i64, theta = 1.000000e+06 : f64} : () -> (tensor<24x16xf32>, tensor<24x16xf32>){{$}}
  %cos, %sin = mind.rope_table {theta = 1.0e+06 : f64, max_positions = 32768 : i64}
      : () -> (tensor<24x16xf32>, tensor<24x16xf32>)
  // Every YaRN attribute set away from its default.
  // CHECK: %[[COSY:[a-z0-9_]+]], %[[SINY:[a-z0-9_]+]] = mind.rope_table
  // CHECK-SAME: attention_factor = 1.250000e+00 : f64
  // CHECK-SAME: max_positions = 32768 : i64
  // CHECK-SAME: theta = 1.000000e+06 : f64
  // CHECK-SAME: yarn_beta_fast = 1.600000e+01 : f64
  // CHECK-SAME: yarn_beta_slow = 2.000000e+00 : f64
  // CHECK-SAME: yarn_factor = 1.600000e+01 : f64
  // CHECK-SAME: yarn_original_max = 4096 : i64
  // CHECK-SAME: : () -> (tensor<8x4xf64>, tensor<8x4xf64>)
  %cosy, %siny = mind.rope_table {theta = 1.0e+06 : f64, max_positions = 32768 : i64,
                                  yarn_factor = 16.0 : f64, yarn_original_max = 4096 : i64,
                                  yarn_beta_fast = 16.0 : f64, yarn_beta_slow = 2.0 : f64,
                                  attention_factor = 1.25 : f64}
      : () -> (tensor<8x4xf64>, tensor<8x4xf64>)
  // CHECK: return %[[COS]], %[[SIN]], %[[COSY]], %[[SINY]]
  return %cos, %sin, %cosy, %siny
      : tensor<24x16xf32>, tensor<24x16xf32>, tensor<8x4xf64>, tensor<8x4xf64>
}

// CHECK-LABEL: func.func @rope_table_defaults_elided
func.func @rope_table_defaults_elided() -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  // Attributes spelled out with their default values print like absent ones.
  // CHECK: mind.rope_table {max_positions = 4 : i64, theta = 1.000000e+04 : f64} : () -> (tensor<4x8xf32>, tensor<4x8xf32>){{$}}
  %cos, %sin = mind.rope_table {theta = 1.0e+04 : f64, max_positions = 4 : i64,
                                yarn_factor = 1.0 : f64, yarn_original_max = 2048 : i64,
                                yarn_beta_fast = 32.0 : f64, yarn_beta_slow = 1.0 : f64,
                                attention_factor = 1.0 : f64}
      : () -> (tensor<4x8xf32>, tensor<4x8xf32>)
  return %cos, %sin : tensor<4x8xf32>, tensor<4x8xf32>
}

// CHECK-LABEL: func.func @rope
// CHECK-SAME: (%[[X:[a-z0-9_]+]]: tensor<2x24x4x16xf32>, %[[COS:[a-z0-9_]+]]: tensor<24x16xf32>, %[[SIN:[a-z0-9_]+]]: tensor<24x16xf32>)
func.func @rope(%x: tensor<2x24x4x16xf32>, %cos: tensor<24x16xf32>, %sin: tensor<24x16xf32>)
    -> (tensor<2x24x4x16xf32>, tensor<2x24x4x16xf32>) {
  // CHECK: %[[R:[a-z0-9_]+]] = mind.rope %[[X]], %[[COS]], %[[SIN]] : (tensor<2x24x4x16xf32>, tensor<24x16xf32>, tensor<24x16xf32>) -> tensor<2x24x4x16xf32>
  %r = mind.rope %x, %cos, %sin
      : (tensor<2x24x4x16xf32>, tensor<24x16xf32>, tensor<24x16xf32>) -> tensor<2x24x4x16xf32>
  // CHECK: %[[I:[a-z0-9_]+]] = mind.rope %[[R]], %[[COS]], %[[SIN]] {inverse = true} : (tensor<2x24x4x16xf32>, tensor<24x16xf32>, tensor<24x16xf32>) -> tensor<2x24x4x16xf32>
  %i = mind.rope %r, %cos, %sin {inverse = true}
      : (tensor<2x24x4x16xf32>, tensor<24x16xf32>, tensor<24x16xf32>) -> tensor<2x24x4x16xf32>
  // CHECK: return %[[R]], %[[I]]
  return %r, %i : tensor<2x24x4x16xf32>, tensor<2x24x4x16xf32>
}

// CHECK-LABEL: func.func @attention
// CHECK-SAME: (%[[Q:[a-z0-9_]+]]: tensor<2x24x4x16xf32>, %[[K:[a-z0-9_]+]]: tensor<2x24x2x16xf32>, %[[V:[a-z0-9_]+]]: tensor<2x24x2x16xf32>)
func.func @attention(%q: tensor<2x24x4x16xf32>, %k: tensor<2x24x2x16xf32>, %v: tensor<2x24x2x16xf32>)
    -> (tensor<2x24x4x16xf32>, tensor<2x4x24xf32>, tensor<2x24x4x16xf32>, tensor<2x4x24xf32>) {
  // causal = true is the default and is elided.
  // CHECK: %[[O:[a-z0-9_]+]], %[[LSE:[a-z0-9_]+]] = mind.attention %[[Q]], %[[K]], %[[V]] {scale = 2.500000e-01 : f64} : (tensor<2x24x4x16xf32>, tensor<2x24x2x16xf32>, tensor<2x24x2x16xf32>) -> (tensor<2x24x4x16xf32>, tensor<2x4x24xf32>)
  %o, %lse = mind.attention %q, %k, %v {scale = 0.25 : f64, causal = true}
      : (tensor<2x24x4x16xf32>, tensor<2x24x2x16xf32>, tensor<2x24x2x16xf32>)
      -> (tensor<2x24x4x16xf32>, tensor<2x4x24xf32>)
  // CHECK: %[[O2:[a-z0-9_]+]], %[[LSE2:[a-z0-9_]+]] = mind.attention %[[Q]], %[[K]], %[[V]] {causal = false, scale = 2.500000e-01 : f64} : (tensor<2x24x4x16xf32>, tensor<2x24x2x16xf32>, tensor<2x24x2x16xf32>) -> (tensor<2x24x4x16xf32>, tensor<2x4x24xf32>)
  %o2, %lse2 = mind.attention %q, %k, %v {scale = 0.25 : f64, causal = false}
      : (tensor<2x24x4x16xf32>, tensor<2x24x2x16xf32>, tensor<2x24x2x16xf32>)
      -> (tensor<2x24x4x16xf32>, tensor<2x4x24xf32>)
  // CHECK: return %[[O]], %[[LSE]], %[[O2]], %[[LSE2]]
  return %o, %lse, %o2, %lse2
      : tensor<2x24x4x16xf32>, tensor<2x4x24xf32>, tensor<2x24x4x16xf32>, tensor<2x4x24xf32>
}

// CHECK-LABEL: func.func @attention_bf16_mha
func.func @attention_bf16_mha(%q: tensor<1x8x2x4xbf16>, %k: tensor<1x8x2x4xbf16>)
    -> (tensor<1x8x2x4xbf16>, tensor<1x2x8xf32>) {
  // Low-precision operands still produce an f32 lse.
  // CHECK: mind.attention %{{.*}}, %{{.*}}, %{{.*}} {scale = 5.000000e-01 : f64} : (tensor<1x8x2x4xbf16>, tensor<1x8x2x4xbf16>, tensor<1x8x2x4xbf16>) -> (tensor<1x8x2x4xbf16>, tensor<1x2x8xf32>)
  %o, %lse = mind.attention %q, %k, %k {scale = 0.5 : f64}
      : (tensor<1x8x2x4xbf16>, tensor<1x8x2x4xbf16>, tensor<1x8x2x4xbf16>)
      -> (tensor<1x8x2x4xbf16>, tensor<1x2x8xf32>)
  return %o, %lse : tensor<1x8x2x4xbf16>, tensor<1x2x8xf32>
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @elementwise
// CHECK-SAME: (%[[A:[a-z0-9_]+]]: tensor<2x24x64xf32>, %[[B:[a-z0-9_]+]]: tensor<2x24x64xf32>)
func.func @elementwise(%a: tensor<2x24x64xf32>, %b: tensor<2x24x64xf32>)
    -> (tensor<2x24x64xf32>, tensor<2x24x64xf32>, tensor<2x24x64xf32>, tensor<2x24x64xf32>) {
  // CHECK: %[[ADD:[a-z0-9_]+]] = mind.add %[[A]], %[[B]] : (tensor<2x24x64xf32>, tensor<2x24x64xf32>) -> tensor<2x24x64xf32>
  %add = mind.add %a, %b : (tensor<2x24x64xf32>, tensor<2x24x64xf32>) -> tensor<2x24x64xf32>
  // CHECK: %[[MUL:[a-z0-9_]+]] = mind.mul %[[A]], %[[B]] : (tensor<2x24x64xf32>, tensor<2x24x64xf32>) -> tensor<2x24x64xf32>
  %mul = mind.mul %a, %b : (tensor<2x24x64xf32>, tensor<2x24x64xf32>) -> tensor<2x24x64xf32>
  // CHECK: %[[SILU:[a-z0-9_]+]] = mind.silu %[[A]] : (tensor<2x24x64xf32>) -> tensor<2x24x64xf32>
  %silu = mind.silu %a : (tensor<2x24x64xf32>) -> tensor<2x24x64xf32>
  // CHECK: %[[SWIGLU:[a-z0-9_]+]] = mind.swiglu %[[A]], %[[B]] : (tensor<2x24x64xf32>, tensor<2x24x64xf32>) -> tensor<2x24x64xf32>
  %swiglu = mind.swiglu %a, %b : (tensor<2x24x64xf32>, tensor<2x24x64xf32>) -> tensor<2x24x64xf32>
  // CHECK: return %[[ADD]], %[[MUL]], %[[SILU]], %[[SWIGLU]]
  return %add, %mul, %silu, %swiglu
      : tensor<2x24x64xf32>, tensor<2x24x64xf32>, tensor<2x24x64xf32>, tensor<2x24x64xf32>
}

// CHECK-LABEL: func.func @elementwise_types
func.func @elementwise_types(%h: tensor<4xf16>, %b: tensor<4xbf16>, %d: tensor<f64>)
    -> (tensor<4xf16>, tensor<4xbf16>, tensor<f64>, tensor<f64>) {
  // CHECK: mind.add %{{.*}}, %{{.*}} : (tensor<4xf16>, tensor<4xf16>) -> tensor<4xf16>
  %0 = mind.add %h, %h : (tensor<4xf16>, tensor<4xf16>) -> tensor<4xf16>
  // CHECK: mind.swiglu %{{.*}}, %{{.*}} : (tensor<4xbf16>, tensor<4xbf16>) -> tensor<4xbf16>
  %1 = mind.swiglu %b, %b : (tensor<4xbf16>, tensor<4xbf16>) -> tensor<4xbf16>
  // Rank-0 tensors are fine for the elementwise ops.
  // CHECK: mind.mul %{{.*}}, %{{.*}} : (tensor<f64>, tensor<f64>) -> tensor<f64>
  %2 = mind.mul %d, %d : (tensor<f64>, tensor<f64>) -> tensor<f64>
  // CHECK: mind.silu %{{.*}} : (tensor<f64>) -> tensor<f64>
  %3 = mind.silu %d : (tensor<f64>) -> tensor<f64>
  return %0, %1, %2, %3 : tensor<4xf16>, tensor<4xbf16>, tensor<f64>, tensor<f64>
}

// CHECK-LABEL: func.func @softmax
func.func @softmax(%x: tensor<48x4xf32>, %y: tensor<7xf16>) -> (tensor<48x4xf32>, tensor<7xf16>) {
  // CHECK: mind.softmax %{{.*}} : (tensor<48x4xf32>) -> tensor<48x4xf32>
  %s = mind.softmax %x : (tensor<48x4xf32>) -> tensor<48x4xf32>
  // CHECK: mind.softmax %{{.*}} : (tensor<7xf16>) -> tensor<7xf16>
  %t = mind.softmax %y : (tensor<7xf16>) -> tensor<7xf16>
  return %s, %t : tensor<48x4xf32>, tensor<7xf16>
}

//===----------------------------------------------------------------------===//
// Loss
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @cross_entropy
// CHECK-SAME: (%[[L:[a-z0-9_]+]]: tensor<2x24x6400xf32>, %[[T:[a-z0-9_]+]]: tensor<2x24xi64>, %[[MI:[a-z0-9_]+]]: tensor<2x24xi64>, %[[MF:[a-z0-9_]+]]: tensor<2x24xf32>)
func.func @cross_entropy(%logits: tensor<2x24x6400xf32>, %targets: tensor<2x24xi64>,
                         %mask_i: tensor<2x24xi64>, %mask_f: tensor<2x24xf32>)
    -> (tensor<f32>, tensor<f32>) {
  // Integer mask, as the data loader produces it.
  // CHECK: %[[LI:[a-z0-9_]+]] = mind.cross_entropy %[[L]], %[[T]], %[[MI]] : (tensor<2x24x6400xf32>, tensor<2x24xi64>, tensor<2x24xi64>) -> tensor<f32>
  %li = mind.cross_entropy %logits, %targets, %mask_i
      : (tensor<2x24x6400xf32>, tensor<2x24xi64>, tensor<2x24xi64>) -> tensor<f32>
  // Float mask.
  // CHECK: %[[LF:[a-z0-9_]+]] = mind.cross_entropy %[[L]], %[[T]], %[[MF]] : (tensor<2x24x6400xf32>, tensor<2x24xi64>, tensor<2x24xf32>) -> tensor<f32>
  %lf = mind.cross_entropy %logits, %targets, %mask_f
      : (tensor<2x24x6400xf32>, tensor<2x24xi64>, tensor<2x24xf32>) -> tensor<f32>
  // CHECK: return %[[LI]], %[[LF]]
  return %li, %lf : tensor<f32>, tensor<f32>
}

// CHECK-LABEL: func.func @cross_entropy_mixed
func.func @cross_entropy_mixed(%logits: tensor<6x10xbf16>, %targets: tensor<6xi32>,
                               %mask: tensor<6xi32>, %lf: tensor<6x10xf64>,
                               %mask_h: tensor<6xf16>) -> (tensor<f32>, tensor<f64>) {
  // CHECK: mind.cross_entropy %{{.*}}, %{{.*}}, %{{.*}} : (tensor<6x10xbf16>, tensor<6xi32>, tensor<6xi32>) -> tensor<f32>
  %l = mind.cross_entropy %logits, %targets, %mask
      : (tensor<6x10xbf16>, tensor<6xi32>, tensor<6xi32>) -> tensor<f32>
  // CHECK: mind.cross_entropy %{{.*}}, %{{.*}}, %{{.*}} : (tensor<6x10xf64>, tensor<6xi32>, tensor<6xf16>) -> tensor<f64>
  %d = mind.cross_entropy %lf, %targets, %mask_h
      : (tensor<6x10xf64>, tensor<6xi32>, tensor<6xf16>) -> tensor<f64>
  return %l, %d : tensor<f32>, tensor<f64>
}

//===----------------------------------------------------------------------===//
// Mixture of experts
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @topk
func.func @topk(%scores: tensor<48x4xf32>) -> (tensor<48x2xf32>, tensor<48x2xi64>, tensor<48x4xf32>, tensor<48x4xi64>) {
  // CHECK: %[[W:[a-z0-9_]+]], %[[IDX:[a-z0-9_]+]] = mind.topk %{{.*}} {k = 2 : i64, normalize = true} : (tensor<48x4xf32>) -> (tensor<48x2xf32>, tensor<48x2xi64>)
  %w, %idx = mind.topk %scores {k = 2 : i64, normalize = true}
      : (tensor<48x4xf32>) -> (tensor<48x2xf32>, tensor<48x2xi64>)
  // normalize = false is the default; k may equal the number of experts.
  // CHECK: %[[W4:[a-z0-9_]+]], %[[IDX4:[a-z0-9_]+]] = mind.topk %{{.*}} {k = 4 : i64} : (tensor<48x4xf32>) -> (tensor<48x4xf32>, tensor<48x4xi64>)
  %w4, %idx4 = mind.topk %scores {k = 4 : i64, normalize = false}
      : (tensor<48x4xf32>) -> (tensor<48x4xf32>, tensor<48x4xi64>)
  // CHECK: return %[[W]], %[[IDX]], %[[W4]], %[[IDX4]]
  return %w, %idx, %w4, %idx4 : tensor<48x2xf32>, tensor<48x2xi64>, tensor<48x4xf32>, tensor<48x4xi64>
}

// A whole MoE layer: route, dispatch, expert GEMMs, combine, aux loss.
// CHECK-LABEL: func.func @moe
// CHECK-SAME: (%[[X:[a-z0-9_]+]]: tensor<48x64xf32>, %[[S:[a-z0-9_]+]]: tensor<48x4xf32>, %[[W0:[a-z0-9_]+]]: tensor<192x64xf32>, %[[W1:[a-z0-9_]+]]: tensor<192x64xf32>, %[[W2:[a-z0-9_]+]]: tensor<192x64xf32>, %[[W3:[a-z0-9_]+]]: tensor<192x64xf32>, %[[D:[a-z0-9_]+]]: tensor<64x192xf32>, %[[OFF1:[a-z0-9_]+]]: tensor<2xi64>)
func.func @moe(%x: tensor<48x64xf32>, %scores: tensor<48x4xf32>,
               %w0: tensor<192x64xf32>, %w1: tensor<192x64xf32>,
               %w2: tensor<192x64xf32>, %w3: tensor<192x64xf32>,
               %down: tensor<64x192xf32>, %off1: tensor<2xi64>)
    -> (tensor<48x64xf32>, tensor<f32>, tensor<f32>) {
  // CHECK: %[[W:[a-z0-9_]+]], %[[IDX:[a-z0-9_]+]] = mind.topk %[[S]] {k = 2 : i64, normalize = true}
  %w, %idx = mind.topk %scores {k = 2 : i64, normalize = true}
      : (tensor<48x4xf32>) -> (tensor<48x2xf32>, tensor<48x2xi64>)
  // CHECK: %[[PERM:[a-z0-9_]+]], %[[OFF:[a-z0-9_]+]] = mind.moe_route %[[IDX]] {num_experts = 4 : i64} : (tensor<48x2xi64>) -> (tensor<96xi64>, tensor<5xi64>)
  %perm, %offsets = mind.moe_route %idx {num_experts = 4 : i64}
      : (tensor<48x2xi64>) -> (tensor<96xi64>, tensor<5xi64>)
  // CHECK: %[[XS:[a-z0-9_]+]] = mind.moe_dispatch %[[X]], %[[PERM]] {top_k = 2 : i64} : (tensor<48x64xf32>, tensor<96xi64>) -> tensor<96x64xf32>
  %xs = mind.moe_dispatch %x, %perm {top_k = 2 : i64}
      : (tensor<48x64xf32>, tensor<96xi64>) -> tensor<96x64xf32>
  // CHECK: %[[G:[a-z0-9_]+]] = mind.grouped_linear %[[XS]], %[[OFF]], %[[W0]], %[[W1]], %[[W2]], %[[W3]] : (tensor<96x64xf32>, tensor<5xi64>, tensor<192x64xf32>, tensor<192x64xf32>, tensor<192x64xf32>, tensor<192x64xf32>) -> tensor<96x192xf32>
  %g = mind.grouped_linear %xs, %offsets, %w0, %w1, %w2, %w3
      : (tensor<96x64xf32>, tensor<5xi64>, tensor<192x64xf32>, tensor<192x64xf32>,
         tensor<192x64xf32>, tensor<192x64xf32>) -> tensor<96x192xf32>
  // A single expert weight is enough.
  // CHECK: %[[YS:[a-z0-9_]+]] = mind.grouped_linear %[[G]], %[[OFF1]], %[[D]] : (tensor<96x192xf32>, tensor<2xi64>, tensor<64x192xf32>) -> tensor<96x64xf32>
  %ys = mind.grouped_linear %g, %off1, %down
      : (tensor<96x192xf32>, tensor<2xi64>, tensor<64x192xf32>) -> tensor<96x64xf32>
  // CHECK: %[[Y:[a-z0-9_]+]] = mind.moe_combine %[[YS]], %[[PERM]], %[[W]] : (tensor<96x64xf32>, tensor<96xi64>, tensor<48x2xf32>) -> tensor<48x64xf32>
  %y = mind.moe_combine %ys, %perm, %w
      : (tensor<96x64xf32>, tensor<96xi64>, tensor<48x2xf32>) -> tensor<48x64xf32>
  // CHECK: %[[AUX:[a-z0-9_]+]] = mind.moe_aux_loss %[[S]], %[[IDX]] {alpha = 1.000000e-02 : f64, batch = 2 : i64, seq_aux = true} : (tensor<48x4xf32>, tensor<48x2xi64>) -> tensor<f32>
  %aux = mind.moe_aux_loss %scores, %idx {alpha = 0.01 : f64, seq_aux = true, batch = 2 : i64}
      : (tensor<48x4xf32>, tensor<48x2xi64>) -> tensor<f32>
  // seq_aux has no default: false is printed.
  // CHECK: %[[AUX2:[a-z0-9_]+]] = mind.moe_aux_loss %[[S]], %[[IDX]] {alpha = 1.000000e-01 : f64, batch = 1 : i64, seq_aux = false} : (tensor<48x4xf32>, tensor<48x2xi64>) -> tensor<f32>
  %aux2 = mind.moe_aux_loss %scores, %idx {alpha = 0.1 : f64, seq_aux = false, batch = 1 : i64}
      : (tensor<48x4xf32>, tensor<48x2xi64>) -> tensor<f32>
  // CHECK: return %[[Y]], %[[AUX]], %[[AUX2]]
  return %y, %aux, %aux2 : tensor<48x64xf32>, tensor<f32>, tensor<f32>
}

// CHECK-LABEL: func.func @moe_i32_f16
func.func @moe_i32_f16(%x: tensor<6x8xf16>, %idx: tensor<6x1xi32>, %w: tensor<6x1xf16>,
                       %scores: tensor<6x3xf64>, %e0: tensor<5x8xf16>, %e1: tensor<5x8xf16>,
                       %e2: tensor<5x8xf16>)
    -> (tensor<6x8xf16>, tensor<f64>) {
  // CHECK: mind.moe_route %{{.*}} {num_experts = 3 : i64} : (tensor<6x1xi32>) -> (tensor<6xi32>, tensor<4xi32>)
  %perm, %offsets = mind.moe_route %idx {num_experts = 3 : i64}
      : (tensor<6x1xi32>) -> (tensor<6xi32>, tensor<4xi32>)
  // CHECK: mind.moe_dispatch %{{.*}}, %{{.*}} {top_k = 1 : i64} : (tensor<6x8xf16>, tensor<6xi32>) -> tensor<6x8xf16>
  %xs = mind.moe_dispatch %x, %perm {top_k = 1 : i64}
      : (tensor<6x8xf16>, tensor<6xi32>) -> tensor<6x8xf16>
  // CHECK: mind.grouped_linear %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (tensor<6x8xf16>, tensor<4xi32>, tensor<5x8xf16>, tensor<5x8xf16>, tensor<5x8xf16>) -> tensor<6x5xf16>
  %g = mind.grouped_linear %xs, %offsets, %e0, %e1, %e2
      : (tensor<6x8xf16>, tensor<4xi32>, tensor<5x8xf16>, tensor<5x8xf16>, tensor<5x8xf16>)
      -> tensor<6x5xf16>
  // CHECK: mind.moe_combine %{{.*}}, %{{.*}}, %{{.*}} : (tensor<6x8xf16>, tensor<6xi32>, tensor<6x1xf16>) -> tensor<6x8xf16>
  %y = mind.moe_combine %xs, %perm, %w
      : (tensor<6x8xf16>, tensor<6xi32>, tensor<6x1xf16>) -> tensor<6x8xf16>
  // CHECK: mind.moe_aux_loss %{{.*}}, %{{.*}} {alpha = 0.000000e+00 : f64, batch = 3 : i64, seq_aux = true} : (tensor<6x3xf64>, tensor<6x1xi32>) -> tensor<f64>
  %aux = mind.moe_aux_loss %scores, %idx {alpha = 0.0 : f64, seq_aux = true, batch = 3 : i64}
      : (tensor<6x3xf64>, tensor<6x1xi32>) -> tensor<f64>
  return %y, %aux : tensor<6x8xf16>, tensor<f64>
}

//===----------------------------------------------------------------------===//
// Shape and type
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @reshape
func.func @reshape(%x: tensor<2x24x64xf32>, %ids: tensor<2x24xi64>, %s: tensor<f32>)
    -> (tensor<2x24x4x16xf32>, tensor<48xi64>, tensor<1x1xf32>) {
  // CHECK: mind.reshape %{{.*}} : (tensor<2x24x64xf32>) -> tensor<2x24x4x16xf32>
  %a = mind.reshape %x : (tensor<2x24x64xf32>) -> tensor<2x24x4x16xf32>
  // CHECK: mind.reshape %{{.*}} : (tensor<2x24xi64>) -> tensor<48xi64>
  %b = mind.reshape %ids : (tensor<2x24xi64>) -> tensor<48xi64>
  // CHECK: mind.reshape %{{.*}} : (tensor<f32>) -> tensor<1x1xf32>
  %c = mind.reshape %s : (tensor<f32>) -> tensor<1x1xf32>
  return %a, %b, %c : tensor<2x24x4x16xf32>, tensor<48xi64>, tensor<1x1xf32>
}

// CHECK-LABEL: func.func @transpose
func.func @transpose(%x: tensor<2x24x4x16xf32>, %m: tensor<3x5xi32>, %s: tensor<bf16>)
    -> (tensor<2x4x24x16xf32>, tensor<5x3xi32>, tensor<bf16>) {
  // CHECK: mind.transpose %{{.*}} {permutation = array<i64: 0, 2, 1, 3>} : (tensor<2x24x4x16xf32>) -> tensor<2x4x24x16xf32>
  %a = mind.transpose %x {permutation = array<i64: 0, 2, 1, 3>}
      : (tensor<2x24x4x16xf32>) -> tensor<2x4x24x16xf32>
  // CHECK: mind.transpose %{{.*}} {permutation = array<i64: 1, 0>} : (tensor<3x5xi32>) -> tensor<5x3xi32>
  %b = mind.transpose %m {permutation = array<i64: 1, 0>} : (tensor<3x5xi32>) -> tensor<5x3xi32>
  // CHECK: mind.transpose %{{.*}} {permutation = array<i64>} : (tensor<bf16>) -> tensor<bf16>
  %c = mind.transpose %s {permutation = array<i64>} : (tensor<bf16>) -> tensor<bf16>
  return %a, %b, %c : tensor<2x4x24x16xf32>, tensor<5x3xi32>, tensor<bf16>
}

// CHECK-LABEL: func.func @cast
func.func @cast(%x: tensor<2x3xf32>, %i: tensor<2x3xi64>)
    -> (tensor<2x3xbf16>, tensor<2x3xf16>, tensor<2x3xf64>, tensor<2x3xf32>, tensor<2x3xi32>, tensor<2x3xf32>) {
  // CHECK: mind.cast %{{.*}} : (tensor<2x3xf32>) -> tensor<2x3xbf16>
  %a = mind.cast %x : (tensor<2x3xf32>) -> tensor<2x3xbf16>
  // CHECK: mind.cast %{{.*}} : (tensor<2x3xbf16>) -> tensor<2x3xf16>
  %b = mind.cast %a : (tensor<2x3xbf16>) -> tensor<2x3xf16>
  // CHECK: mind.cast %{{.*}} : (tensor<2x3xf16>) -> tensor<2x3xf64>
  %c = mind.cast %b : (tensor<2x3xf16>) -> tensor<2x3xf64>
  // int -> float and int -> int are allowed.
  // CHECK: mind.cast %{{.*}} : (tensor<2x3xi64>) -> tensor<2x3xf32>
  %d = mind.cast %i : (tensor<2x3xi64>) -> tensor<2x3xf32>
  // CHECK: mind.cast %{{.*}} : (tensor<2x3xi64>) -> tensor<2x3xi32>
  %e = mind.cast %i : (tensor<2x3xi64>) -> tensor<2x3xi32>
  // An identity cast is legal.
  // CHECK: mind.cast %{{.*}} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %f = mind.cast %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %a, %b, %c, %d, %e, %f
      : tensor<2x3xbf16>, tensor<2x3xf16>, tensor<2x3xf64>, tensor<2x3xf32>, tensor<2x3xi32>, tensor<2x3xf32>
}

// CHECK-LABEL: func.func @fill
func.func @fill() -> (tensor<f32>, tensor<2x3xbf16>, tensor<4xi64>, tensor<f64>) {
  // CHECK: mind.fill {value = 0.000000e+00 : f64} : () -> tensor<f32>
  %a = mind.fill {value = 0.0 : f64} : () -> tensor<f32>
  // CHECK: mind.fill {value = -1.500000e+00 : f64} : () -> tensor<2x3xbf16>
  %b = mind.fill {value = -1.5 : f64} : () -> tensor<2x3xbf16>
  // CHECK: mind.fill {value = 7.000000e+00 : f64} : () -> tensor<4xi64>
  %c = mind.fill {value = 7.0 : f64} : () -> tensor<4xi64>
  // CHECK: mind.fill {value = 0x7FF0000000000000 : f64} : () -> tensor<f64>
  %d = mind.fill {value = 0x7FF0000000000000 : f64} : () -> tensor<f64>
  return %a, %b, %c, %d : tensor<f32>, tensor<2x3xbf16>, tensor<4xi64>, tensor<f64>
}

//===----------------------------------------------------------------------===//
// Backward ops
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @embedding_grad
func.func @embedding_grad(%dh: tensor<2x24x64xf32>, %ids: tensor<2x24xi64>,
                          %dh1: tensor<64xf64>, %id: tensor<i32>)
    -> (tensor<6400x64xf32>, tensor<10x64xf64>) {
  // CHECK: mind.embedding_grad %{{.*}}, %{{.*}} {vocab_size = 6400 : i64} : (tensor<2x24x64xf32>, tensor<2x24xi64>) -> tensor<6400x64xf32>
  %dt = mind.embedding_grad %dh, %ids {vocab_size = 6400 : i64}
      : (tensor<2x24x64xf32>, tensor<2x24xi64>) -> tensor<6400x64xf32>
  // CHECK: mind.embedding_grad %{{.*}}, %{{.*}} {vocab_size = 10 : i64} : (tensor<64xf64>, tensor<i32>) -> tensor<10x64xf64>
  %dt1 = mind.embedding_grad %dh1, %id {vocab_size = 10 : i64}
      : (tensor<64xf64>, tensor<i32>) -> tensor<10x64xf64>
  return %dt, %dt1 : tensor<6400x64xf32>, tensor<10x64xf64>
}

// CHECK-LABEL: func.func @rmsnorm_grad
func.func @rmsnorm_grad(%x: tensor<2x24x64xf32>, %w: tensor<64xf32>, %dy: tensor<2x24x64xf32>)
    -> (tensor<2x24x64xf32>, tensor<64xf32>) {
  // CHECK: %[[DX:[a-z0-9_]+]], %[[DW:[a-z0-9_]+]] = mind.rmsnorm_grad %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 1.000000e-05 : f64} : (tensor<2x24x64xf32>, tensor<64xf32>, tensor<2x24x64xf32>) -> (tensor<2x24x64xf32>, tensor<64xf32>)
  %dx, %dw = mind.rmsnorm_grad %x, %w, %dy {epsilon = 1.0e-05 : f64}
      : (tensor<2x24x64xf32>, tensor<64xf32>, tensor<2x24x64xf32>)
      -> (tensor<2x24x64xf32>, tensor<64xf32>)
  // CHECK: return %[[DX]], %[[DW]]
  return %dx, %dw : tensor<2x24x64xf32>, tensor<64xf32>
}

// CHECK-LABEL: func.func @attention_grad
func.func @attention_grad(%q: tensor<2x24x4x16xf32>, %k: tensor<2x24x2x16xf32>,
                          %v: tensor<2x24x2x16xf32>, %o: tensor<2x24x4x16xf32>,
                          %lse: tensor<2x4x24xf32>, %do: tensor<2x24x4x16xf32>)
    -> (tensor<2x24x4x16xf32>, tensor<2x24x2x16xf32>, tensor<2x24x2x16xf32>, tensor<2x24x4x16xf32>) {
  // CHECK: %[[DQ:[a-z0-9_]+]], %[[DK:[a-z0-9_]+]], %[[DV:[a-z0-9_]+]] = mind.attention_grad %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {scale = 2.500000e-01 : f64} : (tensor<2x24x4x16xf32>, tensor<2x24x2x16xf32>, tensor<2x24x2x16xf32>, tensor<2x24x4x16xf32>, tensor<2x4x24xf32>, tensor<2x24x4x16xf32>) -> (tensor<2x24x4x16xf32>, tensor<2x24x2x16xf32>, tensor<2x24x2x16xf32>)
  %dq, %dk, %dv = mind.attention_grad %q, %k, %v, %o, %lse, %do {scale = 0.25 : f64}
      : (tensor<2x24x4x16xf32>, tensor<2x24x2x16xf32>, tensor<2x24x2x16xf32>,
         tensor<2x24x4x16xf32>, tensor<2x4x24xf32>, tensor<2x24x4x16xf32>)
      -> (tensor<2x24x4x16xf32>, tensor<2x24x2x16xf32>, tensor<2x24x2x16xf32>)
  // CHECK: %[[DQ2:[a-z0-9_]+]], %{{.*}}, %{{.*}} = mind.attention_grad %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {causal = false, scale = 2.500000e-01 : f64}
  %dq2, %dk2, %dv2 = mind.attention_grad %q, %k, %v, %o, %lse, %do {scale = 0.25 : f64, causal = false}
      : (tensor<2x24x4x16xf32>, tensor<2x24x2x16xf32>, tensor<2x24x2x16xf32>,
         tensor<2x24x4x16xf32>, tensor<2x4x24xf32>, tensor<2x24x4x16xf32>)
      -> (tensor<2x24x4x16xf32>, tensor<2x24x2x16xf32>, tensor<2x24x2x16xf32>)
  // CHECK: return %[[DQ]], %[[DK]], %[[DV]], %[[DQ2]]
  return %dq, %dk, %dv, %dq2
      : tensor<2x24x4x16xf32>, tensor<2x24x2x16xf32>, tensor<2x24x2x16xf32>, tensor<2x24x4x16xf32>
}

// CHECK-LABEL: func.func @elementwise_grads
func.func @elementwise_grads(%x: tensor<2x24x192xf32>, %u: tensor<2x24x192xf32>,
                             %dy: tensor<2x24x192xf32>, %y: tensor<48x4xf64>,
                             %dys: tensor<48x4xf64>)
    -> (tensor<2x24x192xf32>, tensor<2x24x192xf32>, tensor<2x24x192xf32>, tensor<48x4xf64>) {
  // CHECK: %[[S:[a-z0-9_]+]] = mind.silu_grad %{{.*}}, %{{.*}} : (tensor<2x24x192xf32>, tensor<2x24x192xf32>) -> tensor<2x24x192xf32>
  %dx = mind.silu_grad %x, %dy : (tensor<2x24x192xf32>, tensor<2x24x192xf32>) -> tensor<2x24x192xf32>
  // CHECK: %[[DG:[a-z0-9_]+]], %[[DU:[a-z0-9_]+]] = mind.swiglu_grad %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x24x192xf32>, tensor<2x24x192xf32>, tensor<2x24x192xf32>) -> (tensor<2x24x192xf32>, tensor<2x24x192xf32>)
  %dg, %du = mind.swiglu_grad %x, %u, %dy
      : (tensor<2x24x192xf32>, tensor<2x24x192xf32>, tensor<2x24x192xf32>)
      -> (tensor<2x24x192xf32>, tensor<2x24x192xf32>)
  // CHECK: %[[M:[a-z0-9_]+]] = mind.softmax_grad %{{.*}}, %{{.*}} : (tensor<48x4xf64>, tensor<48x4xf64>) -> tensor<48x4xf64>
  %ds = mind.softmax_grad %y, %dys : (tensor<48x4xf64>, tensor<48x4xf64>) -> tensor<48x4xf64>
  // CHECK: return %[[S]], %[[DG]], %[[DU]], %[[M]]
  return %dx, %dg, %du, %ds
      : tensor<2x24x192xf32>, tensor<2x24x192xf32>, tensor<2x24x192xf32>, tensor<48x4xf64>
}

// CHECK-LABEL: func.func @cross_entropy_grad
func.func @cross_entropy_grad(%logits: tensor<2x24x6400xf32>, %targets: tensor<2x24xi64>,
                              %mask_i: tensor<2x24xi64>, %mask_f: tensor<2x24xbf16>,
                              %g: tensor<f32>) -> (tensor<2x24x6400xf32>, tensor<2x24x6400xf32>) {
  // CHECK: mind.cross_entropy_grad %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x24x6400xf32>, tensor<2x24xi64>, tensor<2x24xi64>, tensor<f32>) -> tensor<2x24x6400xf32>
  %a = mind.cross_entropy_grad %logits, %targets, %mask_i, %g
      : (tensor<2x24x6400xf32>, tensor<2x24xi64>, tensor<2x24xi64>, tensor<f32>)
      -> tensor<2x24x6400xf32>
  // CHECK: mind.cross_entropy_grad %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x24x6400xf32>, tensor<2x24xi64>, tensor<2x24xbf16>, tensor<f32>) -> tensor<2x24x6400xf32>
  %b = mind.cross_entropy_grad %logits, %targets, %mask_f, %g
      : (tensor<2x24x6400xf32>, tensor<2x24xi64>, tensor<2x24xbf16>, tensor<f32>)
      -> tensor<2x24x6400xf32>
  return %a, %b : tensor<2x24x6400xf32>, tensor<2x24x6400xf32>
}

// CHECK-LABEL: func.func @moe_grads
func.func @moe_grads(%scores: tensor<48x4xf32>, %idx: tensor<48x2xi64>, %dw: tensor<48x2xf32>,
                     %dxs: tensor<96x64xf32>, %perm: tensor<96xi64>, %ys: tensor<96x64xf32>,
                     %w: tensor<48x2xf32>, %dy: tensor<48x64xf32>, %g: tensor<f32>)
    -> (tensor<48x4xf32>, tensor<48x4xf32>, tensor<48x64xf32>, tensor<96x64xf32>, tensor<48x2xf32>,
        tensor<48x4xf32>, tensor<48x4xf32>) {
  // CHECK: %[[TG:[a-z0-9_]+]] = mind.topk_grad %{{.*}}, %{{.*}}, %{{.*}} {normalize = true} : (tensor<48x4xf32>, tensor<48x2xi64>, tensor<48x2xf32>) -> tensor<48x4xf32>
  %ds = mind.topk_grad %scores, %idx, %dw {normalize = true}
      : (tensor<48x4xf32>, tensor<48x2xi64>, tensor<48x2xf32>) -> tensor<48x4xf32>
  // CHECK: %[[TG2:[a-z0-9_]+]] = mind.topk_grad %{{.*}}, %{{.*}}, %{{.*}} : (tensor<48x4xf32>, tensor<48x2xi64>, tensor<48x2xf32>) -> tensor<48x4xf32>
  %ds2 = mind.topk_grad %scores, %idx, %dw
      : (tensor<48x4xf32>, tensor<48x2xi64>, tensor<48x2xf32>) -> tensor<48x4xf32>
  // CHECK: %[[DG:[a-z0-9_]+]] = mind.moe_dispatch_grad %{{.*}}, %{{.*}} {top_k = 2 : i64} : (tensor<96x64xf32>, tensor<96xi64>) -> tensor<48x64xf32>
  %dx = mind.moe_dispatch_grad %dxs, %perm {top_k = 2 : i64}
      : (tensor<96x64xf32>, tensor<96xi64>) -> tensor<48x64xf32>
  // CHECK: %[[DYS:[a-z0-9_]+]], %[[DWS:[a-z0-9_]+]] = mind.moe_combine_grad %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (tensor<96x64xf32>, tensor<96xi64>, tensor<48x2xf32>, tensor<48x64xf32>) -> (tensor<96x64xf32>, tensor<48x2xf32>)
  %dys, %dws = mind.moe_combine_grad %ys, %perm, %w, %dy
      : (tensor<96x64xf32>, tensor<96xi64>, tensor<48x2xf32>, tensor<48x64xf32>)
      -> (tensor<96x64xf32>, tensor<48x2xf32>)
  // CHECK: %[[AG:[a-z0-9_]+]] = mind.moe_aux_loss_grad %{{.*}}, %{{.*}}, %{{.*}} {alpha = 1.000000e-02 : f64, batch = 2 : i64, seq_aux = true} : (tensor<48x4xf32>, tensor<48x2xi64>, tensor<f32>) -> tensor<48x4xf32>
  %da = mind.moe_aux_loss_grad %scores, %idx, %g {alpha = 0.01 : f64, seq_aux = true, batch = 2 : i64}
      : (tensor<48x4xf32>, tensor<48x2xi64>, tensor<f32>) -> tensor<48x4xf32>
  // CHECK: %[[AG2:[a-z0-9_]+]] = mind.moe_aux_loss_grad %{{.*}}, %{{.*}}, %{{.*}} {alpha = 1.000000e-02 : f64, batch = 1 : i64, seq_aux = false} : (tensor<48x4xf32>, tensor<48x2xi64>, tensor<f32>) -> tensor<48x4xf32>
  %da2 = mind.moe_aux_loss_grad %scores, %idx, %g {alpha = 0.01 : f64, seq_aux = false, batch = 1 : i64}
      : (tensor<48x4xf32>, tensor<48x2xi64>, tensor<f32>) -> tensor<48x4xf32>
  // CHECK: return %[[TG]], %[[TG2]], %[[DG]], %[[DYS]], %[[DWS]], %[[AG]], %[[AG2]]
  return %ds, %ds2, %dx, %dys, %dws, %da, %da2
      : tensor<48x4xf32>, tensor<48x4xf32>, tensor<48x64xf32>, tensor<96x64xf32>, tensor<48x2xf32>,
        tensor<48x4xf32>, tensor<48x4xf32>
}

// CHECK-LABEL: func.func @grouped_linear_grad
func.func @grouped_linear_grad(%xs: tensor<8x4xf32>, %offsets: tensor<3xi64>, %dy: tensor<8x6xf32>,
                               %w0: tensor<6x4xf32>, %w1: tensor<6x4xf32>)
    -> (tensor<8x4xf32>, tensor<6x4xf32>, tensor<6x4xf32>) {
  // CHECK: %[[DX:[a-z0-9_]+]], %[[DW:[a-z0-9_]+]]:2 = mind.grouped_linear_grad %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (tensor<8x4xf32>, tensor<3xi64>, tensor<8x6xf32>, tensor<6x4xf32>, tensor<6x4xf32>) -> (tensor<8x4xf32>, tensor<6x4xf32>, tensor<6x4xf32>)
  %dx, %dw0, %dw1 = mind.grouped_linear_grad %xs, %offsets, %dy, %w0, %w1
      : (tensor<8x4xf32>, tensor<3xi64>, tensor<8x6xf32>, tensor<6x4xf32>, tensor<6x4xf32>)
      -> (tensor<8x4xf32>, tensor<6x4xf32>, tensor<6x4xf32>)
  // CHECK: return %[[DX]], %[[DW]]#0, %[[DW]]#1
  return %dx, %dw0, %dw1 : tensor<8x4xf32>, tensor<6x4xf32>, tensor<6x4xf32>
}

// CHECK-LABEL: func.func @grouped_linear_grad_bf16
func.func @grouped_linear_grad_bf16(%xs: tensor<3x2xbf16>, %offsets: tensor<2xi32>,
                                    %dy: tensor<3x5xbf16>, %w0: tensor<5x2xbf16>)
    -> (tensor<3x2xbf16>, tensor<5x2xbf16>) {
  // CHECK: mind.grouped_linear_grad %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (tensor<3x2xbf16>, tensor<2xi32>, tensor<3x5xbf16>, tensor<5x2xbf16>) -> (tensor<3x2xbf16>, tensor<5x2xbf16>)
  %dx, %dw0 = mind.grouped_linear_grad %xs, %offsets, %dy, %w0
      : (tensor<3x2xbf16>, tensor<2xi32>, tensor<3x5xbf16>, tensor<5x2xbf16>)
      -> (tensor<3x2xbf16>, tensor<5x2xbf16>)
  return %dx, %dw0 : tensor<3x2xbf16>, tensor<5x2xbf16>
}

// CHECK-LABEL: func.func @fused_elementwise
func.func @fused_elementwise(%g: tensor<2x8xbf16>, %u: tensor<2x8xbf16>, %h: tensor<2x8xf32>)
    -> (tensor<2x8xf32>, tensor<2x8xbf16>) {
  // CHECK: %[[F:[a-z0-9_]+]]:2 = mind.fused_elementwise %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x8xbf16>, tensor<2x8xbf16>, tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<2x8xbf16>) {
  // CHECK: ^bb0(%[[X:.*]]: tensor<2x8xbf16>, %[[Y:.*]]: tensor<2x8xbf16>, %[[Z:.*]]: tensor<2x8xf32>):
  // CHECK:   %[[S:.*]] = mind.swiglu %[[X]], %[[Y]]
  // CHECK:   %[[C:.*]] = mind.cast %[[S]]
  // CHECK:   %[[A:.*]] = mind.add %[[C]], %[[Z]]
  // CHECK:   mind.yield %[[A]], %[[S]] : tensor<2x8xf32>, tensor<2x8xbf16>
  %r:2 = mind.fused_elementwise %g, %u, %h
      : (tensor<2x8xbf16>, tensor<2x8xbf16>, tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<2x8xbf16>) {
  ^bb0(%x: tensor<2x8xbf16>, %y: tensor<2x8xbf16>, %z: tensor<2x8xf32>):
    %s = mind.swiglu %x, %y : (tensor<2x8xbf16>, tensor<2x8xbf16>) -> tensor<2x8xbf16>
    %c = mind.cast %s : (tensor<2x8xbf16>) -> tensor<2x8xf32>
    %a = mind.add %c, %z : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
    mind.yield %a, %s : tensor<2x8xf32>, tensor<2x8xbf16>
  }
  // CHECK: return %[[F]]#0, %[[F]]#1
  return %r#0, %r#1 : tensor<2x8xf32>, tensor<2x8xbf16>
}

// CHECK-LABEL: func.func @add_rmsnorm
func.func @add_rmsnorm(%r: tensor<2x8xf32>, %d: tensor<2x8xbf16>, %w: tensor<8xf32>)
    -> (tensor<2x8xf32>, tensor<2x8xbf16>, tensor<2x8xf32>, tensor<8xf32>, tensor<2x8xbf16>) {
  // CHECK: mind.add_rmsnorm %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 1.000000e-05 : f64} : (tensor<2x8xf32>, tensor<2x8xbf16>, tensor<8xf32>) -> (tensor<2x8xf32>, tensor<2x8xbf16>)
  %s, %y = mind.add_rmsnorm %r, %d, %w {epsilon = 1.0e-05 : f64}
      : (tensor<2x8xf32>, tensor<2x8xbf16>, tensor<8xf32>) -> (tensor<2x8xf32>, tensor<2x8xbf16>)
  // CHECK: mind.rmsnorm_grad_residual %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 1.000000e-05 : f64} : (tensor<2x8xf32>, tensor<8xf32>, tensor<2x8xbf16>, tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<8xf32>, tensor<2x8xbf16>)
  %g, %dw, %n = mind.rmsnorm_grad_residual %s, %w, %d, %r {epsilon = 1.0e-05 : f64}
      : (tensor<2x8xf32>, tensor<8xf32>, tensor<2x8xbf16>, tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<8xf32>, tensor<2x8xbf16>)
  return %s, %y, %g, %dw, %n : tensor<2x8xf32>, tensor<2x8xbf16>, tensor<2x8xf32>, tensor<8xf32>, tensor<2x8xbf16>
}

// CHECK-LABEL: func.func @attention_grad_rope
func.func @attention_grad_rope(%q: tensor<1x8x4x16xbf16>, %k: tensor<1x8x2x16xbf16>, %o: tensor<1x8x4x16xbf16>,
                               %lse: tensor<1x4x8xf32>, %t: tensor<8x16xf32>)
    -> (tensor<1x8x4x16xbf16>, tensor<1x8x2x16xbf16>, tensor<1x8x2x16xbf16>) {
  // CHECK: mind.attention_grad_rope %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {causal = false, scale = 2.500000e-01 : f64} : (tensor<1x8x4x16xbf16>, tensor<1x8x2x16xbf16>, tensor<1x8x2x16xbf16>, tensor<1x8x4x16xbf16>, tensor<1x4x8xf32>, tensor<1x8x4x16xbf16>, tensor<8x16xf32>, tensor<8x16xf32>) -> (tensor<1x8x4x16xbf16>, tensor<1x8x2x16xbf16>, tensor<1x8x2x16xbf16>)
  %dq, %dk, %dv = mind.attention_grad_rope %q, %k, %k, %o, %lse, %o, %t, %t {scale = 0.25 : f64, causal = false}
      : (tensor<1x8x4x16xbf16>, tensor<1x8x2x16xbf16>, tensor<1x8x2x16xbf16>, tensor<1x8x4x16xbf16>,
         tensor<1x4x8xf32>, tensor<1x8x4x16xbf16>, tensor<8x16xf32>, tensor<8x16xf32>)
      -> (tensor<1x8x4x16xbf16>, tensor<1x8x2x16xbf16>, tensor<1x8x2x16xbf16>)
  return %dq, %dk, %dv : tensor<1x8x4x16xbf16>, tensor<1x8x2x16xbf16>, tensor<1x8x2x16xbf16>
}

// CHECK-LABEL: func.func @lm_head_loss
func.func @lm_head_loss(%x: tensor<2x24x8xbf16>, %w: tensor<32x8xbf16>, %t: tensor<2x24xi64>, %s: tensor<f32>)
    -> (tensor<f32>, tensor<2x24x8xbf16>, tensor<32x8xbf16>) {
  // CHECK: mind.lm_head_loss %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {chunk_rows = 16 : i64} : (tensor<2x24x8xbf16>, tensor<32x8xbf16>, tensor<2x24xi64>, tensor<2x24xi64>, tensor<f32>) -> (tensor<f32>, tensor<2x24x8xbf16>, tensor<32x8xbf16>)
  %l, %dx, %dw = mind.lm_head_loss %x, %w, %t, %t, %s {chunk_rows = 16 : i64}
      : (tensor<2x24x8xbf16>, tensor<32x8xbf16>, tensor<2x24xi64>, tensor<2x24xi64>, tensor<f32>)
      -> (tensor<f32>, tensor<2x24x8xbf16>, tensor<32x8xbf16>)
  return %l, %dx, %dw : tensor<f32>, tensor<2x24x8xbf16>, tensor<32x8xbf16>
}
