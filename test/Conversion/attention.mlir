// RUN: mind-opt %s -split-input-file -mind-lower-to-plan | FileCheck %s

// The attention family (LowerAttention.cpp): rope_table (f32 cos/sin tables
// [seq, dim]), rope (rotate-half RoPE of x [B, S, N, D], inverse = 1 for the
// VJP), and flash attention over q [B, S, Hq, D], k/v [B, S, Hkv, D] with an
// f32 lse [B, Hq, S]: register-tiled FMA kernels for f32 (attention_fwd,
// attention_bwd, attention_bwd_dq), mma.sync ones for 16-bit types
// (attention_fwd_mma, attention_bwd_dkdv_mma, attention_bwd_dq_mma), each
// instantiated on the head dim. The backward computes delta = rowsum(dO * O)
// into an f32 workspace [B, Hq, S] first.

// rope_table, then rope and its inverse on [2, 24, 4, 16]: with 8 rotation
// pairs per row, 8 lanes and 32 rows per block, 192 rows in 6 blocks. The
// tables' default YaRN parameters are passed as they are.
// CHECK-LABEL: plan.micro_step @train_step
// CHECK-NEXT: %[[X:.*]] = plan.buffer input "x" : memref<2x24x4x16xf32>
// CHECK-NEXT: %[[OUT:.*]] = plan.buffer output "loss" : memref<2x24x4x16xf32>
// CHECK-NEXT: %[[COS:.*]] = plan.buffer activation "%0" : memref<24x16xf32>
// CHECK-NEXT: %[[SIN:.*]] = plan.buffer activation "%1" : memref<24x16xf32>
// CHECK-NEXT: %[[R:.*]] = plan.buffer activation "%2" : memref<2x24x4x16xf32>
// CHECK-NEXT: plan.kernel "mind::rope_table"(%[[COS]], %[[SIN]], 24 : i64, 16 : i64, 1.000000e+06 : f64, 32768 : i64, 1.000000e+00 : f64, 2048 : i64, 3.200000e+01 : f64, 1.000000e+00 : f64, 1.000000e+00 : f64) grid [1, 1, 1] block [256, 1, 1] {source = "mind.rope_table"} : memref<24x16xf32>, memref<24x16xf32>{{$}}
// CHECK-NEXT: plan.kernel "mind::rope_fwd<float>"(%[[X]], %[[COS]], %[[SIN]], %[[R]], 2 : i64, 24 : i64, 4 : i64, 16 : i64, 0 : i64) grid [2, 1, 1] block [256, 1, 1] {source = "mind.rope"} : memref<2x24x4x16xf32>, memref<24x16xf32>, memref<24x16xf32>, memref<2x24x4x16xf32>{{$}}
// CHECK-NEXT: plan.kernel "mind::rope_fwd<float>"(%[[R]], %[[COS]], %[[SIN]], %[[OUT]], 2 : i64, 24 : i64, 4 : i64, 16 : i64, 1 : i64) grid [2, 1, 1] block [256, 1, 1] {source = "mind.rope"}
// CHECK-NEXT: {{^ *}$}}
func.func @train_step(%x: tensor<2x24x4x16xf32> {mind.input = "x"}) -> tensor<2x24x4x16xf32> {
  %cos, %sin = mind.rope_table {theta = 1.0e+06 : f64, max_positions = 32768 : i64}
      : () -> (tensor<24x16xf32>, tensor<24x16xf32>)
  %r = mind.rope %x, %cos, %sin
      : (tensor<2x24x4x16xf32>, tensor<24x16xf32>, tensor<24x16xf32>) -> tensor<2x24x4x16xf32>
  %i = mind.rope %r, %cos, %sin {inverse = true}
      : (tensor<2x24x4x16xf32>, tensor<24x16xf32>, tensor<24x16xf32>) -> tensor<2x24x4x16xf32>
  return %i : tensor<2x24x4x16xf32>
}

// -----

