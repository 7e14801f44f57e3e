// RUN: mind-opt %s -split-input-file -verify-diagnostics

// Verifier tests for the `mind` dialect.
//
// Policy: every message that dialects/lib/Dialect/Mind/IR/MindOps.cpp can
// emit has at least one case here, for every op that can emit it (messages of
// the shared operand checks are exercised on the forward op and on its
// gradient op). A few cases cover the ODS constraints (operand/result types,
// required attributes, SameOperandsAndResultType). Add a case whenever a
// verifier gains a message. Each case is its own split of the input file and
// expects exactly one error.

//===----------------------------------------------------------------------===//
// ODS type and attribute constraints
//===----------------------------------------------------------------------===//

func.func @dynamic_shape(%x: tensor<?x4xf32>, %w: tensor<5x4xf32>) {
  // expected-error @+1 {{operand #0 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<?x4xf32>'}}
  %0 = mind.linear %x, %w : (tensor<?x4xf32>, tensor<5x4xf32>) -> tensor<3x5xf32>
  return
}

// -----

func.func @dynamic_result_shape(%x: tensor<3x4xf32>) {
  // expected-error @+1 {{result #0 must be statically shaped tensor of}}
  %0 = mind.reshape %x : (tensor<3x4xf32>) -> tensor<?xf32>
  return
}

// -----