// YaRN parameters reach the table kernel in signature order (theta,
// max_positions, factor, original_max, beta_fast, beta_slow,
// attention_factor); a bf16 rope with 32 pairs per row uses 32 lanes x 8
// rows.
// CHECK-LABEL: plan.micro_step @train_step
// CHECK-NEXT: %[[X:.*]] = plan.buffer input "x" : memref<1x8x2x64xbf16>
// CHECK-NEXT: %[[OUT:.*]] = plan.buffer output "loss" : memref<1x8x2x64xbf16>
// CHECK-NEXT: %[[COS:.*]] = plan.buffer activation "%0" : memref<8x64xf32>
// CHECK-NEXT: %[[SIN:.*]] = plan.buffer activation "%1" : memref<8x64xf32>
// CHECK-NEXT: plan.kernel "mind::rope_table"(%[[COS]], %[[SIN]], 8 : i64, 64 : i64, 1.000000e+06 : f64, 32768 : i64, 1.600000e+01 : f64, 4096 : i64, 1.600000e+01 : f64, 2.000000e+00 : f64, 1.250000e+00 : f64) grid [1, 1, 1] block [256, 1, 1]
// CHECK-NEXT: plan.kernel "mind::rope_fwd<__nv_bfloat16>"(%[[X]], %[[COS]], %[[SIN]], %[[OUT]], 1 : i64, 8 : i64, 2 : i64, 64 : i64, 0 : i64) grid [1, 1, 1] block [256, 1, 1] {source = "mind.rope"} : memref<1x8x2x64xbf16>, memref<8x64xf32>, memref<8x64xf32>, memref<1x8x2x64xbf16>{{$}}
// CHECK-NEXT: {{^ *}$}}
func.func @train_step(%x: tensor<1x8x2x64xbf16> {mind.input = "x"}) -> tensor<1x8x2x64xbf16> {
  %cos, %sin = mind.rope_table {theta = 1.0e+06 : f64, max_positions = 32768 : i64,
                                yarn_factor = 16.0 : f64, yarn_original_max = 4096 : i64,
                                yarn_beta_fast = 16.0 : f64, yarn_beta_slow = 2.0 : f64,
                                attention_factor = 1.25 : f64}
      : () -> (tensor<8x64xf32>, tensor<8x64xf32>)
  %r = mind.rope %x, %cos, %sin
      : (tensor<1x8x2x64xbf16>, tensor<8x64xf32>, tensor<8x64xf32>) -> tensor<1x8x2x64xbf16>
  return %r : tensor<1x8x2x64xbf16>
}

// -----

// f32 attention, causal, GQA (4 query heads on 2 KV heads), seq 100, D = 64:
// the forward takes 64-query tiles (grid [2, Hq, B]); the backward's dK/dV
// pass walks 64-key tiles per KV head (grid [2, Hkv, B]) and the dQ pass
// 32-query tiles (grid [4, Hq, B]); shared memory as attention.cuh lays it
// out. The kernels take seq, Hq, Hkv, scale (f32), causal.
// CHECK-LABEL: plan.micro_step @train_step
// CHECK-NEXT: %[[Q:.*]] = plan.buffer input "q" : memref<2x100x4x64xf32>
// CHECK-NEXT: %[[K:.*]] = plan.buffer input "k" : memref<2x100x2x64xf32>
// CHECK-NEXT: %[[V:.*]] = plan.buffer input "v" : memref<2x100x2x64xf32>
// CHECK-NEXT: %[[DO:.*]] = plan.buffer input "do" : memref<2x100x4x64xf32>
// CHECK-NEXT: %[[DQ:.*]] = plan.buffer output "loss" : memref<2x100x4x64xf32>
// CHECK-NEXT: %[[DK:.*]] = plan.buffer output "aux_loss" : memref<2x100x2x64xf32>
// CHECK-NEXT: %[[DV:.*]] = plan.buffer output "loss2" : memref<2x100x2x64xf32>
// CHECK-NEXT: %[[O:.*]] = plan.buffer activation "%0" : memref<2x100x4x64xf32>
// CHECK-NEXT: %[[LSE:.*]] = plan.buffer activation "%1" : memref<2x4x100xf32>
// CHECK-NEXT: %[[DELTA:.*]] = plan.buffer activation "attention_delta.2" : memref<2x4x100xf32>
// CHECK-NEXT: plan.kernel "mind::attention_fwd<float, 64>"(%[[Q]], %[[K]], %[[V]], %[[O]], %[[LSE]], 100 : i64, 4 : i64, 2 : i64, 1.250000e-01 : f32, 1 : i64) grid [2, 4, 2] block [128, 1, 1] smem 83712 {source = "mind.attention"} : memref<2x100x4x64xf32>, memref<2x100x2x64xf32>, memref<2x100x2x64xf32>, memref<2x100x4x64xf32>, memref<2x4x100xf32>{{$}}
// CHECK-NEXT: plan.kernel "mind::attention_bwd_prep<float>"(%[[O]], %[[DO]], %[[DELTA]], 2 : i64, 100 : i64, 4 : i64, 64 : i64) grid [25, 1, 1] block [256, 1, 1] {source = "mind.attention_grad"} : memref<2x100x4x64xf32>, memref<2x100x4x64xf32>, memref<2x4x100xf32>{{$}}
// CHECK-NEXT: plan.kernel "mind::attention_bwd<float, 64>"(%[[Q]], %[[K]], %[[V]], %[[DO]], %[[LSE]], %[[DELTA]], %[[DK]], %[[DV]], 100 : i64, 4 : i64, 2 : i64, 1.250000e-01 : f32, 1 : i64) grid [2, 2, 2] block [128, 1, 1] smem 100096 {source = "mind.attention_grad"}
// CHECK-NEXT: plan.kernel "mind::attention_bwd_dq<float, 64>"(%[[Q]], %[[K]], %[[V]], %[[DO]], %[[LSE]], %[[DELTA]], %[[DQ]], 100 : i64, 4 : i64, 2 : i64, 1.250000e-01 : f32, 1 : i64) grid [4, 4, 2] block [128, 1, 1] smem 75136 {source = "mind.attention_grad"}
// CHECK-NEXT: {{^ *}$}}
func.func @train_step(%q: tensor<2x100x4x64xf32> {mind.input = "q"}, %k: tensor<2x100x2x64xf32> {mind.input = "k"},
                      %v: tensor<2x100x2x64xf32> {mind.input = "v"}, %do: tensor<2x100x4x64xf32> {mind.input = "do"})
    -> (tensor<2x100x4x64xf32>, tensor<2x100x2x64xf32>, tensor<2x100x2x64xf32>) {
  %o, %lse = mind.attention %q, %k, %v {scale = 0.125 : f64}
      : (tensor<2x100x4x64xf32>, tensor<2x100x2x64xf32>, tensor<2x100x2x64xf32>)
      -> (tensor<2x100x4x64xf32>, tensor<2x4x100xf32>)
  %dq, %dk, %dv = mind.attention_grad %q, %k, %v, %o, %lse, %do {scale = 0.125 : f64}
      : (tensor<2x100x4x64xf32>, tensor<2x100x2x64xf32>, tensor<2x100x2x64xf32>,
         tensor<2x100x4x64xf32>, tensor<2x4x100xf32>, tensor<2x100x4x64xf32>)
      -> (tensor<2x100x4x64xf32>, tensor<2x100x2x64xf32>, tensor<2x100x2x64xf32>)
  return %dq, %dk, %dv : tensor<2x100x4x64xf32>, tensor<2x100x2x64xf32>, tensor<2x100x2x64xf32>
}

// -----