func.func @unranked(%x: tensor<*xf32>) {
  // expected-error @+1 {{operand #0 must be statically shaped tensor of}}
  %0 = mind.softmax %x : (tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @int_where_float_expected(%x: tensor<4xi64>) {
  // expected-error @+1 {{operand #0 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<4xi64>'}}
  %0 = mind.silu %x : (tensor<4xi64>) -> tensor<4xi64>
  return
}

// -----

func.func @float_ids(%t: tensor<10x4xf32>, %ids: tensor<3xf32>) {
  // expected-error @+1 {{operand #1 must be statically shaped tensor of 32-bit signless integer or 64-bit signless integer values, but got 'tensor<3xf32>'}}
  %0 = mind.embedding %t, %ids : (tensor<10x4xf32>, tensor<3xf32>) -> tensor<3x4xf32>
  return
}

// -----

func.func @i8_elements(%x: tensor<4xi8>) {
  // expected-error @+1 {{operand #0 must be statically shaped tensor of 32-bit signless integer or 64-bit signless integer or 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<4xi8>'}}
  %0 = mind.cast %x : (tensor<4xi8>) -> tensor<4xf32>
  return
}

// -----

func.func @loss_not_scalar(%l: tensor<4x3xf32>, %t: tensor<4xi64>, %m: tensor<4xi64>) {
  // expected-error @+1 {{result #0 must be 0D tensor of 32-bit float or 64-bit float values, but got 'tensor<1xf32>'}}
  %0 = mind.cross_entropy %l, %t, %m : (tensor<4x3xf32>, tensor<4xi64>, tensor<4xi64>) -> tensor<1xf32>
  return
}

// -----

func.func @loss_bf16(%l: tensor<4x3xf32>, %t: tensor<4xi64>, %m: tensor<4xi64>) {
  // expected-error @+1 {{result #0 must be 0D tensor of 32-bit float or 64-bit float values, but got 'tensor<bf16>'}}
  %0 = mind.cross_entropy %l, %t, %m : (tensor<4x3xf32>, tensor<4xi64>, tensor<4xi64>) -> tensor<bf16>
  return
}

// -----

func.func @binary_type_mismatch(%a: tensor<4xf32>, %b: tensor<4xf16>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = mind.add %a, %b : (tensor<4xf32>, tensor<4xf16>) -> tensor<4xf32>
  return
}

// -----

func.func @binary_shape_mismatch(%a: tensor<4xf32>, %b: tensor<2x2xf32>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = mind.mul %a, %b : (tensor<4xf32>, tensor<2x2xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @silu_result_mismatch(%a: tensor<4xf32>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = mind.silu %a : (tensor<4xf32>) -> tensor<4xf64>
  return
}

// -----

func.func @swiglu_mismatch(%a: tensor<4xf32>, %b: tensor<5xf32>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = mind.swiglu %a, %b : (tensor<4xf32>, tensor<5xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @softmax_result_mismatch(%a: tensor<4x3xf32>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = mind.softmax %a : (tensor<4x3xf32>) -> tensor<3x4xf32>
  return
}

// -----

func.func @silu_grad_mismatch(%x: tensor<4xf32>, %dy: tensor<4xbf16>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = mind.silu_grad %x, %dy : (tensor<4xf32>, tensor<4xbf16>) -> tensor<4xf32>
  return
}

// -----

func.func @swiglu_grad_mismatch(%g: tensor<4xf32>, %u: tensor<4xf32>, %dy: tensor<4xf32>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0:2 = mind.swiglu_grad %g, %u, %dy : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<4xf32>, tensor<2x2xf32>)
  return
}

// -----

func.func @softmax_grad_mismatch(%y: tensor<4x3xf32>, %dy: tensor<4x3xf64>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = mind.softmax_grad %y, %dy : (tensor<4x3xf32>, tensor<4x3xf64>) -> tensor<4x3xf32>
  return
}

// -----

func.func @missing_attr(%x: tensor<4xf32>, %w: tensor<4xf32>) {
  // expected-error @+1 {{requires attribute 'epsilon'}}
  %0 = mind.rmsnorm %x, %w : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @missing_bool_attr(%s: tensor<4x3xf32>, %i: tensor<4x2xi64>) {
  // expected-error @+1 {{requires attribute 'seq_aux'}}
  %0 = mind.moe_aux_loss %s, %i {alpha = 0.1 : f64, batch = 1 : i64} : (tensor<4x3xf32>, tensor<4x2xi64>) -> tensor<f32>
  return
}

// -----

func.func @wrong_attr_type(%s: tensor<4x4xf32>) {
  // expected-error @+1 {{attribute 'k' failed to satisfy constraint: 64-bit signless integer attribute}}
  %0:2 = mind.topk %s {k = 2 : i32} : (tensor<4x4xf32>) -> (tensor<4x2xf32>, tensor<4x2xi64>)
  return
}

// -----

func.func @f32_epsilon(%x: tensor<4xf32>, %w: tensor<4xf32>) {
  // expected-error @+1 {{attribute 'epsilon' failed to satisfy constraint: 64-bit float attribute}}
  %0 = mind.rmsnorm %x, %w {epsilon = 1.0e-05 : f32} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @permutation_not_dense_array(%x: tensor<4x3xf32>) {
  // expected-error @+1 {{attribute 'permutation' failed to satisfy constraint: i64 dense array attribute}}
  %0 = mind.transpose %x {permutation = [1, 0]} : (tensor<4x3xf32>) -> tensor<3x4xf32>
  return
}

// -----

func.func @ce_grad_not_scalar(%l: tensor<4x3xf32>, %t: tensor<4xi64>, %m: tensor<4xi64>, %g: tensor<1xf32>) {
  // expected-error @+1 {{operand #3 must be 0D tensor of 32-bit float or 64-bit float values, but got 'tensor<1xf32>'}}
  %0 = mind.cross_entropy_grad %l, %t, %m, %g : (tensor<4x3xf32>, tensor<4xi64>, tensor<4xi64>, tensor<1xf32>) -> tensor<4x3xf32>
  return
}

// -----

func.func @moe_route_float_indices(%i: tensor<4x2xf32>) {
  // expected-error @+1 {{operand #0 must be statically shaped tensor of 32-bit signless integer or 64-bit signless integer values, but got 'tensor<4x2xf32>'}}
  %0:2 = mind.moe_route %i {num_experts = 3 : i64} : (tensor<4x2xf32>) -> (tensor<8xi64>, tensor<4xi64>)
  return
}

// -----

//===----------------------------------------------------------------------===//
// embedding
//===----------------------------------------------------------------------===//

func.func @embedding_table_rank(%t: tensor<10xf32>, %ids: tensor<3xi64>) {
  // expected-error @+1 {{'mind.embedding' op table must be rank 2, got rank 1}}
  %0 = mind.embedding %t, %ids : (tensor<10xf32>, tensor<3xi64>) -> tensor<3xf32>
  return
}

// -----

func.func @embedding_result_element_type(%t: tensor<10x4xf32>, %ids: tensor<3xi64>) {
  // expected-error @+1 {{'mind.embedding' op result element type 'f16' must match table element type 'f32'}}
  %0 = mind.embedding %t, %ids : (tensor<10x4xf32>, tensor<3xi64>) -> tensor<3x4xf16>
  return
}

// -----

func.func @embedding_result_shape(%t: tensor<10x4xf32>, %ids: tensor<2x3xi64>) {
  // expected-error @+1 {{'mind.embedding' op result must have shape [2, 3, 4], got [6, 4]}}
  %0 = mind.embedding %t, %ids : (tensor<10x4xf32>, tensor<2x3xi64>) -> tensor<6x4xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// linear
//===----------------------------------------------------------------------===//

func.func @linear_weight_rank(%x: tensor<2x4xf32>, %w: tensor<5x4x1xf32>) {
  // expected-error @+1 {{'mind.linear' op weight must be rank 2, got rank 3}}
  %0 = mind.linear %x, %w : (tensor<2x4xf32>, tensor<5x4x1xf32>) -> tensor<2x5xf32>
  return
}

// -----

func.func @linear_input_rank0(%x: tensor<f32>, %w: tensor<5x4xf32>) {
  // expected-error @+1 {{'mind.linear' op input must have rank >= 1}}
  %0 = mind.linear %x, %w : (tensor<f32>, tensor<5x4xf32>) -> tensor<5xf32>
  return
}

// -----

func.func @linear_contraction(%x: tensor<2x3x4xf32>, %w: tensor<5x3xf32>) {
  // expected-error @+1 {{'mind.linear' op input's last dimension (4) must equal weight dimension 1 (3)}}
  %0 = mind.linear %x, %w : (tensor<2x3x4xf32>, tensor<5x3xf32>) -> tensor<2x3x5xf32>
  return
}

// -----

func.func @linear_weight_element_type(%x: tensor<2x4xf32>, %w: tensor<5x4xbf16>) {
  // expected-error @+1 {{'mind.linear' op weight element type 'bf16' must match input element type 'f32'}}
  %0 = mind.linear %x, %w : (tensor<2x4xf32>, tensor<5x4xbf16>) -> tensor<2x5xf32>
  return
}

// -----

func.func @linear_result_element_type(%x: tensor<2x4xf32>, %w: tensor<5x4xf32>) {
  // expected-error @+1 {{'mind.linear' op result element type 'f64' must match input element type 'f32'}}
  %0 = mind.linear %x, %w : (tensor<2x4xf32>, tensor<5x4xf32>) -> tensor<2x5xf64>
  return
}

// -----

func.func @linear_result_shape(%x: tensor<2x3x4xf32>, %w: tensor<5x4xf32>) {
  // expected-error @+1 {{'mind.linear' op result must have shape [2, 3, 5], got [6, 5]}}
  %0 = mind.linear %x, %w : (tensor<2x3x4xf32>, tensor<5x4xf32>) -> tensor<6x5xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// matmul
//===----------------------------------------------------------------------===//

func.func @matmul_lhs_rank(%a: tensor<2x3x4xf32>, %b: tensor<4x5xf32>) {
  // expected-error @+1 {{'mind.matmul' op lhs must be rank 2, got rank 3}}
  %0 = mind.matmul %a, %b : (tensor<2x3x4xf32>, tensor<4x5xf32>) -> tensor<2x5xf32>
  return
}

// -----

func.func @matmul_rhs_rank(%a: tensor<2x4xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{'mind.matmul' op rhs must be rank 2, got rank 1}}
  %0 = mind.matmul %a, %b : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @matmul_rhs_element_type(%a: tensor<2x4xf32>, %b: tensor<4x5xf16>) {
  // expected-error @+1 {{'mind.matmul' op rhs element type 'f16' must match lhs element type 'f32'}}
  %0 = mind.matmul %a, %b : (tensor<2x4xf32>, tensor<4x5xf16>) -> tensor<2x5xf32>
  return
}

// -----

func.func @matmul_result_element_type(%a: tensor<2x4xbf16>, %b: tensor<4x5xbf16>) {
  // expected-error @+1 {{'mind.matmul' op result element type 'f32' must match lhs element type 'bf16'}}
  %0 = mind.matmul %a, %b : (tensor<2x4xbf16>, tensor<4x5xbf16>) -> tensor<2x5xf32>
  return
}

// -----

func.func @matmul_contraction(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) {
  // expected-error @+1 {{'mind.matmul' op contraction dimensions differ: lhs gives 3, rhs gives 4}}
  %0 = mind.matmul %a, %b : (tensor<2x3xf32>, tensor<4x5xf32>) -> tensor<2x5xf32>
  return
}

// -----

func.func @matmul_contraction_transpose_lhs(%a: tensor<2x3xf32>, %b: tensor<3x5xf32>) {
  // transpose_lhs makes lhs [3, 2]: K = 2 against rhs's 3.
  // expected-error @+1 {{'mind.matmul' op contraction dimensions differ: lhs gives 2, rhs gives 3}}
  %0 = mind.matmul %a, %b {transpose_lhs = true} : (tensor<2x3xf32>, tensor<3x5xf32>) -> tensor<3x5xf32>
  return
}

// -----

func.func @matmul_contraction_transpose_rhs(%a: tensor<2x3xf32>, %b: tensor<3x5xf32>) {
  // transpose_rhs makes rhs [5, 3]: K = 5 against lhs's 3.
  // expected-error @+1 {{'mind.matmul' op contraction dimensions differ: lhs gives 3, rhs gives 5}}
  %0 = mind.matmul %a, %b {transpose_rhs = true} : (tensor<2x3xf32>, tensor<3x5xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @matmul_result_shape(%a: tensor<2x3xf32>, %b: tensor<3x5xf32>) {
  // expected-error @+1 {{'mind.matmul' op result must have shape [2, 5], got [5, 2]}}
  %0 = mind.matmul %a, %b : (tensor<2x3xf32>, tensor<3x5xf32>) -> tensor<5x2xf32>
  return
}

// -----

func.func @matmul_result_shape_both_transposed(%a: tensor<3x2xf32>, %b: tensor<5x3xf32>) {
  // expected-error @+1 {{'mind.matmul' op result must have shape [2, 5], got [3, 3]}}
  %0 = mind.matmul %a, %b {transpose_lhs = true, transpose_rhs = true} : (tensor<3x2xf32>, tensor<5x3xf32>) -> tensor<3x3xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// rmsnorm
//===----------------------------------------------------------------------===//

func.func @rmsnorm_input_rank0(%x: tensor<f32>, %w: tensor<1xf32>) {
  // expected-error @+1 {{'mind.rmsnorm' op input must have rank >= 1}}
  %0 = mind.rmsnorm %x, %w {epsilon = 1.0e-05 : f64} : (tensor<f32>, tensor<1xf32>) -> tensor<f32>
  return
}

// -----

func.func @rmsnorm_weight_shape(%x: tensor<2x8xf32>, %w: tensor<2xf32>) {
  // expected-error @+1 {{'mind.rmsnorm' op weight must have shape [8], got [2]}}
  %0 = mind.rmsnorm %x, %w {epsilon = 1.0e-05 : f64} : (tensor<2x8xf32>, tensor<2xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @rmsnorm_result_type(%x: tensor<2x8xbf16>, %w: tensor<8xbf16>) {
  // expected-error @+1 {{'mind.rmsnorm' op result must have the input's type 'tensor<2x8xbf16>' or its shape in a narrower float type, got 'tensor<2x8xf32>'}}
  %0 = mind.rmsnorm %x, %w {epsilon = 1.0e-05 : f64} : (tensor<2x8xbf16>, tensor<8xbf16>) -> tensor<2x8xf32>
  return
}

// -----

func.func @rmsnorm_result_shape(%x: tensor<2x8xf32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{'mind.rmsnorm' op result must have the input's type 'tensor<2x8xf32>' or its shape in a narrower float type, got 'tensor<16xbf16>'}}
  %0 = mind.rmsnorm %x, %w {epsilon = 1.0e-05 : f64} : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<16xbf16>
  return
}

// -----

func.func @rmsnorm_epsilon_zero(%x: tensor<2x8xf32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{'mind.rmsnorm' op epsilon must be positive}}
  %0 = mind.rmsnorm %x, %w {epsilon = 0.0 : f64} : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @rmsnorm_epsilon_negative(%x: tensor<2x8xf32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{'mind.rmsnorm' op epsilon must be positive}}
  %0 = mind.rmsnorm %x, %w {epsilon = -1.0e-05 : f64} : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// rope_table
//===----------------------------------------------------------------------===//

func.func @rope_table_rank() {
  // expected-error @+1 {{'mind.rope_table' op cos must be rank 2, got rank 3}}
  %c, %s = mind.rope_table {theta = 1.0e+06 : f64, max_positions = 32 : i64} : () -> (tensor<1x8x16xf32>, tensor<1x8x16xf32>)
  return
}

// -----

func.func @rope_table_sin_type() {
  // expected-error @+1 {{'mind.rope_table' op sin type 'tensor<8x16xf64>' must match cos type 'tensor<8x16xf32>'}}
  %c, %s = mind.rope_table {theta = 1.0e+06 : f64, max_positions = 32 : i64} : () -> (tensor<8x16xf32>, tensor<8x16xf64>)
  return
}

// -----

func.func @rope_table_odd_head_dim() {
  // expected-error @+1 {{'mind.rope_table' op head dimension must be even and positive, got 15}}
  %c, %s = mind.rope_table {theta = 1.0e+06 : f64, max_positions = 32 : i64} : () -> (tensor<8x15xf32>, tensor<8x15xf32>)
  return
}

// -----

func.func @rope_table_zero_head_dim() {
  // expected-error @+1 {{'mind.rope_table' op head dimension must be even and positive, got 0}}
  %c, %s = mind.rope_table {theta = 1.0e+06 : f64, max_positions = 32 : i64} : () -> (tensor<8x0xf32>, tensor<8x0xf32>)
  return
}

// -----

func.func @rope_table_theta_zero() {
  // expected-error @+1 {{'mind.rope_table' op theta must be greater than 1}}
  %c, %s = mind.rope_table {theta = 0.0 : f64, max_positions = 32 : i64} : () -> (tensor<8x16xf32>, tensor<8x16xf32>)
  return
}

// -----

func.func @rope_table_theta_one() {
  // expected-error @+1 {{'mind.rope_table' op theta must be greater than 1}}
  %c, %s = mind.rope_table {theta = 1.0 : f64, max_positions = 32 : i64} : () -> (tensor<8x16xf32>, tensor<8x16xf32>)
  return
}

// -----

func.func @rope_table_too_long() {
  // expected-error @+1 {{'mind.rope_table' op table length 64 exceeds max_positions 32}}
  %c, %s = mind.rope_table {theta = 1.0e+06 : f64, max_positions = 32 : i64} : () -> (tensor<64x16xf32>, tensor<64x16xf32>)
  return
}

// -----

func.func @rope_table_negative_max_positions() {
  // expected-error @+1 {{'mind.rope_table' op table length 8 exceeds max_positions -1}}
  %c, %s = mind.rope_table {theta = 1.0e+06 : f64, max_positions = -1 : i64} : () -> (tensor<8x16xf32>, tensor<8x16xf32>)
  return
}

// -----

func.func @rope_table_yarn_factor() {
  // expected-error @+1 {{'mind.rope_table' op yarn_factor must be positive}}
  %c, %s = mind.rope_table {theta = 1.0e+06 : f64, max_positions = 32 : i64, yarn_factor = 0.0 : f64} : () -> (tensor<8x16xf32>, tensor<8x16xf32>)
  return
}

// -----

//===----------------------------------------------------------------------===//
// rope
//===----------------------------------------------------------------------===//

func.func @rope_input_rank(%x: tensor<2x8x16xf32>, %c: tensor<8x16xf32>) {
  // expected-error @+1 {{'mind.rope' op input must be rank 4, got rank 3}}
  %0 = mind.rope %x, %c, %c : (tensor<2x8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<2x8x16xf32>
  return
}

// -----

func.func @rope_result_type(%x: tensor<2x8x4x16xf32>, %c: tensor<8x16xf32>) {
  // expected-error @+1 {{'mind.rope' op result type 'tensor<2x8x4x16xf16>' must match input type 'tensor<2x8x4x16xf32>'}}
  %0 = mind.rope %x, %c, %c : (tensor<2x8x4x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<2x8x4x16xf16>
  return
}

// -----

func.func @rope_odd_head_dim(%x: tensor<2x8x4x15xf32>, %c: tensor<8x15xf32>) {
  // expected-error @+1 {{'mind.rope' op head dimension must be even and positive, got 15}}
  %0 = mind.rope %x, %c, %c : (tensor<2x8x4x15xf32>, tensor<8x15xf32>, tensor<8x15xf32>) -> tensor<2x8x4x15xf32>
  return
}

// -----

func.func @rope_cos_shape(%x: tensor<2x8x4x16xf32>, %c: tensor<16x16xf32>, %s: tensor<8x16xf32>) {
  // expected-error @+1 {{'mind.rope' op cos must have shape [8, 16], got [16, 16]}}
  %0 = mind.rope %x, %c, %s : (tensor<2x8x4x16xf32>, tensor<16x16xf32>, tensor<8x16xf32>) -> tensor<2x8x4x16xf32>
  return
}

// -----

func.func @rope_sin_shape(%x: tensor<2x8x4x16xf32>, %c: tensor<8x16xf32>, %s: tensor<8x8xf32>) {
  // expected-error @+1 {{'mind.rope' op sin must have shape [8, 16], got [8, 8]}}
  %0 = mind.rope %x, %c, %s {inverse = true} : (tensor<2x8x4x16xf32>, tensor<8x16xf32>, tensor<8x8xf32>) -> tensor<2x8x4x16xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// attention
//===----------------------------------------------------------------------===//

func.func @attention_query_rank(%q: tensor<2x8x64xf32>, %k: tensor<2x8x2x16xf32>) {
  // expected-error @+1 {{'mind.attention' op query must be rank 4, got rank 3}}
  %o, %l = mind.attention %q, %k, %k {scale = 0.25 : f64} : (tensor<2x8x64xf32>, tensor<2x8x2x16xf32>, tensor<2x8x2x16xf32>) -> (tensor<2x8x64xf32>, tensor<2x4x8xf32>)
  return
}

// -----

func.func @attention_key_rank(%q: tensor<2x8x4x16xf32>, %k: tensor<2x8x32xf32>, %v: tensor<2x8x2x16xf32>) {
  // expected-error @+1 {{'mind.attention' op key must be rank 4, got rank 3}}
  %o, %l = mind.attention %q, %k, %v {scale = 0.25 : f64} : (tensor<2x8x4x16xf32>, tensor<2x8x32xf32>, tensor<2x8x2x16xf32>) -> (tensor<2x8x4x16xf32>, tensor<2x4x8xf32>)
  return
}

// -----

func.func @attention_value_rank(%q: tensor<2x8x4x16xf32>, %k: tensor<2x8x2x16xf32>, %v: tensor<2x8x2x16x1xf32>) {
  // expected-error @+1 {{'mind.attention' op value must be rank 4, got rank 5}}
  %o, %l = mind.attention %q, %k, %v {scale = 0.25 : f64} : (tensor<2x8x4x16xf32>, tensor<2x8x2x16xf32>, tensor<2x8x2x16x1xf32>) -> (tensor<2x8x4x16xf32>, tensor<2x4x8xf32>)
  return
}

// -----

func.func @attention_value_type(%q: tensor<2x8x4x16xf32>, %k: tensor<2x8x2x16xf32>, %v: tensor<2x8x4x16xf32>) {
  // expected-error @+1 {{'mind.attention' op value type 'tensor<2x8x4x16xf32>' must match key type 'tensor<2x8x2x16xf32>'}}
  %o, %l = mind.attention %q, %k, %v {scale = 0.25 : f64} : (tensor<2x8x4x16xf32>, tensor<2x8x2x16xf32>, tensor<2x8x4x16xf32>) -> (tensor<2x8x4x16xf32>, tensor<2x4x8xf32>)
  return
}

// -----

func.func @attention_key_element_type(%q: tensor<2x8x4x16xf32>, %k: tensor<2x8x2x16xbf16>) {
  // expected-error @+1 {{'mind.attention' op key element type 'bf16' must match query element type 'f32'}}
  %o, %l = mind.attention %q, %k, %k {scale = 0.25 : f64} : (tensor<2x8x4x16xf32>, tensor<2x8x2x16xbf16>, tensor<2x8x2x16xbf16>) -> (tensor<2x8x4x16xf32>, tensor<2x4x8xf32>)
  return
}

// -----

func.func @attention_result_type(%q: tensor<2x8x4x16xf32>, %k: tensor<2x8x2x16xf32>) {
  // expected-error @+1 {{'mind.attention' op result type 'tensor<2x8x2x16xf32>' must match query type 'tensor<2x8x4x16xf32>'}}
  %o, %l = mind.attention %q, %k, %k {scale = 0.25 : f64} : (tensor<2x8x4x16xf32>, tensor<2x8x2x16xf32>, tensor<2x8x2x16xf32>) -> (tensor<2x8x2x16xf32>, tensor<2x4x8xf32>)
  return
}

// -----

func.func @attention_batch_mismatch(%q: tensor<2x8x4x16xf32>, %k: tensor<1x8x2x16xf32>) {
  // expected-error @+1 {{'mind.attention' op key shape [1, 8, 2, 16] must agree with query shape [2, 8, 4, 16] in batch, sequence and head dimension}}
  %o, %l = mind.attention %q, %k, %k {scale = 0.25 : f64} : (tensor<2x8x4x16xf32>, tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>) -> (tensor<2x8x4x16xf32>, tensor<2x4x8xf32>)
  return
}

// -----

func.func @attention_head_dim_mismatch(%q: tensor<2x8x4x16xf32>, %k: tensor<2x8x2x8xf32>) {
  // expected-error @+1 {{'mind.attention' op key shape [2, 8, 2, 8] must agree with query shape [2, 8, 4, 16] in batch, sequence and head dimension}}
  %o, %l = mind.attention %q, %k, %k {scale = 0.25 : f64} : (tensor<2x8x4x16xf32>, tensor<2x8x2x8xf32>, tensor<2x8x2x8xf32>) -> (tensor<2x8x4x16xf32>, tensor<2x4x8xf32>)
  return
}

// -----

func.func @attention_zero_kv_heads(%q: tensor<2x8x4x16xf32>, %k: tensor<2x8x0x16xf32>) {
  // expected-error @+1 {{'mind.attention' op needs at least one key/value head}}
  %o, %l = mind.attention %q, %k, %k {scale = 0.25 : f64} : (tensor<2x8x4x16xf32>, tensor<2x8x0x16xf32>, tensor<2x8x0x16xf32>) -> (tensor<2x8x4x16xf32>, tensor<2x4x8xf32>)
  return
}

// -----

func.func @attention_gqa(%q: tensor<2x8x4x16xf32>, %k: tensor<2x8x3x16xf32>) {
  // expected-error @+1 {{'mind.attention' op query heads (4) must be a multiple of key/value heads (3)}}
  %o, %l = mind.attention %q, %k, %k {scale = 0.25 : f64} : (tensor<2x8x4x16xf32>, tensor<2x8x3x16xf32>, tensor<2x8x3x16xf32>) -> (tensor<2x8x4x16xf32>, tensor<2x4x8xf32>)
  return
}

// -----

func.func @attention_lse_f32(%q: tensor<2x8x4x16xbf16>, %k: tensor<2x8x2x16xbf16>) {
  // expected-error @+1 {{'mind.attention' op lse must have f32 elements}}
  %o, %l = mind.attention %q, %k, %k {scale = 0.25 : f64} : (tensor<2x8x4x16xbf16>, tensor<2x8x2x16xbf16>, tensor<2x8x2x16xbf16>) -> (tensor<2x8x4x16xbf16>, tensor<2x4x8xbf16>)
  return
}

// -----

func.func @attention_lse_shape(%q: tensor<2x8x4x16xf32>, %k: tensor<2x8x2x16xf32>) {
  // expected-error @+1 {{'mind.attention' op lse must have shape [2, 4, 8], got [2, 8, 4]}}
  %o, %l = mind.attention %q, %k, %k {scale = 0.25 : f64, causal = false} : (tensor<2x8x4x16xf32>, tensor<2x8x2x16xf32>, tensor<2x8x2x16xf32>) -> (tensor<2x8x4x16xf32>, tensor<2x8x4xf32>)
  return
}

// -----

//===----------------------------------------------------------------------===//
// softmax
//===----------------------------------------------------------------------===//

func.func @softmax_rank0(%x: tensor<f32>) {
  // expected-error @+1 {{'mind.softmax' op input must have rank >= 1}}
  %0 = mind.softmax %x : (tensor<f32>) -> tensor<f32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// cross_entropy
//===----------------------------------------------------------------------===//

func.func @cross_entropy_logits_rank(%l: tensor<10xf32>, %t: tensor<i64>, %m: tensor<i64>) {
  // expected-error @+1 {{'mind.cross_entropy' op logits must have rank >= 2}}
  %0 = mind.cross_entropy %l, %t, %m : (tensor<10xf32>, tensor<i64>, tensor<i64>) -> tensor<f32>
  return
}

// -----

func.func @cross_entropy_targets_shape(%l: tensor<2x8x10xf32>, %t: tensor<16xi64>, %m: tensor<2x8xi64>) {
  // expected-error @+1 {{'mind.cross_entropy' op targets must have shape [2, 8], got [16]}}
  %0 = mind.cross_entropy %l, %t, %m : (tensor<2x8x10xf32>, tensor<16xi64>, tensor<2x8xi64>) -> tensor<f32>
  return
}

// -----

func.func @cross_entropy_mask_shape(%l: tensor<2x8x10xf32>, %t: tensor<2x8xi64>, %m: tensor<2x7xf32>) {
  // expected-error @+1 {{'mind.cross_entropy' op mask must have shape [2, 8], got [2, 7]}}
  %0 = mind.cross_entropy %l, %t, %m : (tensor<2x8x10xf32>, tensor<2x8xi64>, tensor<2x7xf32>) -> tensor<f32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// topk
//===----------------------------------------------------------------------===//

func.func @topk_scores_rank(%s: tensor<2x8x4xf32>) {
  // expected-error @+1 {{'mind.topk' op scores must be rank 2, got rank 3}}
  %w, %i = mind.topk %s {k = 2 : i64} : (tensor<2x8x4xf32>) -> (tensor<16x2xf32>, tensor<16x2xi64>)
  return
}

// -----

func.func @topk_k_zero(%s: tensor<8x4xf32>) {
  // expected-error @+1 {{'mind.topk' op k = 0 must be in [1, 4] (the number of experts)}}
  %w, %i = mind.topk %s {k = 0 : i64} : (tensor<8x4xf32>) -> (tensor<8x0xf32>, tensor<8x0xi64>)
  return
}

// -----

func.func @topk_k_too_large(%s: tensor<8x4xf32>) {
  // expected-error @+1 {{'mind.topk' op k = 5 must be in [1, 4] (the number of experts)}}
  %w, %i = mind.topk %s {k = 5 : i64} : (tensor<8x4xf32>) -> (tensor<8x5xf32>, tensor<8x5xi64>)
  return
}

// -----

func.func @topk_k_negative(%s: tensor<8x4xf32>) {
  // expected-error @+1 {{'mind.topk' op k = -2 must be in [1, 4] (the number of experts)}}
  %w, %i = mind.topk %s {k = -2 : i64} : (tensor<8x4xf32>) -> (tensor<8x2xf32>, tensor<8x2xi64>)
  return
}

// -----

func.func @topk_weights_shape(%s: tensor<8x4xf32>) {
  // expected-error @+1 {{'mind.topk' op weights must have shape [8, 2], got [8, 4]}}
  %w, %i = mind.topk %s {k = 2 : i64} : (tensor<8x4xf32>) -> (tensor<8x4xf32>, tensor<8x2xi64>)
  return
}

// -----

func.func @topk_indices_shape(%s: tensor<8x4xf32>) {
  // expected-error @+1 {{'mind.topk' op indices must have shape [8, 2], got [2, 8]}}
  %w, %i = mind.topk %s {k = 2 : i64, normalize = true} : (tensor<8x4xf32>) -> (tensor<8x2xf32>, tensor<2x8xi64>)
  return
}

// -----

func.func @topk_weights_element_type(%s: tensor<8x4xf32>) {
  // expected-error @+1 {{'mind.topk' op weights element type 'f16' must match scores element type 'f32'}}
  %w, %i = mind.topk %s {k = 2 : i64} : (tensor<8x4xf32>) -> (tensor<8x2xf16>, tensor<8x2xi64>)
  return
}

// -----

//===----------------------------------------------------------------------===//
// moe_route
//===----------------------------------------------------------------------===//

func.func @moe_route_indices_rank(%i: tensor<16xi64>) {
  // expected-error @+1 {{'mind.moe_route' op indices must be rank 2, got rank 1}}
  %p, %o = mind.moe_route %i {num_experts = 4 : i64} : (tensor<16xi64>) -> (tensor<16xi64>, tensor<5xi64>)
  return
}

// -----

func.func @moe_route_num_experts_zero(%i: tensor<8x2xi64>) {
  // expected-error @+1 {{'mind.moe_route' op num_experts must be positive}}
  %p, %o = mind.moe_route %i {num_experts = 0 : i64} : (tensor<8x2xi64>) -> (tensor<16xi64>, tensor<1xi64>)
  return
}

// -----

func.func @moe_route_num_experts_negative(%i: tensor<8x2xi64>) {
  // -1 + 1 = 0 entries of offsets must not make this look consistent.
  // expected-error @+1 {{'mind.moe_route' op num_experts must be positive}}
  %p, %o = mind.moe_route %i {num_experts = -1 : i64} : (tensor<8x2xi64>) -> (tensor<16xi64>, tensor<0xi64>)
  return
}

// -----

func.func @moe_route_perm_shape(%i: tensor<8x2xi64>) {
  // expected-error @+1 {{'mind.moe_route' op perm must have shape [16], got [8]}}
  %p, %o = mind.moe_route %i {num_experts = 4 : i64} : (tensor<8x2xi64>) -> (tensor<8xi64>, tensor<5xi64>)
  return
}

// -----

func.func @moe_route_offsets_shape(%i: tensor<8x2xi64>) {
  // expected-error @+1 {{'mind.moe_route' op offsets must have shape [5], got [4]}}
  %p, %o = mind.moe_route %i {num_experts = 4 : i64} : (tensor<8x2xi64>) -> (tensor<16xi64>, tensor<4xi64>)
  return
}

// -----

//===----------------------------------------------------------------------===//
// moe_dispatch
//===----------------------------------------------------------------------===//

func.func @moe_dispatch_input_rank(%x: tensor<2x4x8xf32>, %p: tensor<16xi64>) {
  // expected-error @+1 {{'mind.moe_dispatch' op input must be rank 2, got rank 3}}
  %0 = mind.moe_dispatch %x, %p {top_k = 2 : i64} : (tensor<2x4x8xf32>, tensor<16xi64>) -> tensor<16x8xf32>
  return
}

// -----

func.func @moe_dispatch_top_k_zero(%x: tensor<8x8xf32>, %p: tensor<16xi64>) {
  // expected-error @+1 {{'mind.moe_dispatch' op top_k must be positive}}
  %0 = mind.moe_dispatch %x, %p {top_k = 0 : i64} : (tensor<8x8xf32>, tensor<16xi64>) -> tensor<16x8xf32>
  return
}

// -----

func.func @moe_dispatch_top_k_negative(%x: tensor<8x8xf32>, %p: tensor<16xi64>) {
  // expected-error @+1 {{'mind.moe_dispatch' op top_k must be positive}}
  %0 = mind.moe_dispatch %x, %p {top_k = -2 : i64} : (tensor<8x8xf32>, tensor<16xi64>) -> tensor<16x8xf32>
  return
}

// -----

func.func @moe_dispatch_perm_shape(%x: tensor<8x8xf32>, %p: tensor<8xi64>) {
  // expected-error @+1 {{'mind.moe_dispatch' op perm must have shape [16], got [8]}}
  %0 = mind.moe_dispatch %x, %p {top_k = 2 : i64} : (tensor<8x8xf32>, tensor<8xi64>) -> tensor<16x8xf32>
  return
}

// -----

func.func @moe_dispatch_result_shape(%x: tensor<8x8xf32>, %p: tensor<16xi64>) {
  // expected-error @+1 {{'mind.moe_dispatch' op result must have shape [16, 8], got [8, 8]}}
  %0 = mind.moe_dispatch %x, %p {top_k = 2 : i64} : (tensor<8x8xf32>, tensor<16xi64>) -> tensor<8x8xf32>
  return
}

// -----

func.func @moe_dispatch_result_element_type(%x: tensor<8x8xf32>, %p: tensor<16xi64>) {
  // expected-error @+1 {{'mind.moe_dispatch' op result element type 'bf16' must match input element type 'f32'}}
  %0 = mind.moe_dispatch %x, %p {top_k = 2 : i64} : (tensor<8x8xf32>, tensor<16xi64>) -> tensor<16x8xbf16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// grouped_linear
//===----------------------------------------------------------------------===//

func.func @grouped_linear_input_rank(%x: tensor<16xf32>, %o: tensor<3xi64>, %w: tensor<6x4xf32>) {
  // expected-error @+1 {{'mind.grouped_linear' op input must be rank 2, got rank 1}}
  %0 = mind.grouped_linear %x, %o, %w, %w : (tensor<16xf32>, tensor<3xi64>, tensor<6x4xf32>, tensor<6x4xf32>) -> tensor<16x6xf32>
  return
}

// -----

func.func @grouped_linear_no_weights(%x: tensor<16x4xf32>, %o: tensor<1xi64>) {
  // expected-error @+1 {{'mind.grouped_linear' op needs at least one expert weight}}
  %0 = mind.grouped_linear %x, %o : (tensor<16x4xf32>, tensor<1xi64>) -> tensor<16x6xf32>
  return
}

// -----

func.func @grouped_linear_weight_rank(%x: tensor<16x4xf32>, %o: tensor<2xi64>, %w: tensor<24xf32>) {
  // expected-error @+1 {{'mind.grouped_linear' op weight must be rank 2, got rank 1}}
  %0 = mind.grouped_linear %x, %o, %w : (tensor<16x4xf32>, tensor<2xi64>, tensor<24xf32>) -> tensor<16x6xf32>
  return
}

// -----

func.func @grouped_linear_weight_types_differ(%x: tensor<16x4xf32>, %o: tensor<3xi64>, %w0: tensor<6x4xf32>, %w1: tensor<5x4xf32>) {
  // expected-error @+1 {{'mind.grouped_linear' op every weight type 'tensor<5x4xf32>' must match weight 0 type 'tensor<6x4xf32>'}}
  %0 = mind.grouped_linear %x, %o, %w0, %w1 : (tensor<16x4xf32>, tensor<3xi64>, tensor<6x4xf32>, tensor<5x4xf32>) -> tensor<16x6xf32>
  return
}

// -----

func.func @grouped_linear_contraction(%x: tensor<16x4xf32>, %o: tensor<3xi64>, %w: tensor<6x8xf32>) {
  // expected-error @+1 {{'mind.grouped_linear' op input's last dimension (4) must equal weight dimension 1 (8)}}
  %0 = mind.grouped_linear %x, %o, %w, %w : (tensor<16x4xf32>, tensor<3xi64>, tensor<6x8xf32>, tensor<6x8xf32>) -> tensor<16x6xf32>
  return
}

// -----

func.func @grouped_linear_offsets_shape(%x: tensor<16x4xf32>, %o: tensor<2xi64>, %w: tensor<6x4xf32>) {
  // Two experts need three offsets.
  // expected-error @+1 {{'mind.grouped_linear' op offsets must have shape [3], got [2]}}
  %0 = mind.grouped_linear %x, %o, %w, %w : (tensor<16x4xf32>, tensor<2xi64>, tensor<6x4xf32>, tensor<6x4xf32>) -> tensor<16x6xf32>
  return
}

// -----

func.func @grouped_linear_weight_element_type(%x: tensor<16x4xf32>, %o: tensor<3xi64>, %w: tensor<6x4xbf16>) {
  // expected-error @+1 {{'mind.grouped_linear' op weight element type 'bf16' must match input element type 'f32'}}
  %0 = mind.grouped_linear %x, %o, %w, %w : (tensor<16x4xf32>, tensor<3xi64>, tensor<6x4xbf16>, tensor<6x4xbf16>) -> tensor<16x6xf32>
  return
}

// -----

func.func @grouped_linear_result_element_type(%x: tensor<16x4xf32>, %o: tensor<3xi64>, %w: tensor<6x4xf32>) {
  // expected-error @+1 {{'mind.grouped_linear' op result element type 'f64' must match input element type 'f32'}}
  %0 = mind.grouped_linear %x, %o, %w, %w : (tensor<16x4xf32>, tensor<3xi64>, tensor<6x4xf32>, tensor<6x4xf32>) -> tensor<16x6xf64>
  return
}

// -----

func.func @grouped_linear_result_shape(%x: tensor<16x4xf32>, %o: tensor<3xi64>, %w: tensor<6x4xf32>) {
  // expected-error @+1 {{'mind.grouped_linear' op result must have shape [16, 6], got [16, 4]}}
  %0 = mind.grouped_linear %x, %o, %w, %w : (tensor<16x4xf32>, tensor<3xi64>, tensor<6x4xf32>, tensor<6x4xf32>) -> tensor<16x4xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// moe_combine
//===----------------------------------------------------------------------===//

func.func @moe_combine_input_rank(%y: tensor<16xf32>, %p: tensor<16xi64>, %w: tensor<8x2xf32>) {
  // expected-error @+1 {{'mind.moe_combine' op input must be rank 2, got rank 1}}
  %0 = mind.moe_combine %y, %p, %w : (tensor<16xf32>, tensor<16xi64>, tensor<8x2xf32>) -> tensor<8x4xf32>
  return
}

// -----

func.func @moe_combine_weights_rank(%y: tensor<16x4xf32>, %p: tensor<16xi64>, %w: tensor<16xf32>) {
  // expected-error @+1 {{'mind.moe_combine' op weights must be rank 2, got rank 1}}
  %0 = mind.moe_combine %y, %p, %w : (tensor<16x4xf32>, tensor<16xi64>, tensor<16xf32>) -> tensor<8x4xf32>
  return
}

// -----

func.func @moe_combine_rows(%y: tensor<12x4xf32>, %p: tensor<12xi64>, %w: tensor<8x2xf32>) {
  // expected-error @+1 {{'mind.moe_combine' op input rows (12) must equal tokens * top_k (8 * 2)}}
  %0 = mind.moe_combine %y, %p, %w : (tensor<12x4xf32>, tensor<12xi64>, tensor<8x2xf32>) -> tensor<8x4xf32>
  return
}

// -----

func.func @moe_combine_perm_shape(%y: tensor<16x4xf32>, %p: tensor<8xi64>, %w: tensor<8x2xf32>) {
  // expected-error @+1 {{'mind.moe_combine' op perm must have shape [16], got [8]}}
  %0 = mind.moe_combine %y, %p, %w : (tensor<16x4xf32>, tensor<8xi64>, tensor<8x2xf32>) -> tensor<8x4xf32>
  return
}

// -----

func.func @moe_combine_weights_element_type(%y: tensor<16x4xf32>, %p: tensor<16xi64>, %w: tensor<8x2xf64>) {
  // expected-error @+1 {{'mind.moe_combine' op weights element type 'f64' must match input element type 'f32'}}
  %0 = mind.moe_combine %y, %p, %w : (tensor<16x4xf32>, tensor<16xi64>, tensor<8x2xf64>) -> tensor<8x4xf32>
  return
}

// -----

func.func @moe_combine_result_element_type(%y: tensor<16x4xf32>, %p: tensor<16xi64>, %w: tensor<8x2xf32>) {
  // expected-error @+1 {{'mind.moe_combine' op result element type 'f16' must match input element type 'f32'}}
  %0 = mind.moe_combine %y, %p, %w : (tensor<16x4xf32>, tensor<16xi64>, tensor<8x2xf32>) -> tensor<8x4xf16>
  return
}

// -----

func.func @moe_combine_result_shape(%y: tensor<16x4xf32>, %p: tensor<16xi64>, %w: tensor<8x2xf32>) {
  // expected-error @+1 {{'mind.moe_combine' op result must have shape [8, 4], got [16, 4]}}
  %0 = mind.moe_combine %y, %p, %w : (tensor<16x4xf32>, tensor<16xi64>, tensor<8x2xf32>) -> tensor<16x4xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// moe_aux_loss
//===----------------------------------------------------------------------===//

func.func @moe_aux_loss_scores_rank(%s: tensor<2x4x4xf32>, %i: tensor<8x2xi64>) {
  // expected-error @+1 {{'mind.moe_aux_loss' op scores must be rank 2, got rank 3}}
  %0 = mind.moe_aux_loss %s, %i {alpha = 0.01 : f64, seq_aux = false, batch = 1 : i64} : (tensor<2x4x4xf32>, tensor<8x2xi64>) -> tensor<f32>
  return
}

// -----

func.func @moe_aux_loss_indices_rank(%s: tensor<8x4xf32>, %i: tensor<16xi64>) {
  // expected-error @+1 {{'mind.moe_aux_loss' op indices must be rank 2, got rank 1}}
  %0 = mind.moe_aux_loss %s, %i {alpha = 0.01 : f64, seq_aux = false, batch = 1 : i64} : (tensor<8x4xf32>, tensor<16xi64>) -> tensor<f32>
  return
}

// -----

func.func @moe_aux_loss_rows(%s: tensor<8x4xf32>, %i: tensor<4x2xi64>) {
  // expected-error @+1 {{'mind.moe_aux_loss' op indices rows (4) must equal scores rows (8)}}
  %0 = mind.moe_aux_loss %s, %i {alpha = 0.01 : f64, seq_aux = false, batch = 1 : i64} : (tensor<8x4xf32>, tensor<4x2xi64>) -> tensor<f32>
  return
}

// -----

func.func @moe_aux_loss_batch_zero(%s: tensor<8x4xf32>, %i: tensor<8x2xi64>) {
  // expected-error @+1 {{'mind.moe_aux_loss' op batch (0) must be positive and divide the token count (8)}}
  %0 = mind.moe_aux_loss %s, %i {alpha = 0.01 : f64, seq_aux = true, batch = 0 : i64} : (tensor<8x4xf32>, tensor<8x2xi64>) -> tensor<f32>
  return
}

// -----

func.func @moe_aux_loss_batch_negative(%s: tensor<8x4xf32>, %i: tensor<8x2xi64>) {
  // expected-error @+1 {{'mind.moe_aux_loss' op batch (-2) must be positive and divide the token count (8)}}
  %0 = mind.moe_aux_loss %s, %i {alpha = 0.01 : f64, seq_aux = true, batch = -2 : i64} : (tensor<8x4xf32>, tensor<8x2xi64>) -> tensor<f32>
  return
}

// -----

func.func @moe_aux_loss_batch_divides(%s: tensor<8x4xf32>, %i: tensor<8x2xi64>) {
  // expected-error @+1 {{'mind.moe_aux_loss' op batch (3) must be positive and divide the token count (8)}}
  %0 = mind.moe_aux_loss %s, %i {alpha = 0.01 : f64, seq_aux = true, batch = 3 : i64} : (tensor<8x4xf32>, tensor<8x2xi64>) -> tensor<f32>
  return
}

// -----

func.func @moe_aux_loss_alpha(%s: tensor<8x4xf32>, %i: tensor<8x2xi64>) {
  // expected-error @+1 {{'mind.moe_aux_loss' op alpha must be non-negative}}
  %0 = mind.moe_aux_loss %s, %i {alpha = -0.01 : f64, seq_aux = true, batch = 2 : i64} : (tensor<8x4xf32>, tensor<8x2xi64>) -> tensor<f32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// reshape, transpose, cast
//===----------------------------------------------------------------------===//

func.func @reshape_element_count(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'mind.reshape' op element count changes from 6 to 8}}
  %0 = mind.reshape %x : (tensor<2x3xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @reshape_element_type(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'mind.reshape' op result element type 'i32' must match input element type 'f32'}}
  %0 = mind.reshape %x : (tensor<2x3xf32>) -> tensor<6xi32>
  return
}

// -----

func.func @transpose_permutation_size(%x: tensor<2x3x4xf32>) {
  // expected-error @+1 {{'mind.transpose' op permutation has 2 entries for an input of rank 3}}
  %0 = mind.transpose %x {permutation = array<i64: 1, 0>} : (tensor<2x3x4xf32>) -> tensor<3x2x4xf32>
  return
}

// -----

func.func @transpose_permutation_out_of_range(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'mind.transpose' op permutation must list each dimension exactly once}}
  %0 = mind.transpose %x {permutation = array<i64: 1, 2>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return
}

// -----

func.func @transpose_permutation_negative(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'mind.transpose' op permutation must list each dimension exactly once}}
  %0 = mind.transpose %x {permutation = array<i64: -1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return
}

// -----

func.func @transpose_permutation_duplicate(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'mind.transpose' op permutation must list each dimension exactly once}}
  %0 = mind.transpose %x {permutation = array<i64: 0, 0>} : (tensor<2x3xf32>) -> tensor<2x2xf32>
  return
}

// -----

func.func @transpose_element_type(%x: tensor<2x3xi64>) {
  // expected-error @+1 {{'mind.transpose' op result element type 'i32' must match input element type 'i64'}}
  %0 = mind.transpose %x {permutation = array<i64: 1, 0>} : (tensor<2x3xi64>) -> tensor<3x2xi32>
  return
}

// -----

func.func @transpose_result_shape(%x: tensor<2x3x4xf32>) {
  // expected-error @+1 {{'mind.transpose' op result must have shape [2, 4, 3], got [3, 2, 4]}}
  %0 = mind.transpose %x {permutation = array<i64: 0, 2, 1>} : (tensor<2x3x4xf32>) -> tensor<3x2x4xf32>
  return
}

// -----

func.func @cast_shape(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'mind.cast' op result must have shape [2, 3], got [3, 2]}}
  %0 = mind.cast %x : (tensor<2x3xf32>) -> tensor<3x2xbf16>
  return
}

// -----

func.func @cast_float_to_int(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'mind.cast' op float to integer casts are not allowed}}
  %0 = mind.cast %x : (tensor<2x3xf32>) -> tensor<2x3xi64>
  return
}

// -----

//===----------------------------------------------------------------------===//
// embedding_grad
//===----------------------------------------------------------------------===//

func.func @embedding_grad_rank0(%g: tensor<f32>, %ids: tensor<i64>) {
  // expected-error @+1 {{'mind.embedding_grad' op grad must have rank >= 1}}
  %0 = mind.embedding_grad %g, %ids {vocab_size = 10 : i64} : (tensor<f32>, tensor<i64>) -> tensor<10x1xf32>
  return
}

// -----

func.func @embedding_grad_shape(%g: tensor<2x8x4xf32>, %ids: tensor<16xi64>) {
  // expected-error @+1 {{'mind.embedding_grad' op grad shape [2, 8, 4] must be the ids shape followed by H}}
  %0 = mind.embedding_grad %g, %ids {vocab_size = 10 : i64} : (tensor<2x8x4xf32>, tensor<16xi64>) -> tensor<10x4xf32>
  return
}

// -----

func.func @embedding_grad_vocab_negative(%g: tensor<16x4xf32>, %ids: tensor<16xi64>) {
  // expected-error @+1 {{'mind.embedding_grad' op vocab_size must be non-negative}}
  %0 = mind.embedding_grad %g, %ids {vocab_size = -10 : i64} : (tensor<16x4xf32>, tensor<16xi64>) -> tensor<10x4xf32>
  return
}

// -----

func.func @embedding_grad_element_type(%g: tensor<16x4xbf16>, %ids: tensor<16xi64>) {
  // expected-error @+1 {{'mind.embedding_grad' op result element type 'f32' must match grad element type 'bf16'}}
  %0 = mind.embedding_grad %g, %ids {vocab_size = 10 : i64} : (tensor<16x4xbf16>, tensor<16xi64>) -> tensor<10x4xf32>
  return
}

// -----

func.func @embedding_grad_result_shape(%g: tensor<16x4xf32>, %ids: tensor<16xi64>) {
  // expected-error @+1 {{'mind.embedding_grad' op result must have shape [10, 4], got [16, 4]}}
  %0 = mind.embedding_grad %g, %ids {vocab_size = 10 : i64} : (tensor<16x4xf32>, tensor<16xi64>) -> tensor<16x4xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// rmsnorm_grad
//===----------------------------------------------------------------------===//

func.func @rmsnorm_grad_input_rank0(%x: tensor<f32>, %w: tensor<1xf32>) {
  // expected-error @+1 {{'mind.rmsnorm_grad' op input must have rank >= 1}}
  %dx, %dw = mind.rmsnorm_grad %x, %w, %x {epsilon = 1.0e-05 : f64} : (tensor<f32>, tensor<1xf32>, tensor<f32>) -> (tensor<f32>, tensor<1xf32>)
  return
}

// -----

func.func @rmsnorm_grad_weight_shape(%x: tensor<2x8xf32>, %w: tensor<2xf32>) {
  // expected-error @+1 {{'mind.rmsnorm_grad' op weight must have shape [8], got [2]}}
  %dx, %dw = mind.rmsnorm_grad %x, %w, %x {epsilon = 1.0e-05 : f64} : (tensor<2x8xf32>, tensor<2xf32>, tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<2xf32>)
  return
}

// -----

func.func @rmsnorm_grad_epsilon(%x: tensor<2x8xf32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{'mind.rmsnorm_grad' op epsilon must be positive}}
  %dx, %dw = mind.rmsnorm_grad %x, %w, %x {epsilon = 0.0 : f64} : (tensor<2x8xf32>, tensor<8xf32>, tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<8xf32>)
  return
}

// -----

// A narrower grad is allowed (read widened); a wider one or another shape
// is not.
func.func @rmsnorm_grad_grad_type(%x: tensor<2x8xbf16>, %w: tensor<8xf32>, %dy: tensor<2x8xf32>) {
  // expected-error @+1 {{'mind.rmsnorm_grad' op grad must have the input's type 'tensor<2x8xbf16>' or its shape in a narrower float type, got 'tensor<2x8xf32>'}}
  %dx, %dw = mind.rmsnorm_grad %x, %w, %dy {epsilon = 1.0e-05 : f64} : (tensor<2x8xbf16>, tensor<8xf32>, tensor<2x8xf32>) -> (tensor<2x8xbf16>, tensor<8xf32>)
  return
}

// -----

func.func @rmsnorm_grad_grad_shape(%x: tensor<2x8xf32>, %w: tensor<8xf32>, %dy: tensor<16xbf16>) {
  // expected-error @+1 {{'mind.rmsnorm_grad' op grad must have the input's type 'tensor<2x8xf32>' or its shape in a narrower float type, got 'tensor<16xbf16>'}}
  %dx, %dw = mind.rmsnorm_grad %x, %w, %dy {epsilon = 1.0e-05 : f64} : (tensor<2x8xf32>, tensor<8xf32>, tensor<16xbf16>) -> (tensor<2x8xf32>, tensor<8xf32>)
  return
}

// -----

func.func @rmsnorm_grad_input_grad_type(%x: tensor<2x8xf32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{'mind.rmsnorm_grad' op input_grad type 'tensor<16xf32>' must match input type 'tensor<2x8xf32>'}}
  %dx, %dw = mind.rmsnorm_grad %x, %w, %x {epsilon = 1.0e-05 : f64} : (tensor<2x8xf32>, tensor<8xf32>, tensor<2x8xf32>) -> (tensor<16xf32>, tensor<8xf32>)
  return
}

// -----

func.func @rmsnorm_grad_weight_grad_type(%x: tensor<2x8xf32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{'mind.rmsnorm_grad' op weight_grad type 'tensor<8xf64>' must match weight type 'tensor<8xf32>'}}
  %dx, %dw = mind.rmsnorm_grad %x, %w, %x {epsilon = 1.0e-05 : f64} : (tensor<2x8xf32>, tensor<8xf32>, tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<8xf64>)
  return
}

// -----

//===----------------------------------------------------------------------===//
// attention_grad: the forward operand checks, then the gradient types.
//===----------------------------------------------------------------------===//

func.func @attention_grad_query_rank(%q: tensor<2x8x64xf32>, %k: tensor<2x8x2x16xf32>, %l: tensor<2x4x8xf32>) {
  // expected-error @+1 {{'mind.attention_grad' op query must be rank 4, got rank 3}}
  %dq, %dk, %dv = mind.attention_grad %q, %k, %k, %q, %l, %q {scale = 0.25 : f64}
      : (tensor<2x8x64xf32>, tensor<2x8x2x16xf32>, tensor<2x8x2x16xf32>, tensor<2x8x64xf32>, tensor<2x4x8xf32>, tensor<2x8x64xf32>)
      -> (tensor<2x8x64xf32>, tensor<2x8x2x16xf32>, tensor<2x8x2x16xf32>)
  return
}

// -----

func.func @attention_grad_key_rank(%q: tensor<2x8x4x16xf32>, %k: tensor<2x8x32xf32>, %v: tensor<2x8x2x16xf32>, %l: tensor<2x4x8xf32>) {
  // expected-error @+1 {{'mind.attention_grad' op key must be rank 4, got rank 3}}
  %dq, %dk, %dv = mind.attention_grad %q, %k, %v, %q, %l, %q {scale = 0.25 : f64}
      : (tensor<2x8x4x16xf32>, tensor<2x8x32xf32>, tensor<2x8x2x16xf32>, tensor<2x8x4x16xf32>, tensor<2x4x8xf32>, tensor<2x8x4x16xf32>)
      -> (tensor<2x8x4x16xf32>, tensor<2x8x32xf32>, tensor<2x8x2x16xf32>)
  return
}

// -----

func.func @attention_grad_value_rank(%q: tensor<2x8x4x16xf32>, %k: tensor<2x8x2x16xf32>, %v: tensor<2x8x32xf32>, %l: tensor<2x4x8xf32>) {
  // expected-error @+1 {{'mind.attention_grad' op value must be rank 4, got rank 3}}
  %dq, %dk, %dv = mind.attention_grad %q, %k, %v, %q, %l, %q {scale = 0.25 : f64}
      : (tensor<2x8x4x16xf32>, tensor<2x8x2x16xf32>, tensor<2x8x32xf32>, tensor<2x8x4x16xf32>, tensor<2x4x8xf32>, tensor<2x8x4x16xf32>)
      -> (tensor<2x8x4x16xf32>, tensor<2x8x2x16xf32>, tensor<2x8x32xf32>)
  return
}

// -----

func.func @attention_grad_value_type(%q: tensor<2x8x4x16xf32>, %k: tensor<2x8x2x16xf32>, %v: tensor<2x8x1x16xf32>, %l: tensor<2x4x8xf32>) {
  // expected-error @+1 {{'mind.attention_grad' op value type 'tensor<2x8x1x16xf32>' must match key type 'tensor<2x8x2x16xf32>'}}
  %dq, %dk, %dv = mind.attention_grad %q, %k, %v, %q, %l, %q {scale = 0.25 : f64}
      : (tensor<2x8x4x16xf32>, tensor<2x8x2x16xf32>, tensor<2x8x1x16xf32>, tensor<2x8x4x16xf32>, tensor<2x4x8xf32>, tensor<2x8x4x16xf32>)
      -> (tensor<2x8x4x16xf32>, tensor<2x8x2x16xf32>, tensor<2x8x1x16xf32>)
  return
}

// -----

func.func @attention_grad_key_element_type(%q: tensor<2x8x4x16xf32>, %k: tensor<2x8x2x16xf16>, %l: tensor<2x4x8xf32>) {
  // expected-error @+1 {{'mind.attention_grad' op key element type 'f16' must match query element type 'f32'}}
  %dq, %dk, %dv = mind.attention_grad %q, %k, %k, %q, %l, %q {scale = 0.25 : f64}
      : (tensor<2x8x4x16xf32>, tensor<2x8x2x16xf16>, tensor<2x8x2x16xf16>, tensor<2x8x4x16xf32>, tensor<2x4x8xf32>, tensor<2x8x4x16xf32>)
      -> (tensor<2x8x4x16xf32>, tensor<2x8x2x16xf16>, tensor<2x8x2x16xf16>)
  return
}

// -----

func.func @attention_grad_result_type(%q: tensor<2x8x4x16xf32>, %k: tensor<2x8x2x16xf32>, %o: tensor<2x8x4x16xbf16>, %l: tensor<2x4x8xf32>) {
  // expected-error @+1 {{'mind.attention_grad' op result type 'tensor<2x8x4x16xbf16>' must match query type 'tensor<2x8x4x16xf32>'}}
  %dq, %dk, %dv = mind.attention_grad %q, %k, %k, %o, %l, %q {scale = 0.25 : f64}
      : (tensor<2x8x4x16xf32>, tensor<2x8x2x16xf32>, tensor<2x8x2x16xf32>, tensor<2x8x4x16xbf16>, tensor<2x4x8xf32>, tensor<2x8x4x16xf32>)
      -> (tensor<2x8x4x16xf32>, tensor<2x8x2x16xf32>, tensor<2x8x2x16xf32>)
  return
}

// -----

func.func @attention_grad_sequence_mismatch(%q: tensor<2x8x4x16xf32>, %k: tensor<2x4x2x16xf32>, %l: tensor<2x4x8xf32>) {
  // expected-error @+1 {{'mind.attention_grad' op key shape [2, 4, 2, 16] must agree with query shape [2, 8, 4, 16] in batch, sequence and head dimension}}
  %dq, %dk, %dv = mind.attention_grad %q, %k, %k, %q, %l, %q {scale = 0.25 : f64}
      : (tensor<2x8x4x16xf32>, tensor<2x4x2x16xf32>, tensor<2x4x2x16xf32>, tensor<2x8x4x16xf32>, tensor<2x4x8xf32>, tensor<2x8x4x16xf32>)
      -> (tensor<2x8x4x16xf32>, tensor<2x4x2x16xf32>, tensor<2x4x2x16xf32>)
  return
}

// -----

func.func @attention_grad_zero_kv_heads(%q: tensor<2x8x4x16xf32>, %k: tensor<2x8x0x16xf32>, %l: tensor<2x4x8xf32>) {
  // expected-error @+1 {{'mind.attention_grad' op needs at least one key/value head}}
  %dq, %dk, %dv = mind.attention_grad %q, %k, %k, %q, %l, %q {scale = 0.25 : f64}
      : (tensor<2x8x4x16xf32>, tensor<2x8x0x16xf32>, tensor<2x8x0x16xf32>, tensor<2x8x4x16xf32>, tensor<2x4x8xf32>, tensor<2x8x4x16xf32>)
      -> (tensor<2x8x4x16xf32>, tensor<2x8x0x16xf32>, tensor<2x8x0x16xf32>)
  return
}

// -----

func.func @attention_grad_gqa(%q: tensor<2x8x4x16xf32>, %k: tensor<2x8x3x16xf32>, %l: tensor<2x4x8xf32>) {
  // expected-error @+1 {{'mind.attention_grad' op query heads (4) must be a multiple of key/value heads (3)}}
  %dq, %dk, %dv = mind.attention_grad %q, %k, %k, %q, %l, %q {scale = 0.25 : f64}
      : (tensor<2x8x4x16xf32>, tensor<2x8x3x16xf32>, tensor<2x8x3x16xf32>, tensor<2x8x4x16xf32>, tensor<2x4x8xf32>, tensor<2x8x4x16xf32>)
      -> (tensor<2x8x4x16xf32>, tensor<2x8x3x16xf32>, tensor<2x8x3x16xf32>)
  return
}

// -----

func.func @attention_grad_lse_f32(%q: tensor<2x8x4x16xf64>, %k: tensor<2x8x2x16xf64>, %l: tensor<2x4x8xf64>) {
  // expected-error @+1 {{'mind.attention_grad' op lse must have f32 elements}}
  %dq, %dk, %dv = mind.attention_grad %q, %k, %k, %q, %l, %q {scale = 0.25 : f64}
      : (tensor<2x8x4x16xf64>, tensor<2x8x2x16xf64>, tensor<2x8x2x16xf64>, tensor<2x8x4x16xf64>, tensor<2x4x8xf64>, tensor<2x8x4x16xf64>)
      -> (tensor<2x8x4x16xf64>, tensor<2x8x2x16xf64>, tensor<2x8x2x16xf64>)
  return
}

// -----

func.func @attention_grad_lse_shape(%q: tensor<2x8x4x16xf32>, %k: tensor<2x8x2x16xf32>, %l: tensor<2x2x8xf32>) {
  // expected-error @+1 {{'mind.attention_grad' op lse must have shape [2, 4, 8], got [2, 2, 8]}}
  %dq, %dk, %dv = mind.attention_grad %q, %k, %k, %q, %l, %q {scale = 0.25 : f64}
      : (tensor<2x8x4x16xf32>, tensor<2x8x2x16xf32>, tensor<2x8x2x16xf32>, tensor<2x8x4x16xf32>, tensor<2x2x8xf32>, tensor<2x8x4x16xf32>)
      -> (tensor<2x8x4x16xf32>, tensor<2x8x2x16xf32>, tensor<2x8x2x16xf32>)
  return
}

// -----

func.func @attention_grad_grad_type(%q: tensor<2x8x4x16xf32>, %k: tensor<2x8x2x16xf32>, %l: tensor<2x4x8xf32>, %do: tensor<2x8x4x8xf32>) {
  // expected-error @+1 {{'mind.attention_grad' op grad type 'tensor<2x8x4x8xf32>' must match query type 'tensor<2x8x4x16xf32>'}}
  %dq, %dk, %dv = mind.attention_grad %q, %k, %k, %q, %l, %do {scale = 0.25 : f64}
      : (tensor<2x8x4x16xf32>, tensor<2x8x2x16xf32>, tensor<2x8x2x16xf32>, tensor<2x8x4x16xf32>, tensor<2x4x8xf32>, tensor<2x8x4x8xf32>)
      -> (tensor<2x8x4x16xf32>, tensor<2x8x2x16xf32>, tensor<2x8x2x16xf32>)
  return
}

// -----

func.func @attention_grad_query_grad_type(%q: tensor<2x8x4x16xf32>, %k: tensor<2x8x2x16xf32>, %l: tensor<2x4x8xf32>) {
  // expected-error @+1 {{'mind.attention_grad' op query_grad type 'tensor<2x8x2x16xf32>' must match query type 'tensor<2x8x4x16xf32>'}}
  %dq, %dk, %dv = mind.attention_grad %q, %k, %k, %q, %l, %q {scale = 0.25 : f64}
      : (tensor<2x8x4x16xf32>, tensor<2x8x2x16xf32>, tensor<2x8x2x16xf32>, tensor<2x8x4x16xf32>, tensor<2x4x8xf32>, tensor<2x8x4x16xf32>)
      -> (tensor<2x8x2x16xf32>, tensor<2x8x2x16xf32>, tensor<2x8x2x16xf32>)
  return
}

// -----

func.func @attention_grad_key_grad_type(%q: tensor<2x8x4x16xf32>, %k: tensor<2x8x2x16xf32>, %l: tensor<2x4x8xf32>) {
  // dk has the KV-head layout, not the query-head one.
  // expected-error @+1 {{'mind.attention_grad' op key_grad type 'tensor<2x8x4x16xf32>' must match key type 'tensor<2x8x2x16xf32>'}}
  %dq, %dk, %dv = mind.attention_grad %q, %k, %k, %q, %l, %q {scale = 0.25 : f64}
      : (tensor<2x8x4x16xf32>, tensor<2x8x2x16xf32>, tensor<2x8x2x16xf32>, tensor<2x8x4x16xf32>, tensor<2x4x8xf32>, tensor<2x8x4x16xf32>)
      -> (tensor<2x8x4x16xf32>, tensor<2x8x4x16xf32>, tensor<2x8x2x16xf32>)
  return
}

// -----

func.func @attention_grad_value_grad_type(%q: tensor<2x8x4x16xf32>, %k: tensor<2x8x2x16xf32>, %l: tensor<2x4x8xf32>) {
  // expected-error @+1 {{'mind.attention_grad' op value_grad type 'tensor<2x8x2x16xbf16>' must match value type 'tensor<2x8x2x16xf32>'}}
  %dq, %dk, %dv = mind.attention_grad %q, %k, %k, %q, %l, %q {scale = 0.25 : f64, causal = false}
      : (tensor<2x8x4x16xf32>, tensor<2x8x2x16xf32>, tensor<2x8x2x16xf32>, tensor<2x8x4x16xf32>, tensor<2x4x8xf32>, tensor<2x8x4x16xf32>)
      -> (tensor<2x8x4x16xf32>, tensor<2x8x2x16xf32>, tensor<2x8x2x16xbf16>)
  return
}

// -----

//===----------------------------------------------------------------------===//
// cross_entropy_grad
//===----------------------------------------------------------------------===//

func.func @cross_entropy_grad_logits_rank(%l: tensor<10xf32>, %t: tensor<i64>, %g: tensor<f32>) {
  // expected-error @+1 {{'mind.cross_entropy_grad' op logits must have rank >= 2}}
  %0 = mind.cross_entropy_grad %l, %t, %t, %g : (tensor<10xf32>, tensor<i64>, tensor<i64>, tensor<f32>) -> tensor<10xf32>
  return
}

// -----

func.func @cross_entropy_grad_targets_shape(%l: tensor<2x8x10xf32>, %t: tensor<2x8x1xi64>, %m: tensor<2x8xi64>, %g: tensor<f32>) {
  // expected-error @+1 {{'mind.cross_entropy_grad' op targets must have shape [2, 8], got [2, 8, 1]}}
  %0 = mind.cross_entropy_grad %l, %t, %m, %g : (tensor<2x8x10xf32>, tensor<2x8x1xi64>, tensor<2x8xi64>, tensor<f32>) -> tensor<2x8x10xf32>
  return
}

// -----

func.func @cross_entropy_grad_mask_shape(%l: tensor<2x8x10xf32>, %t: tensor<2x8xi64>, %m: tensor<16xf32>, %g: tensor<f32>) {
  // expected-error @+1 {{'mind.cross_entropy_grad' op mask must have shape [2, 8], got [16]}}
  %0 = mind.cross_entropy_grad %l, %t, %m, %g : (tensor<2x8x10xf32>, tensor<2x8xi64>, tensor<16xf32>, tensor<f32>) -> tensor<2x8x10xf32>
  return
}

// -----

func.func @cross_entropy_grad_result_type(%l: tensor<2x8x10xf32>, %t: tensor<2x8xi64>, %g: tensor<f32>) {
  // expected-error @+1 {{'mind.cross_entropy_grad' op result type 'tensor<2x8x10xbf16>' must match logits type 'tensor<2x8x10xf32>'}}
  %0 = mind.cross_entropy_grad %l, %t, %t, %g : (tensor<2x8x10xf32>, tensor<2x8xi64>, tensor<2x8xi64>, tensor<f32>) -> tensor<2x8x10xbf16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// topk_grad
//===----------------------------------------------------------------------===//

func.func @topk_grad_scores_rank(%s: tensor<32xf32>, %i: tensor<8x2xi64>, %dw: tensor<8x2xf32>) {
  // expected-error @+1 {{'mind.topk_grad' op scores must be rank 2, got rank 1}}
  %0 = mind.topk_grad %s, %i, %dw : (tensor<32xf32>, tensor<8x2xi64>, tensor<8x2xf32>) -> tensor<32xf32>
  return
}

// -----

func.func @topk_grad_indices_rank(%s: tensor<8x4xf32>, %i: tensor<16xi64>, %dw: tensor<16xf32>) {
  // expected-error @+1 {{'mind.topk_grad' op indices must be rank 2, got rank 1}}
  %0 = mind.topk_grad %s, %i, %dw : (tensor<8x4xf32>, tensor<16xi64>, tensor<16xf32>) -> tensor<8x4xf32>
  return
}

// -----

func.func @topk_grad_rows(%s: tensor<8x4xf32>, %i: tensor<4x2xi64>, %dw: tensor<4x2xf32>) {
  // expected-error @+1 {{'mind.topk_grad' op indices rows (4) must equal scores rows (8)}}
  %0 = mind.topk_grad %s, %i, %dw : (tensor<8x4xf32>, tensor<4x2xi64>, tensor<4x2xf32>) -> tensor<8x4xf32>
  return
}

// -----

func.func @topk_grad_k_range(%s: tensor<8x4xf32>, %i: tensor<8x5xi64>, %dw: tensor<8x5xf32>) {
  // expected-error @+1 {{'mind.topk_grad' op k = 5 must be in [1, 4] (the number of experts)}}
  %0 = mind.topk_grad %s, %i, %dw {normalize = true} : (tensor<8x4xf32>, tensor<8x5xi64>, tensor<8x5xf32>) -> tensor<8x4xf32>
  return
}

// -----

func.func @topk_grad_result_type(%s: tensor<8x4xf32>, %i: tensor<8x2xi64>, %dw: tensor<8x2xf32>) {
  // expected-error @+1 {{'mind.topk_grad' op result type 'tensor<8x2xf32>' must match scores type 'tensor<8x4xf32>'}}
  %0 = mind.topk_grad %s, %i, %dw : (tensor<8x4xf32>, tensor<8x2xi64>, tensor<8x2xf32>) -> tensor<8x2xf32>
  return
}

// -----

func.func @topk_grad_grad_shape(%s: tensor<8x4xf32>, %i: tensor<8x2xi64>, %dw: tensor<8x4xf32>) {
  // expected-error @+1 {{'mind.topk_grad' op grad must have shape [8, 2], got [8, 4]}}
  %0 = mind.topk_grad %s, %i, %dw : (tensor<8x4xf32>, tensor<8x2xi64>, tensor<8x4xf32>) -> tensor<8x4xf32>
  return
}

// -----

func.func @topk_grad_grad_element_type(%s: tensor<8x4xf32>, %i: tensor<8x2xi64>, %dw: tensor<8x2xf16>) {
  // expected-error @+1 {{'mind.topk_grad' op grad element type 'f16' must match scores element type 'f32'}}
  %0 = mind.topk_grad %s, %i, %dw : (tensor<8x4xf32>, tensor<8x2xi64>, tensor<8x2xf16>) -> tensor<8x4xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// moe_dispatch_grad
//===----------------------------------------------------------------------===//

func.func @moe_dispatch_grad_rank(%g: tensor<16xf32>, %p: tensor<16xi64>) {
  // expected-error @+1 {{'mind.moe_dispatch_grad' op grad must be rank 2, got rank 1}}
  %0 = mind.moe_dispatch_grad %g, %p {top_k = 2 : i64} : (tensor<16xf32>, tensor<16xi64>) -> tensor<8xf32>
  return
}

// -----

func.func @moe_dispatch_grad_top_k_zero(%g: tensor<16x4xf32>, %p: tensor<16xi64>) {
  // expected-error @+1 {{'mind.moe_dispatch_grad' op top_k (0) must be positive and divide the row count (16)}}
  %0 = mind.moe_dispatch_grad %g, %p {top_k = 0 : i64} : (tensor<16x4xf32>, tensor<16xi64>) -> tensor<8x4xf32>
  return
}

// -----

func.func @moe_dispatch_grad_top_k_negative(%g: tensor<16x4xf32>, %p: tensor<16xi64>) {
  // expected-error @+1 {{'mind.moe_dispatch_grad' op top_k (-2) must be positive and divide the row count (16)}}
  %0 = mind.moe_dispatch_grad %g, %p {top_k = -2 : i64} : (tensor<16x4xf32>, tensor<16xi64>) -> tensor<8x4xf32>
  return
}

// -----

func.func @moe_dispatch_grad_top_k_divides(%g: tensor<16x4xf32>, %p: tensor<16xi64>) {
  // expected-error @+1 {{'mind.moe_dispatch_grad' op top_k (3) must be positive and divide the row count (16)}}
  %0 = mind.moe_dispatch_grad %g, %p {top_k = 3 : i64} : (tensor<16x4xf32>, tensor<16xi64>) -> tensor<5x4xf32>
  return
}

// -----

func.func @moe_dispatch_grad_perm_shape(%g: tensor<16x4xf32>, %p: tensor<8xi64>) {
  // expected-error @+1 {{'mind.moe_dispatch_grad' op perm must have shape [16], got [8]}}
  %0 = mind.moe_dispatch_grad %g, %p {top_k = 2 : i64} : (tensor<16x4xf32>, tensor<8xi64>) -> tensor<8x4xf32>
  return
}

// -----

func.func @moe_dispatch_grad_element_type(%g: tensor<16x4xf32>, %p: tensor<16xi64>) {
  // expected-error @+1 {{'mind.moe_dispatch_grad' op result element type 'f64' must match grad element type 'f32'}}
  %0 = mind.moe_dispatch_grad %g, %p {top_k = 2 : i64} : (tensor<16x4xf32>, tensor<16xi64>) -> tensor<8x4xf64>
  return
}

// -----

func.func @moe_dispatch_grad_result_shape(%g: tensor<16x4xf32>, %p: tensor<16xi64>) {
  // expected-error @+1 {{'mind.moe_dispatch_grad' op result must have shape [8, 4], got [16, 4]}}
  %0 = mind.moe_dispatch_grad %g, %p {top_k = 2 : i64} : (tensor<16x4xf32>, tensor<16xi64>) -> tensor<16x4xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// grouped_linear_grad: weight/gradient counts, the forward operand checks,
// then the gradient types.
//===----------------------------------------------------------------------===//

func.func @grouped_linear_grad_counts(%x: tensor<8x4xf32>, %o: tensor<3xi64>, %dy: tensor<8x6xf32>, %w: tensor<6x4xf32>) {
  // expected-error @+1 {{'mind.grouped_linear_grad' op has 2 weights but 1 weight gradients}}
  %dx, %dw = mind.grouped_linear_grad %x, %o, %dy, %w, %w
      : (tensor<8x4xf32>, tensor<3xi64>, tensor<8x6xf32>, tensor<6x4xf32>, tensor<6x4xf32>)
      -> (tensor<8x4xf32>, tensor<6x4xf32>)
  return
}

// -----

func.func @grouped_linear_grad_input_rank(%x: tensor<32xf32>, %o: tensor<2xi64>, %dy: tensor<8x6xf32>, %w: tensor<6x4xf32>) {
  // expected-error @+1 {{'mind.grouped_linear_grad' op input must be rank 2, got rank 1}}
  %dx, %dw = mind.grouped_linear_grad %x, %o, %dy, %w
      : (tensor<32xf32>, tensor<2xi64>, tensor<8x6xf32>, tensor<6x4xf32>)
      -> (tensor<32xf32>, tensor<6x4xf32>)
  return
}

// -----

func.func @grouped_linear_grad_no_weights(%x: tensor<8x4xf32>, %o: tensor<1xi64>, %dy: tensor<8x6xf32>) {
  // expected-error @+1 {{'mind.grouped_linear_grad' op needs at least one expert weight}}
  %dx = mind.grouped_linear_grad %x, %o, %dy
      : (tensor<8x4xf32>, tensor<1xi64>, tensor<8x6xf32>) -> tensor<8x4xf32>
  return
}

// -----

func.func @grouped_linear_grad_weight_rank(%x: tensor<8x4xf32>, %o: tensor<2xi64>, %dy: tensor<8x6xf32>, %w: tensor<1x6x4xf32>) {
  // expected-error @+1 {{'mind.grouped_linear_grad' op weight must be rank 2, got rank 3}}
  %dx, %dw = mind.grouped_linear_grad %x, %o, %dy, %w
      : (tensor<8x4xf32>, tensor<2xi64>, tensor<8x6xf32>, tensor<1x6x4xf32>)
      -> (tensor<8x4xf32>, tensor<1x6x4xf32>)
  return
}

// -----

func.func @grouped_linear_grad_weight_types_differ(%x: tensor<8x4xf32>, %o: tensor<3xi64>, %dy: tensor<8x6xf32>, %w0: tensor<6x4xf32>, %w1: tensor<6x4xbf16>) {
  // expected-error @+1 {{'mind.grouped_linear_grad' op every weight type 'tensor<6x4xbf16>' must match weight 0 type 'tensor<6x4xf32>'}}
  %dx, %dw0, %dw1 = mind.grouped_linear_grad %x, %o, %dy, %w0, %w1
      : (tensor<8x4xf32>, tensor<3xi64>, tensor<8x6xf32>, tensor<6x4xf32>, tensor<6x4xbf16>)
      -> (tensor<8x4xf32>, tensor<6x4xf32>, tensor<6x4xbf16>)
  return
}

// -----

func.func @grouped_linear_grad_contraction(%x: tensor<8x4xf32>, %o: tensor<2xi64>, %dy: tensor<8x6xf32>, %w: tensor<6x5xf32>) {
  // expected-error @+1 {{'mind.grouped_linear_grad' op input's last dimension (4) must equal weight dimension 1 (5)}}
  %dx, %dw = mind.grouped_linear_grad %x, %o, %dy, %w
      : (tensor<8x4xf32>, tensor<2xi64>, tensor<8x6xf32>, tensor<6x5xf32>)
      -> (tensor<8x4xf32>, tensor<6x5xf32>)
  return
}

// -----

func.func @grouped_linear_grad_offsets_shape(%x: tensor<8x4xf32>, %o: tensor<3xi64>, %dy: tensor<8x6xf32>, %w: tensor<6x4xf32>) {
  // expected-error @+1 {{'mind.grouped_linear_grad' op offsets must have shape [2], got [3]}}
  %dx, %dw = mind.grouped_linear_grad %x, %o, %dy, %w
      : (tensor<8x4xf32>, tensor<3xi64>, tensor<8x6xf32>, tensor<6x4xf32>)
      -> (tensor<8x4xf32>, tensor<6x4xf32>)
  return
}

// -----

func.func @grouped_linear_grad_weight_element_type(%x: tensor<8x4xf32>, %o: tensor<2xi64>, %dy: tensor<8x6xf32>, %w: tensor<6x4xf16>) {
  // expected-error @+1 {{'mind.grouped_linear_grad' op weight element type 'f16' must match input element type 'f32'}}
  %dx, %dw = mind.grouped_linear_grad %x, %o, %dy, %w
      : (tensor<8x4xf32>, tensor<2xi64>, tensor<8x6xf32>, tensor<6x4xf16>)
      -> (tensor<8x4xf32>, tensor<6x4xf16>)
  return
}

// -----

func.func @grouped_linear_grad_grad_shape(%x: tensor<8x4xf32>, %o: tensor<2xi64>, %dy: tensor<8x4xf32>, %w: tensor<6x4xf32>) {
  // expected-error @+1 {{'mind.grouped_linear_grad' op grad must have shape [8, 6], got [8, 4]}}
  %dx, %dw = mind.grouped_linear_grad %x, %o, %dy, %w
      : (tensor<8x4xf32>, tensor<2xi64>, tensor<8x4xf32>, tensor<6x4xf32>)
      -> (tensor<8x4xf32>, tensor<6x4xf32>)
  return
}

// -----

func.func @grouped_linear_grad_grad_element_type(%x: tensor<8x4xf32>, %o: tensor<2xi64>, %dy: tensor<8x6xbf16>, %w: tensor<6x4xf32>) {
  // expected-error @+1 {{'mind.grouped_linear_grad' op grad element type 'bf16' must match input element type 'f32'}}
  %dx, %dw = mind.grouped_linear_grad %x, %o, %dy, %w
      : (tensor<8x4xf32>, tensor<2xi64>, tensor<8x6xbf16>, tensor<6x4xf32>)
      -> (tensor<8x4xf32>, tensor<6x4xf32>)
  return
}

// -----

func.func @grouped_linear_grad_input_grad_type(%x: tensor<8x4xf32>, %o: tensor<2xi64>, %dy: tensor<8x6xf32>, %w: tensor<6x4xf32>) {
  // expected-error @+1 {{'mind.grouped_linear_grad' op input_grad type 'tensor<8x6xf32>' must match input type 'tensor<8x4xf32>'}}
  %dx, %dw = mind.grouped_linear_grad %x, %o, %dy, %w
      : (tensor<8x4xf32>, tensor<2xi64>, tensor<8x6xf32>, tensor<6x4xf32>)
      -> (tensor<8x6xf32>, tensor<6x4xf32>)
  return
}

// -----

func.func @grouped_linear_grad_weight_grad_type(%x: tensor<8x4xf32>, %o: tensor<3xi64>, %dy: tensor<8x6xf32>, %w: tensor<6x4xf32>) {
  // expected-error @+1 {{'mind.grouped_linear_grad' op weight gradient type 'tensor<4x6xf32>' must match weight type 'tensor<6x4xf32>'}}
  %dx, %dw0, %dw1 = mind.grouped_linear_grad %x, %o, %dy, %w, %w
      : (tensor<8x4xf32>, tensor<3xi64>, tensor<8x6xf32>, tensor<6x4xf32>, tensor<6x4xf32>)
      -> (tensor<8x4xf32>, tensor<6x4xf32>, tensor<4x6xf32>)
  return
}

// -----

//===----------------------------------------------------------------------===//
// moe_combine_grad: the forward operand checks, then the gradient types.
//===----------------------------------------------------------------------===//

func.func @moe_combine_grad_input_rank(%y: tensor<16xf32>, %p: tensor<16xi64>, %w: tensor<8x2xf32>, %g: tensor<8x4xf32>) {
  // expected-error @+1 {{'mind.moe_combine_grad' op input must be rank 2, got rank 1}}
  %dy, %dw = mind.moe_combine_grad %y, %p, %w, %g
      : (tensor<16xf32>, tensor<16xi64>, tensor<8x2xf32>, tensor<8x4xf32>) -> (tensor<16xf32>, tensor<8x2xf32>)
  return
}

// -----

func.func @moe_combine_grad_weights_rank(%y: tensor<16x4xf32>, %p: tensor<16xi64>, %w: tensor<16xf32>, %g: tensor<8x4xf32>) {
  // expected-error @+1 {{'mind.moe_combine_grad' op weights must be rank 2, got rank 1}}
  %dy, %dw = mind.moe_combine_grad %y, %p, %w, %g
      : (tensor<16x4xf32>, tensor<16xi64>, tensor<16xf32>, tensor<8x4xf32>) -> (tensor<16x4xf32>, tensor<16xf32>)
  return
}

// -----

func.func @moe_combine_grad_rows(%y: tensor<16x4xf32>, %p: tensor<16xi64>, %w: tensor<8x3xf32>, %g: tensor<8x4xf32>) {
  // expected-error @+1 {{'mind.moe_combine_grad' op input rows (16) must equal tokens * top_k (8 * 3)}}
  %dy, %dw = mind.moe_combine_grad %y, %p, %w, %g
      : (tensor<16x4xf32>, tensor<16xi64>, tensor<8x3xf32>, tensor<8x4xf32>) -> (tensor<16x4xf32>, tensor<8x3xf32>)
  return
}

// -----

func.func @moe_combine_grad_perm_shape(%y: tensor<16x4xf32>, %p: tensor<2x8xi64>, %w: tensor<8x2xf32>, %g: tensor<8x4xf32>) {
  // expected-error @+1 {{'mind.moe_combine_grad' op perm must have shape [16], got [2, 8]}}
  %dy, %dw = mind.moe_combine_grad %y, %p, %w, %g
      : (tensor<16x4xf32>, tensor<2x8xi64>, tensor<8x2xf32>, tensor<8x4xf32>) -> (tensor<16x4xf32>, tensor<8x2xf32>)
  return
}

// -----

func.func @moe_combine_grad_weights_element_type(%y: tensor<16x4xf32>, %p: tensor<16xi64>, %w: tensor<8x2xbf16>, %g: tensor<8x4xf32>) {
  // expected-error @+1 {{'mind.moe_combine_grad' op weights element type 'bf16' must match input element type 'f32'}}
  %dy, %dw = mind.moe_combine_grad %y, %p, %w, %g
      : (tensor<16x4xf32>, tensor<16xi64>, tensor<8x2xbf16>, tensor<8x4xf32>) -> (tensor<16x4xf32>, tensor<8x2xbf16>)
  return
}

// -----

func.func @moe_combine_grad_grad_shape(%y: tensor<16x4xf32>, %p: tensor<16xi64>, %w: tensor<8x2xf32>, %g: tensor<16x4xf32>) {
  // expected-error @+1 {{'mind.moe_combine_grad' op grad must have shape [8, 4], got [16, 4]}}
  %dy, %dw = mind.moe_combine_grad %y, %p, %w, %g
      : (tensor<16x4xf32>, tensor<16xi64>, tensor<8x2xf32>, tensor<16x4xf32>) -> (tensor<16x4xf32>, tensor<8x2xf32>)
  return
}

// -----

func.func @moe_combine_grad_grad_element_type(%y: tensor<16x4xf32>, %p: tensor<16xi64>, %w: tensor<8x2xf32>, %g: tensor<8x4xf64>) {
  // expected-error @+1 {{'mind.moe_combine_grad' op grad element type 'f64' must match input element type 'f32'}}
  %dy, %dw = mind.moe_combine_grad %y, %p, %w, %g
      : (tensor<16x4xf32>, tensor<16xi64>, tensor<8x2xf32>, tensor<8x4xf64>) -> (tensor<16x4xf32>, tensor<8x2xf32>)
  return
}

// -----

func.func @moe_combine_grad_input_grad_type(%y: tensor<16x4xf32>, %p: tensor<16xi64>, %w: tensor<8x2xf32>, %g: tensor<8x4xf32>) {
  // expected-error @+1 {{'mind.moe_combine_grad' op input_grad type 'tensor<8x4xf32>' must match input type 'tensor<16x4xf32>'}}
  %dy, %dw = mind.moe_combine_grad %y, %p, %w, %g
      : (tensor<16x4xf32>, tensor<16xi64>, tensor<8x2xf32>, tensor<8x4xf32>) -> (tensor<8x4xf32>, tensor<8x2xf32>)
  return
}

// -----

func.func @moe_combine_grad_weights_grad_type(%y: tensor<16x4xf32>, %p: tensor<16xi64>, %w: tensor<8x2xf32>, %g: tensor<8x4xf32>) {
  // expected-error @+1 {{'mind.moe_combine_grad' op weights_grad type 'tensor<16xf32>' must match weights type 'tensor<8x2xf32>'}}
  %dy, %dw = mind.moe_combine_grad %y, %p, %w, %g
      : (tensor<16x4xf32>, tensor<16xi64>, tensor<8x2xf32>, tensor<8x4xf32>) -> (tensor<16x4xf32>, tensor<16xf32>)
  return
}

// -----

//===----------------------------------------------------------------------===//
// moe_aux_loss_grad: the forward operand checks, then the result type.
//===----------------------------------------------------------------------===//

func.func @moe_aux_loss_grad_scores_rank(%s: tensor<32xf32>, %i: tensor<8x2xi64>, %g: tensor<f32>) {
  // expected-error @+1 {{'mind.moe_aux_loss_grad' op scores must be rank 2, got rank 1}}
  %0 = mind.moe_aux_loss_grad %s, %i, %g {alpha = 0.01 : f64, seq_aux = false, batch = 1 : i64} : (tensor<32xf32>, tensor<8x2xi64>, tensor<f32>) -> tensor<32xf32>
  return
}

// -----

func.func @moe_aux_loss_grad_indices_rank(%s: tensor<8x4xf32>, %i: tensor<8x2x1xi64>, %g: tensor<f32>) {
  // expected-error @+1 {{'mind.moe_aux_loss_grad' op indices must be rank 2, got rank 3}}
  %0 = mind.moe_aux_loss_grad %s, %i, %g {alpha = 0.01 : f64, seq_aux = false, batch = 1 : i64} : (tensor<8x4xf32>, tensor<8x2x1xi64>, tensor<f32>) -> tensor<8x4xf32>
  return
}

// -----

func.func @moe_aux_loss_grad_rows(%s: tensor<8x4xf32>, %i: tensor<16x1xi64>, %g: tensor<f32>) {
  // expected-error @+1 {{'mind.moe_aux_loss_grad' op indices rows (16) must equal scores rows (8)}}
  %0 = mind.moe_aux_loss_grad %s, %i, %g {alpha = 0.01 : f64, seq_aux = false, batch = 1 : i64} : (tensor<8x4xf32>, tensor<16x1xi64>, tensor<f32>) -> tensor<8x4xf32>
  return
}

// -----

func.func @moe_aux_loss_grad_batch(%s: tensor<8x4xf32>, %i: tensor<8x2xi64>, %g: tensor<f32>) {
  // expected-error @+1 {{'mind.moe_aux_loss_grad' op batch (5) must be positive and divide the token count (8)}}
  %0 = mind.moe_aux_loss_grad %s, %i, %g {alpha = 0.01 : f64, seq_aux = true, batch = 5 : i64} : (tensor<8x4xf32>, tensor<8x2xi64>, tensor<f32>) -> tensor<8x4xf32>
  return
}

// -----

func.func @moe_aux_loss_grad_alpha(%s: tensor<8x4xf32>, %i: tensor<8x2xi64>, %g: tensor<f32>) {
  // expected-error @+1 {{'mind.moe_aux_loss_grad' op alpha must be non-negative}}
  %0 = mind.moe_aux_loss_grad %s, %i, %g {alpha = -1.0 : f64, seq_aux = true, batch = 2 : i64} : (tensor<8x4xf32>, tensor<8x2xi64>, tensor<f32>) -> tensor<8x4xf32>
  return
}

// -----

func.func @moe_aux_loss_grad_result_type(%s: tensor<8x4xf32>, %i: tensor<8x2xi64>, %g: tensor<f32>) {
  // expected-error @+1 {{'mind.moe_aux_loss_grad' op result type 'tensor<8x4xbf16>' must match scores type 'tensor<8x4xf32>'}}
  %0 = mind.moe_aux_loss_grad %s, %i, %g {alpha = 0.01 : f64, seq_aux = true, batch = 2 : i64} : (tensor<8x4xf32>, tensor<8x2xi64>, tensor<f32>) -> tensor<8x4xbf16>
  return
}

// -----

func.func @softmax_grad_rank0(%y: tensor<f32>, %dy: tensor<f32>) {
  // expected-error @+1 {{'mind.softmax_grad' op output must have rank >= 1}}
  %0 = mind.softmax_grad %y, %dy : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return
}

// -----

func.func @fused_no_result(%x: tensor<4xf32>) {
  // expected-error @+1 {{'mind.fused_elementwise' op expects at least one result}}
  "mind.fused_elementwise"(%x) ({
  ^bb0(%a: tensor<4xf32>):
    "mind.yield"() : () -> ()
  }) : (tensor<4xf32>) -> ()
  return
}

// -----

func.func @fused_arg_count(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'mind.fused_elementwise' op expects 1 block arguments (one per input), got 2}}
  %0 = mind.fused_elementwise %x : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>, %b: tensor<4xf32>):
    mind.yield %a : tensor<4xf32>
  }
  return %0 : tensor<4xf32>
}

// -----

func.func @fused_arg_type(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'mind.fused_elementwise' op block argument #0 has type 'tensor<4xbf16>', but input #0 is 'tensor<4xf32>'}}
  %0 = mind.fused_elementwise %x : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xbf16>):
    %c = mind.cast %a : (tensor<4xbf16>) -> tensor<4xf32>
    mind.yield %c : tensor<4xf32>
  }
  return %0 : tensor<4xf32>
}

// -----

func.func @fused_yield_types(%x: tensor<4xf32>) -> tensor<4xbf16> {
  // expected-error @+1 {{'mind.fused_elementwise' op yields 'tensor<4xf32>' but its results are 'tensor<4xbf16>'}}
  %0 = mind.fused_elementwise %x : (tensor<4xf32>) -> tensor<4xbf16> {
  ^bb0(%a: tensor<4xf32>):
    %s = mind.silu %a : (tensor<4xf32>) -> tensor<4xf32>
    mind.yield %s : tensor<4xf32>
  }
  return %0 : tensor<4xbf16>
}

// -----

func.func @fused_input_shape(%x: tensor<4xf32>, %y: tensor<2x2xf32>) -> tensor<2x2xf32> {
  // expected-error @+1 {{'mind.fused_elementwise' op expects every value to have the shape of result #0 ('tensor<2x2xf32>'), but an input is 'tensor<4xf32>'}}
  %0 = mind.fused_elementwise %x, %y : (tensor<4xf32>, tensor<2x2xf32>) -> tensor<2x2xf32> {
  ^bb0(%a: tensor<4xf32>, %b: tensor<2x2xf32>):
    %s = mind.silu %b : (tensor<2x2xf32>) -> tensor<2x2xf32>
    mind.yield %s : tensor<2x2xf32>
  }
  return %0 : tensor<2x2xf32>
}

// -----

func.func @fused_body_op(%x: tensor<2x2xf32>) -> tensor<2x2xf32> {
  // expected-error @+1 {{'mind.fused_elementwise' op body op 'mind.softmax' is not a fusible elementwise op}}
  %0 = mind.fused_elementwise %x : (tensor<2x2xf32>) -> tensor<2x2xf32> {
  ^bb0(%a: tensor<2x2xf32>):
    %s = mind.softmax %a : (tensor<2x2xf32>) -> tensor<2x2xf32>
    mind.yield %s : tensor<2x2xf32>
  }
  return %0 : tensor<2x2xf32>
}

// -----

func.func @yield_outside(%x: tensor<4xf32>) {
  // expected-error @+1 {{'mind.yield' op expects parent op 'mind.fused_elementwise'}}
  mind.yield %x : tensor<4xf32>
}

// -----

// NaN and infinity are refused where a positive or non-negative number is
// required (a hand-written or fuzzed module could carry them).
func.func @rmsnorm_epsilon_nan(%x: tensor<2x8xf32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{'mind.rmsnorm' op epsilon must be positive and finite}}
  %0 = mind.rmsnorm %x, %w {epsilon = 0x7FF8000000000000 : f64} : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @rmsnorm_epsilon_inf(%x: tensor<2x8xf32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{'mind.rmsnorm' op epsilon must be positive and finite}}
  %0 = mind.rmsnorm %x, %w {epsilon = 0x7FF0000000000000 : f64} : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @rope_table_theta_inf() {
  // expected-error @+1 {{'mind.rope_table' op theta must be greater than 1 and finite}}
  %c, %s = mind.rope_table {theta = 0x7FF0000000000000 : f64, max_positions = 32 : i64} : () -> (tensor<8x16xf32>, tensor<8x16xf32>)
  return
}

// -----

func.func @rope_table_yarn_factor_nan() {
  // expected-error @+1 {{'mind.rope_table' op yarn_factor must be positive and finite}}
  %c, %s = mind.rope_table {theta = 1.0e+06 : f64, max_positions = 32 : i64, yarn_factor = 0x7FF8000000000000 : f64} : () -> (tensor<8x16xf32>, tensor<8x16xf32>)
  return
}

// -----

func.func @rope_table_beta_negative() {
  // expected-error @+1 {{'mind.rope_table' op yarn_beta_fast and yarn_beta_slow must be positive and finite}}
  %c, %s = mind.rope_table {theta = 1.0e+06 : f64, max_positions = 32 : i64, yarn_beta_fast = -5.0 : f64} : () -> (tensor<8x16xf32>, tensor<8x16xf32>)
  return
}

// -----

func.func @rope_table_attention_factor_nan() {
  // expected-error @+1 {{'mind.rope_table' op attention_factor must be positive and finite}}
  %c, %s = mind.rope_table {theta = 1.0e+06 : f64, max_positions = 32 : i64, attention_factor = 0x7FF8000000000000 : f64} : () -> (tensor<8x16xf32>, tensor<8x16xf32>)
  return
}

// -----

func.func @moe_aux_loss_alpha_nan(%s: tensor<8x4xf32>, %i: tensor<8x2xi64>) {
  // expected-error @+1 {{'mind.moe_aux_loss' op alpha must be non-negative and finite}}
  %0 = mind.moe_aux_loss %s, %i {alpha = 0x7FF8000000000000 : f64, seq_aux = true, batch = 2 : i64} : (tensor<8x4xf32>, tensor<8x2xi64>) -> tensor<f32>
  return
}

// -----

// Products of shapes and attributes are checked for overflow (they wrapped
// to whatever a 64-bit multiply gave).
func.func @moe_dispatch_rows_overflow(%x: tensor<3x4xf32>, %p: tensor<12xi64>) {
  // expected-error @+1 {{'mind.moe_dispatch' op tokens * top_k (3 * 4611686018427387904) does not fit a 64-bit integer}}
  %0 = mind.moe_dispatch %x, %p {top_k = 4611686018427387904 : i64} : (tensor<3x4xf32>, tensor<12xi64>) -> tensor<12x4xf32>
  return
}

// -----

func.func @moe_route_num_experts_max(%i: tensor<8x2xi64>) {
  // expected-error @+1 {{'mind.moe_route' op num_experts must be positive (and below 2^63 - 1)}}
  %p, %o = mind.moe_route %i {num_experts = 9223372036854775807 : i64} : (tensor<8x2xi64>) -> (tensor<16xi64>, tensor<1xi64>)
  return
}

// -----

func.func @moe_route_slots_overflow(%i: tensor<4294967296x4294967296xi64>) {
  // expected-error @+1 {{'mind.moe_route' op tokens * k (4294967296 * 4294967296) does not fit a 64-bit integer}}
  %p, %o = mind.moe_route %i {num_experts = 2 : i64} : (tensor<4294967296x4294967296xi64>) -> (tensor<0xi64>, tensor<3xi64>)
  return
}

// -----

func.func @reshape_count_overflow(%x: tensor<4294967296x4294967296xf32>) {
  // expected-error @+1 {{'mind.reshape' op the input's element count (4294967296 * 4294967296) does not fit a 64-bit integer}}
  %0 = mind.reshape %x : (tensor<4294967296x4294967296xf32>) -> tensor<0xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// add_rmsnorm and rmsnorm_grad_residual (mind-fuse-add-rmsnorm)
//===----------------------------------------------------------------------===//

func.func @add_rmsnorm_wide_delta(%r: tensor<2x8xbf16>, %d: tensor<2x8xf32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{'mind.add_rmsnorm' op delta must have the residual's type 'tensor<2x8xbf16>' or its shape in a narrower float type, got 'tensor<2x8xf32>'}}
  %s, %y = mind.add_rmsnorm %r, %d, %w {epsilon = 1.0e-05 : f64} : (tensor<2x8xbf16>, tensor<2x8xf32>, tensor<8xf32>) -> (tensor<2x8xbf16>, tensor<2x8xbf16>)
  return
}

// -----

func.func @add_rmsnorm_weight(%r: tensor<2x8xf32>, %w: tensor<4xf32>) {
  // expected-error @+1 {{'mind.add_rmsnorm' op weight must be [8] (the last dim of 'tensor<2x8xf32>'), got 'tensor<4xf32>'}}
  %s, %y = mind.add_rmsnorm %r, %r, %w {epsilon = 1.0e-05 : f64} : (tensor<2x8xf32>, tensor<2x8xf32>, tensor<4xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>)
  return
}

// -----

func.func @add_rmsnorm_epsilon(%r: tensor<2x8xf32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{'mind.add_rmsnorm' op epsilon must be positive and finite}}
  %s, %y = mind.add_rmsnorm %r, %r, %w {epsilon = 0.0 : f64} : (tensor<2x8xf32>, tensor<2x8xf32>, tensor<8xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>)
  return
}

// -----

func.func @add_rmsnorm_sum_type(%r: tensor<2x8xf32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{'mind.add_rmsnorm' op sum must have the residual's type 'tensor<2x8xf32>', got 'tensor<2x8xbf16>'}}
  %s, %y = mind.add_rmsnorm %r, %r, %w {epsilon = 1.0e-05 : f64} : (tensor<2x8xf32>, tensor<2x8xf32>, tensor<8xf32>) -> (tensor<2x8xbf16>, tensor<2x8xf32>)
  return
}

// -----

func.func @add_rmsnorm_result_shape(%r: tensor<2x8xf32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{'mind.add_rmsnorm' op result must have the residual's type 'tensor<2x8xf32>' or its shape in a narrower float type, got 'tensor<8x2xbf16>'}}
  %s, %y = mind.add_rmsnorm %r, %r, %w {epsilon = 1.0e-05 : f64} : (tensor<2x8xf32>, tensor<2x8xf32>, tensor<8xf32>) -> (tensor<2x8xf32>, tensor<8x2xbf16>)
  return
}

// -----

func.func @rmsnorm_grad_residual_type(%x: tensor<2x8xf32>, %w: tensor<8xf32>, %d: tensor<2x8xbf16>) {
  // expected-error @+1 {{'mind.rmsnorm_grad_residual' op residual_grad must have the input's type 'tensor<2x8xf32>', got 'tensor<2x8xbf16>'}}
  %s, %dw = mind.rmsnorm_grad_residual %x, %w, %d, %d {epsilon = 1.0e-05 : f64} : (tensor<2x8xf32>, tensor<8xf32>, tensor<2x8xbf16>, tensor<2x8xbf16>) -> (tensor<2x8xf32>, tensor<8xf32>)
  return
}

// -----

func.func @rmsnorm_grad_residual_wide_grad(%x: tensor<2x8xbf16>, %w: tensor<8xf32>, %d: tensor<2x8xf32>) {
  // expected-error @+1 {{'mind.rmsnorm_grad_residual' op grad must have the input's type 'tensor<2x8xbf16>' or its shape in a narrower float type, got 'tensor<2x8xf32>'}}
  %s, %dw = mind.rmsnorm_grad_residual %x, %w, %d, %x {epsilon = 1.0e-05 : f64} : (tensor<2x8xbf16>, tensor<8xf32>, tensor<2x8xf32>, tensor<2x8xbf16>) -> (tensor<2x8xbf16>, tensor<8xf32>)
  return
}

// -----

func.func @rmsnorm_grad_residual_weight_grad(%x: tensor<2x8xf32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{'mind.rmsnorm_grad_residual' op weight_grad must have the weight's type 'tensor<8xf32>', got 'tensor<8xbf16>'}}
  %s, %dw = mind.rmsnorm_grad_residual %x, %w, %x, %x {epsilon = 1.0e-05 : f64} : (tensor<2x8xf32>, tensor<8xf32>, tensor<2x8xf32>, tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<8xbf16>)
  return
}

// -----

func.func @rmsnorm_grad_residual_narrow_same(%x: tensor<2x8xf32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{'mind.rmsnorm_grad_residual' op input_grad_narrow must be narrower than the input's type 'tensor<2x8xf32>'}}
  %s, %dw, %n = mind.rmsnorm_grad_residual %x, %w, %x, %x {epsilon = 1.0e-05 : f64} : (tensor<2x8xf32>, tensor<8xf32>, tensor<2x8xf32>, tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<8xf32>, tensor<2x8xf32>)
  return
}

// -----

func.func @rmsnorm_grad_residual_narrow_shape(%x: tensor<2x8xf32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{'mind.rmsnorm_grad_residual' op input_grad_narrow must have the input's type 'tensor<2x8xf32>' or its shape in a narrower float type, got 'tensor<8x2xbf16>'}}
  %s, %dw, %n = mind.rmsnorm_grad_residual %x, %w, %x, %x {epsilon = 1.0e-05 : f64} : (tensor<2x8xf32>, tensor<8xf32>, tensor<2x8xf32>, tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<8xf32>, tensor<8x2xbf16>)
  return
}

// -----

//===----------------------------------------------------------------------===//
// attention_grad_rope (mind-fuse-attention-rope)
//===----------------------------------------------------------------------===//

func.func @attention_grad_rope_table(%q: tensor<1x8x4x16xbf16>, %k: tensor<1x8x2x16xbf16>,
                                     %lse: tensor<1x4x8xf32>, %c: tensor<8x16xf32>, %s: tensor<8x8xf32>) {
  // expected-error @+1 {{'mind.attention_grad_rope' op sin must have shape [8, 16], got [8, 8]}}
  %dq, %dk, %dv = mind.attention_grad_rope %q, %k, %k, %q, %lse, %q, %c, %s {scale = 0.25 : f64}
      : (tensor<1x8x4x16xbf16>, tensor<1x8x2x16xbf16>, tensor<1x8x2x16xbf16>, tensor<1x8x4x16xbf16>,
         tensor<1x4x8xf32>, tensor<1x8x4x16xbf16>, tensor<8x16xf32>, tensor<8x8xf32>)
      -> (tensor<1x8x4x16xbf16>, tensor<1x8x2x16xbf16>, tensor<1x8x2x16xbf16>)
  return
}

// -----

func.func @attention_grad_rope_key_grad(%q: tensor<1x8x4x16xbf16>, %k: tensor<1x8x2x16xbf16>,
                                        %lse: tensor<1x4x8xf32>, %c: tensor<8x16xf32>) {
  // expected-error @+1 {{'mind.attention_grad_rope' op key_grad type 'tensor<1x8x4x16xbf16>' must match key type 'tensor<1x8x2x16xbf16>'}}
  %dq, %dk, %dv = mind.attention_grad_rope %q, %k, %k, %q, %lse, %q, %c, %c {scale = 0.25 : f64}
      : (tensor<1x8x4x16xbf16>, tensor<1x8x2x16xbf16>, tensor<1x8x2x16xbf16>, tensor<1x8x4x16xbf16>,
         tensor<1x4x8xf32>, tensor<1x8x4x16xbf16>, tensor<8x16xf32>, tensor<8x16xf32>)
      -> (tensor<1x8x4x16xbf16>, tensor<1x8x4x16xbf16>, tensor<1x8x2x16xbf16>)
  return
}

// -----

//===----------------------------------------------------------------------===//
// lm_head_loss (mind-chunk-lm-head)
//===----------------------------------------------------------------------===//

func.func @lm_head_loss_chunk(%x: tensor<2x24x8xbf16>, %w: tensor<32x8xbf16>, %t: tensor<2x24xi64>, %s: tensor<f32>) {
  // expected-error @+1 {{'mind.lm_head_loss' op chunk_rows must be a positive multiple of 16, got 24}}
  %l, %dx, %dw = mind.lm_head_loss %x, %w, %t, %t, %s {chunk_rows = 24 : i64}
      : (tensor<2x24x8xbf16>, tensor<32x8xbf16>, tensor<2x24xi64>, tensor<2x24xi64>, tensor<f32>)
      -> (tensor<f32>, tensor<2x24x8xbf16>, tensor<32x8xbf16>)
  return
}

// -----

func.func @lm_head_loss_weight(%x: tensor<2x24x8xbf16>, %w: tensor<32x4xbf16>, %t: tensor<2x24xi64>, %s: tensor<f32>) {
  // expected-error @+1 {{'mind.lm_head_loss' op weight must be [V, 8], got [32, 4]}}
  %l, %dx, %dw = mind.lm_head_loss %x, %w, %t, %t, %s {chunk_rows = 16 : i64}
      : (tensor<2x24x8xbf16>, tensor<32x4xbf16>, tensor<2x24xi64>, tensor<2x24xi64>, tensor<f32>)
      -> (tensor<f32>, tensor<2x24x8xbf16>, tensor<32x4xbf16>)
  return
}

// -----

func.func @lm_head_loss_targets(%x: tensor<2x24x8xbf16>, %w: tensor<32x8xbf16>, %t: tensor<2x23xi64>, %m: tensor<2x24xi64>, %s: tensor<f32>) {
  // expected-error @+1 {{'mind.lm_head_loss' op targets must have shape [2, 24], got [2, 23]}}
  %l, %dx, %dw = mind.lm_head_loss %x, %w, %t, %m, %s {chunk_rows = 16 : i64}
      : (tensor<2x24x8xbf16>, tensor<32x8xbf16>, tensor<2x23xi64>, tensor<2x24xi64>, tensor<f32>)
      -> (tensor<f32>, tensor<2x24x8xbf16>, tensor<32x8xbf16>)
  return
}