// bf16 attention, not causal, D = 128: the mma kernels, 64-row tiles (the
// dQ pass streams 32-key tiles at this head dim), same arguments.
// CHECK-LABEL: plan.micro_step @train_step
// CHECK-NEXT: %[[Q:.*]] = plan.buffer input "q" : memref<2x100x4x128xbf16>
// CHECK-NEXT: %[[K:.*]] = plan.buffer input "k" : memref<2x100x2x128xbf16>
// CHECK-NEXT: %[[V:.*]] = plan.buffer input "v" : memref<2x100x2x128xbf16>
// CHECK-NEXT: %[[DO:.*]] = plan.buffer input "do" : memref<2x100x4x128xbf16>
// CHECK-NEXT: %[[DQ:.*]] = plan.buffer output "loss" : memref<2x100x4x128xbf16>
// CHECK-NEXT: %[[DK:.*]] = plan.buffer output "aux_loss" : memref<2x100x2x128xbf16>
// CHECK-NEXT: %[[DV:.*]] = plan.buffer output "loss2" : memref<2x100x2x128xbf16>
// CHECK-NEXT: %[[O:.*]] = plan.buffer activation "%0" : memref<2x100x4x128xbf16>
// CHECK-NEXT: %[[LSE:.*]] = plan.buffer activation "%1" : memref<2x4x100xf32>
// CHECK-NEXT: %[[DELTA:.*]] = plan.buffer activation "attention_delta.2" : memref<2x4x100xf32>
// CHECK-NEXT: plan.kernel "mind::attention_fwd_mma<__nv_bfloat16, 128>"(%[[Q]], %[[K]], %[[V]], %[[O]], %[[LSE]], 100 : i64, 4 : i64, 2 : i64, 1.250000e-01 : f32, 0 : i64) grid [2, 4, 2] block [128, 1, 1] smem 87040 {source = "mind.attention"} : memref<2x100x4x128xbf16>, memref<2x100x2x128xbf16>, memref<2x100x2x128xbf16>, memref<2x100x4x128xbf16>, memref<2x4x100xf32>{{$}}
// CHECK-NEXT: plan.kernel "mind::attention_bwd_prep<__nv_bfloat16>"(%[[O]], %[[DO]], %[[DELTA]], 2 : i64, 100 : i64, 4 : i64, 128 : i64) grid [25, 1, 1] block [256, 1, 1] {source = "mind.attention_grad"}
// CHECK-NEXT: plan.kernel "mind::attention_bwd_dkdv_mma<__nv_bfloat16, 128>"(%[[Q]], %[[K]], %[[V]], %[[DO]], %[[LSE]], %[[DELTA]], %[[DK]], %[[DV]], 100 : i64, 4 : i64, 2 : i64, 1.250000e-01 : f32, 0 : i64) grid [2, 2, 2] block [128, 1, 1] smem 70144 {source = "mind.attention_grad"}
// CHECK-NEXT: plan.kernel "mind::attention_bwd_dq_mma<__nv_bfloat16, 128>"(%[[Q]], %[[K]], %[[V]], %[[DO]], %[[LSE]], %[[DELTA]], %[[DQ]], 100 : i64, 4 : i64, 2 : i64, 1.250000e-01 : f32, 0 : i64) grid [2, 4, 2] block [128, 1, 1] smem 69632 {source = "mind.attention_grad"}
// CHECK-NEXT: {{^ *}$}}
func.func @train_step(%q: tensor<2x100x4x128xbf16> {mind.input = "q"}, %k: tensor<2x100x2x128xbf16> {mind.input = "k"},
                      %v: tensor<2x100x2x128xbf16> {mind.input = "v"}, %do: tensor<2x100x4x128xbf16> {mind.input = "do"})
    -> (tensor<2x100x4x128xbf16>, tensor<2x100x2x128xbf16>, tensor<2x100x2x128xbf16>) {
  %o, %lse = mind.attention %q, %k, %v {scale = 0.125 : f64, causal = false}
      : (tensor<2x100x4x128xbf16>, tensor<2x100x2x128xbf16>, tensor<2x100x2x128xbf16>)
      -> (tensor<2x100x4x128xbf16>, tensor<2x4x100xf32>)
  %dq, %dk, %dv = mind.attention_grad %q, %k, %v, %o, %lse, %do {scale = 0.125 : f64, causal = false}
      : (tensor<2x100x4x128xbf16>, tensor<2x100x2x128xbf16>, tensor<2x100x2x128xbf16>,
         tensor<2x100x4x128xbf16>, tensor<2x4x100xf32>, tensor<2x100x4x128xbf16>)
      -> (tensor<2x100x4x128xbf16>, tensor<2x100x2x128xbf16>, tensor<2x100x2x128xbf16>)
  return %dq, %dk, %dv : tensor<2x100x4x128xbf16>, tensor<2x100x2x128xbf16>, tensor<2x100x2x128xbf16>
}

// -----

// mind.attention_grad_rope (mind-fuse-attention-rope): the launches of
// attention_grad, whose dK/dV and dQ kernels are the _rope_ ones, taking the
// tables after delta.
// CHECK-LABEL: plan.micro_step @train_step
// CHECK: %[[COS:.*]] = plan.buffer input "cos" : memref<100x64xf32>
// CHECK-NEXT: %[[SIN:.*]] = plan.buffer input "sin" : memref<100x64xf32>
// CHECK: plan.kernel "mind::attention_bwd_prep<__nv_bfloat16>"(%[[O:.*]], %[[DO:.*]], %[[DELTA:.*]], 2 : i64, 100 : i64, 4 : i64, 64 : i64) grid [25, 1, 1] block [256, 1, 1] {source = "mind.attention_grad_rope"}
// CHECK-NEXT: plan.kernel "mind::attention_bwd_dkdv_rope_mma<__nv_bfloat16, 64>"(%[[Q:.*]], %[[K:.*]], %[[V:.*]], %[[DO]], %[[LSE:.*]], %[[DELTA]], %[[COS]], %[[SIN]], %[[DK:.*]], %[[DV:.*]], 100 : i64, 4 : i64, 2 : i64, 1.250000e-01 : f32, 1 : i64) grid [2, 2, 2] block [128, 1, 1] smem {{[0-9]+}} {source = "mind.attention_grad_rope"}
// CHECK-NEXT: plan.kernel "mind::attention_bwd_dq_rope_mma<__nv_bfloat16, 64>"(%[[Q]], %[[K]], %[[V]], %[[DO]], %[[LSE]], %[[DELTA]], %[[COS]], %[[SIN]], %[[DQ:.*]], 100 : i64, 4 : i64, 2 : i64, 1.250000e-01 : f32, 1 : i64) grid [2, 4, 2] block [128, 1, 1] smem {{[0-9]+}} {source = "mind.attention_grad_rope"}
// CHECK-NEXT: {{^ *}$}}
func.func @train_step(%q: tensor<2x100x4x64xbf16> {mind.input = "q"}, %k: tensor<2x100x2x64xbf16> {mind.input = "k"},
                      %v: tensor<2x100x2x64xbf16> {mind.input = "v"}, %do: tensor<2x100x4x64xbf16> {mind.input = "do"},
                      %cos: tensor<100x64xf32> {mind.input = "cos"}, %sin: tensor<100x64xf32> {mind.input = "sin"})
    -> (tensor<2x100x4x64xbf16>, tensor<2x100x2x64xbf16>, tensor<2x100x2x64xbf16>) {
  %o, %lse = mind.attention %q, %k, %v {scale = 0.125 : f64}
      : (tensor<2x100x4x64xbf16>, tensor<2x100x2x64xbf16>, tensor<2x100x2x64xbf16>)
      -> (tensor<2x100x4x64xbf16>, tensor<2x4x100xf32>)
  %dq, %dk, %dv = mind.attention_grad_rope %q, %k, %v, %o, %lse, %do, %cos, %sin {scale = 0.125 : f64}
      : (tensor<2x100x4x64xbf16>, tensor<2x100x2x64xbf16>, tensor<2x100x2x64xbf16>,
         tensor<2x100x4x64xbf16>, tensor<2x4x100xf32>, tensor<2x100x4x64xbf16>,
         tensor<100x64xf32>, tensor<100x64xf32>)
      -> (tensor<2x100x4x64xbf16>, tensor<2x100x2x64xbf16>, tensor<2x100x2x64xbf16>)
  return %dq, %dk, %dv : tensor<2x100x4x64xbf16>, tensor<2x100x2x64xbf16>, tensor<2x100x2x64xbf16>
}
