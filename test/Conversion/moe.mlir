// RUN: mind-opt %s -split-input-file -mind-lower-to-plan | FileCheck %s

// The mixture-of-experts family (LowerMoe.cpp). Shapes: T tokens, E experts,
// k = top_k, R = T * k routed rows, H hidden. Routing is a counting sort in
// two launches over an i64 workspace of tile counts [ceil(R / 1024) * E];
// dispatch_grad and combine first invert the permutation into an i64
// workspace [R]; the grouped GEMMs take the E expert weights as one array
// argument.

// A forward MoE layer in bf16: T = 48, E = 4, k = 2 (R = 96), H = 64, the
// experts project to 192. Row kernels run a block per row (32 threads for
// rows of 64 or 192 elements); the grouped GEMM tiles rows by 64 (at most
// ceil(R / 64) + E row tiles) and N by 64, 128 threads for bf16.
// CHECK-LABEL: plan.micro_step @train_step
// CHECK-NEXT: %[[X:.*]] = plan.buffer input "x" : memref<48x64xbf16>
// CHECK-NEXT: %[[S:.*]] = plan.buffer input "scores" : memref<48x4xbf16>
// CHECK-NEXT: %[[W0:.*]] = plan.buffer input "w0" : memref<192x64xbf16>
// CHECK-NEXT: %[[W1:.*]] = plan.buffer input "w1" : memref<192x64xbf16>
// CHECK-NEXT: %[[W2:.*]] = plan.buffer input "w2" : memref<192x64xbf16>
// CHECK-NEXT: %[[W3:.*]] = plan.buffer input "w3" : memref<192x64xbf16>
// CHECK-NEXT: %[[Y:.*]] = plan.buffer output "loss" : memref<48x192xbf16>
// CHECK-NEXT: %[[AUX:.*]] = plan.buffer output "aux_loss" : memref<f32>
// CHECK-NEXT: %[[WT:.*]] = plan.buffer activation "%0" : memref<48x2xbf16>
// CHECK-NEXT: %[[IDX:.*]] = plan.buffer activation "%1" : memref<48x2xi64>
// CHECK-NEXT: %[[COUNTS:.*]] = plan.buffer activation "moe_tile_counts.2" : memref<4xi64>
// CHECK-NEXT: %[[PERM:.*]] = plan.buffer activation "%3" : memref<96xi64>
// CHECK-NEXT: %[[OFF:.*]] = plan.buffer activation "%4" : memref<5xi64>
// CHECK-NEXT: %[[XS:.*]] = plan.buffer activation "%5" : memref<96x64xbf16>
// CHECK-NEXT: %[[G:.*]] = plan.buffer activation "%6" : memref<96x192xbf16>
// CHECK-NEXT: %[[INV:.*]] = plan.buffer activation "moe_inverse_perm.7" : memref<96xi64>
// topk: scores -> weights, indices (normalize = 1).
// CHECK-NEXT: plan.kernel "mind::moe_topk_fwd<__nv_bfloat16>"(%[[S]], %[[WT]], %[[IDX]], 48 : i64, 4 : i64, 2 : i64, 1 : i64) grid [1, 1, 1] block [256, 1, 1] {source = "mind.topk"} : memref<48x4xbf16>, memref<48x2xbf16>, memref<48x2xi64>{{$}}
// moe_route: tile counts (smem: E ints), then perm and offsets [E + 1]
// (smem: E * (3 + 32) ints).
// CHECK-NEXT: plan.kernel "mind::moe_route_count"(%[[IDX]], %[[COUNTS]], 96 : i64, 4 : i64) grid [1, 1, 1] block [1024, 1, 1] smem 16 {source = "mind.moe_route"} : memref<48x2xi64>, memref<4xi64>{{$}}
// CHECK-NEXT: plan.kernel "mind::moe_route_scatter"(%[[IDX]], %[[COUNTS]], %[[PERM]], %[[OFF]], 96 : i64, 4 : i64) grid [1, 1, 1] block [1024, 1, 1] smem 560 {source = "mind.moe_route"} : memref<48x2xi64>, memref<4xi64>, memref<96xi64>, memref<5xi64>{{$}}
// moe_dispatch: x [T, H] -> xs [R, H], a block per routed row.
// CHECK-NEXT: plan.kernel "mind::moe_dispatch_fwd<__nv_bfloat16>"(%[[X]], %[[PERM]], %[[XS]], 96 : i64, 64 : i64, 2 : i64) grid [96, 1, 1] block [32, 1, 1] {source = "mind.moe_dispatch"} : memref<48x64xbf16>, memref<96xi64>, memref<96x64xbf16>{{$}}
// grouped_linear: rows, K, N, E, then the expert weights in brackets.
// CHECK-NEXT: plan.kernel "mind::moe_grouped_linear_fwd<__nv_bfloat16>"(%[[XS]], %[[OFF]], %[[G]], 96 : i64, 64 : i64, 192 : i64, 4 : i64, [%[[W0]], %[[W1]], %[[W2]], %[[W3]]]) grid [6, 3, 1] block [128, 1, 1] {source = "mind.grouped_linear"} : memref<96x64xbf16>, memref<5xi64>, memref<96x192xbf16>, memref<192x64xbf16>, memref<192x64xbf16>, memref<192x64xbf16>, memref<192x64xbf16>{{$}}
// moe_combine: the inverse permutation, then y [R, H] -> out [T, H].
// CHECK-NEXT: plan.kernel "mind::moe_invert_perm"(%[[PERM]], %[[INV]], 96 : i64) grid [1, 1, 1] block [256, 1, 1] {source = "mind.moe_combine"} : memref<96xi64>, memref<96xi64>{{$}}
// CHECK-NEXT: plan.kernel "mind::moe_combine_fwd<__nv_bfloat16>"(%[[G]], %[[INV]], %[[WT]], %[[Y]], 48 : i64, 192 : i64, 2 : i64) grid [48, 1, 1] block [32, 1, 1] {source = "mind.moe_combine"} : memref<96x192xbf16>, memref<96xi64>, memref<48x2xbf16>, memref<48x192xbf16>{{$}}
// moe_aux_loss: one block; alpha as f32, seq_aux = 1, batch = 2.
// CHECK-NEXT: plan.kernel "mind::moe_aux_loss_fwd<__nv_bfloat16>"(%[[S]], %[[IDX]], %[[AUX]], 48 : i64, 4 : i64, 2 : i64, 0.00999999977 : f32, 1 : i64, 2 : i64) grid [1, 1, 1] block [1024, 1, 1] smem 16 {source = "mind.moe_aux_loss"} : memref<48x4xbf16>, memref<48x2xi64>, memref<f32>{{$}}
// CHECK-NEXT: {{^ *}$}}
func.func @train_step(%x: tensor<48x64xbf16> {mind.input = "x"}, %scores: tensor<48x4xbf16> {mind.input = "scores"},
                      %w0: tensor<192x64xbf16> {mind.input = "w0"}, %w1: tensor<192x64xbf16> {mind.input = "w1"},
                      %w2: tensor<192x64xbf16> {mind.input = "w2"}, %w3: tensor<192x64xbf16> {mind.input = "w3"})
    -> (tensor<48x192xbf16>, tensor<f32>) {
  %w, %idx = mind.topk %scores {k = 2 : i64, normalize = true}
      : (tensor<48x4xbf16>) -> (tensor<48x2xbf16>, tensor<48x2xi64>)
  %perm, %offsets = mind.moe_route %idx {num_experts = 4 : i64}
      : (tensor<48x2xi64>) -> (tensor<96xi64>, tensor<5xi64>)
  %xs = mind.moe_dispatch %x, %perm {top_k = 2 : i64}
      : (tensor<48x64xbf16>, tensor<96xi64>) -> tensor<96x64xbf16>
  %g = mind.grouped_linear %xs, %offsets, %w0, %w1, %w2, %w3
      : (tensor<96x64xbf16>, tensor<5xi64>, tensor<192x64xbf16>, tensor<192x64xbf16>,
         tensor<192x64xbf16>, tensor<192x64xbf16>) -> tensor<96x192xbf16>
  %y = mind.moe_combine %g, %perm, %w
      : (tensor<96x192xbf16>, tensor<96xi64>, tensor<48x2xbf16>) -> tensor<48x192xbf16>
  %aux = mind.moe_aux_loss %scores, %idx {alpha = 0.01 : f64, seq_aux = true, batch = 2 : i64}
      : (tensor<48x4xbf16>, tensor<48x2xi64>) -> tensor<f32>
  return %y, %aux : tensor<48x192xbf16>, tensor<f32>
}

// -----

// The backward ops in f32 (T = 48, E = 4, k = 2, H = 64): topk_grad writes
// dscores [T, E]; dispatch_grad inverts perm first and sums the k rows of
// each token; combine_grad writes dy [R, H] and dweights [T, k];
// aux_loss_grad reads the indices and dloss only, with its chunk of 16384
// elements per block (seq_aux = 0: one group).
// CHECK-LABEL: plan.micro_step @train_step
// CHECK-NEXT: %[[S:.*]] = plan.buffer input "scores" : memref<48x4xf32>
// CHECK-NEXT: %[[IDX:.*]] = plan.buffer input "idx" : memref<48x2xi64>
// CHECK-NEXT: %[[DW:.*]] = plan.buffer input "dw" : memref<48x2xf32>
// CHECK-NEXT: %[[DXS:.*]] = plan.buffer input "dxs" : memref<96x64xf32>
// CHECK-NEXT: %[[PERM:.*]] = plan.buffer input "perm" : memref<96xi64>
// CHECK-NEXT: %[[YS:.*]] = plan.buffer input "ys" : memref<96x64xf32>
// CHECK-NEXT: %[[W:.*]] = plan.buffer input "w" : memref<48x2xf32>
// CHECK-NEXT: %[[DY:.*]] = plan.buffer input "dy" : memref<48x64xf32>
// CHECK-NEXT: %[[GL:.*]] = plan.buffer input "g" : memref<f32>
// CHECK-NEXT: %[[DS:.*]] = plan.buffer output "loss" : memref<48x4xf32>
// CHECK-NEXT: %[[DX:.*]] = plan.buffer output "aux_loss" : memref<48x64xf32>
// CHECK-NEXT: %[[DYS:.*]] = plan.buffer output "loss2" : memref<96x64xf32>
// CHECK-NEXT: %[[DWS:.*]] = plan.buffer output "loss3" : memref<48x2xf32>
// CHECK-NEXT: %[[DA:.*]] = plan.buffer output "loss4" : memref<48x4xf32>
// CHECK-NEXT: %[[INV:.*]] = plan.buffer activation "moe_inverse_perm.0" : memref<96xi64>
// CHECK-NEXT: plan.kernel "mind::moe_topk_bwd<float>"(%[[S]], %[[IDX]], %[[DW]], %[[DS]], 48 : i64, 4 : i64, 2 : i64, 1 : i64) grid [1, 1, 1] block [256, 1, 1] {source = "mind.topk_grad"} : memref<48x4xf32>, memref<48x2xi64>, memref<48x2xf32>, memref<48x4xf32>{{$}}
// CHECK-NEXT: plan.kernel "mind::moe_invert_perm"(%[[PERM]], %[[INV]], 96 : i64) grid [1, 1, 1] block [256, 1, 1] {source = "mind.moe_dispatch_grad"}
// CHECK-NEXT: plan.kernel "mind::moe_dispatch_bwd<float>"(%[[DXS]], %[[INV]], %[[DX]], 48 : i64, 64 : i64, 2 : i64) grid [48, 1, 1] block [32, 1, 1] {source = "mind.moe_dispatch_grad"} : memref<96x64xf32>, memref<96xi64>, memref<48x64xf32>{{$}}
// CHECK-NEXT: plan.kernel "mind::moe_combine_bwd<float>"(%[[YS]], %[[PERM]], %[[W]], %[[DY]], %[[DYS]], %[[DWS]], 96 : i64, 64 : i64, 2 : i64) grid [96, 1, 1] block [32, 1, 1] {source = "mind.moe_combine_grad"} : memref<96x64xf32>, memref<96xi64>, memref<48x2xf32>, memref<48x64xf32>, memref<96x64xf32>, memref<48x2xf32>{{$}}
// CHECK-NEXT: plan.kernel "mind::moe_aux_loss_bwd<float>"(%[[IDX]], %[[GL]], %[[DA]], 48 : i64, 4 : i64, 2 : i64, 0.00999999977 : f32, 0 : i64, 1 : i64, 16384 : i64) grid [1, 1, 1] block [1024, 1, 1] smem 16 {source = "mind.moe_aux_loss_grad"} : memref<48x2xi64>, memref<f32>, memref<48x4xf32>{{$}}
// CHECK-NEXT: {{^ *}$}}
func.func @train_step(%scores: tensor<48x4xf32> {mind.input = "scores"}, %idx: tensor<48x2xi64> {mind.input = "idx"},
                      %dw: tensor<48x2xf32> {mind.input = "dw"}, %dxs: tensor<96x64xf32> {mind.input = "dxs"},
                      %perm: tensor<96xi64> {mind.input = "perm"}, %ys: tensor<96x64xf32> {mind.input = "ys"},
                      %w: tensor<48x2xf32> {mind.input = "w"}, %dy: tensor<48x64xf32> {mind.input = "dy"},
                      %g: tensor<f32> {mind.input = "g"})
    -> (tensor<48x4xf32>, tensor<48x64xf32>, tensor<96x64xf32>, tensor<48x2xf32>, tensor<48x4xf32>) {
  %ds = mind.topk_grad %scores, %idx, %dw {normalize = true}
      : (tensor<48x4xf32>, tensor<48x2xi64>, tensor<48x2xf32>) -> tensor<48x4xf32>
  %dx = mind.moe_dispatch_grad %dxs, %perm {top_k = 2 : i64}
      : (tensor<96x64xf32>, tensor<96xi64>) -> tensor<48x64xf32>
  %dys, %dws = mind.moe_combine_grad %ys, %perm, %w, %dy
      : (tensor<96x64xf32>, tensor<96xi64>, tensor<48x2xf32>, tensor<48x64xf32>)
      -> (tensor<96x64xf32>, tensor<48x2xf32>)
  %da = mind.moe_aux_loss_grad %scores, %idx, %g {alpha = 0.01 : f64, seq_aux = false, batch = 1 : i64}
      : (tensor<48x4xf32>, tensor<48x2xi64>, tensor<f32>) -> tensor<48x4xf32>
  return %ds, %dx, %dys, %dws, %da
      : tensor<48x4xf32>, tensor<48x64xf32>, tensor<96x64xf32>, tensor<48x2xf32>, tensor<48x4xf32>
}

// -----

// Routing 6000 rows over 8 experts takes 6 tiles (tile counts [6 * 8]); the
// aux-loss gradient with seq_aux runs one grid row per batch group.
// CHECK-LABEL: plan.micro_step @train_step
// CHECK-NEXT: %[[IDX:.*]] = plan.buffer input "idx" : memref<3000x2xi64>
// CHECK-NEXT: %[[S:.*]] = plan.buffer input "s" : memref<48x4xf32>
// CHECK-NEXT: %[[I2:.*]] = plan.buffer input "i2" : memref<48x2xi64>
// CHECK-NEXT: %[[GL:.*]] = plan.buffer input "g" : memref<f32>
// CHECK-NEXT: %[[PERM:.*]] = plan.buffer output "loss" : memref<6000xi64>
// CHECK-NEXT: %[[OFF:.*]] = plan.buffer output "aux_loss" : memref<9xi64>
// CHECK-NEXT: %[[DA:.*]] = plan.buffer output "loss2" : memref<48x4xf32>
// CHECK-NEXT: %[[COUNTS:.*]] = plan.buffer activation "moe_tile_counts.0" : memref<48xi64>
// CHECK-NEXT: plan.kernel "mind::moe_route_count"(%[[IDX]], %[[COUNTS]], 6000 : i64, 8 : i64) grid [6, 1, 1] block [1024, 1, 1] smem 32 {source = "mind.moe_route"}
// CHECK-NEXT: plan.kernel "mind::moe_route_scatter"(%[[IDX]], %[[COUNTS]], %[[PERM]], %[[OFF]], 6000 : i64, 8 : i64) grid [6, 1, 1] block [1024, 1, 1] smem 1120 {source = "mind.moe_route"}
// CHECK-NEXT: plan.kernel "mind::moe_aux_loss_bwd<float>"(%[[I2]], %[[GL]], %[[DA]], 48 : i64, 4 : i64, 2 : i64, 5.000000e-01 : f32, 1 : i64, 2 : i64, 16384 : i64) grid [1, 2, 1] block [1024, 1, 1] smem 16 {source = "mind.moe_aux_loss_grad"}
// CHECK-NEXT: {{^ *}$}}
func.func @train_step(%idx: tensor<3000x2xi64> {mind.input = "idx"}, %s: tensor<48x4xf32> {mind.input = "s"},
                      %i2: tensor<48x2xi64> {mind.input = "i2"}, %g: tensor<f32> {mind.input = "g"})
    -> (tensor<6000xi64>, tensor<9xi64>, tensor<48x4xf32>) {
  %perm, %offsets = mind.moe_route %idx {num_experts = 8 : i64}
      : (tensor<3000x2xi64>) -> (tensor<6000xi64>, tensor<9xi64>)
  %da = mind.moe_aux_loss_grad %s, %i2, %g {alpha = 0.5 : f64, seq_aux = true, batch = 2 : i64}
      : (tensor<48x4xf32>, tensor<48x2xi64>, tensor<f32>) -> tensor<48x4xf32>
  return %perm, %offsets, %da : tensor<6000xi64>, tensor<9xi64>, tensor<48x4xf32>
}

// -----

// grouped_linear_grad in bf16 (R = 8, K = 4, N = 6, E = 2): dx through the
// weights; the weight gradients are computed in f32 workspaces [N, K] (one
// array argument) and cast to bf16 after.
// CHECK-LABEL: plan.micro_step @train_step
// CHECK-NEXT: %[[XS:.*]] = plan.buffer input "xs" : memref<8x4xbf16>
// CHECK-NEXT: %[[OFF:.*]] = plan.buffer input "offsets" : memref<3xi64>
// CHECK-NEXT: %[[DY:.*]] = plan.buffer input "dy" : memref<8x6xbf16>
// CHECK-NEXT: %[[W0:.*]] = plan.buffer input "w0" : memref<6x4xbf16>
// CHECK-NEXT: %[[W1:.*]] = plan.buffer input "w1" : memref<6x4xbf16>
// CHECK-NEXT: %[[DX:.*]] = plan.buffer output "loss" : memref<8x4xbf16>
// CHECK-NEXT: %[[DW0:.*]] = plan.buffer output "aux_loss" : memref<6x4xbf16>
// CHECK-NEXT: %[[DW1:.*]] = plan.buffer output "loss2" : memref<6x4xbf16>
// CHECK-NEXT: %[[T0:.*]] = plan.buffer activation "moe_dw_f32.0" : memref<6x4xf32>
// CHECK-NEXT: %[[T1:.*]] = plan.buffer activation "moe_dw_f32.1" : memref<6x4xf32>
// CHECK-NEXT: plan.kernel "mind::moe_grouped_linear_bwd_x<__nv_bfloat16>"(%[[DY]], %[[OFF]], %[[DX]], 8 : i64, 4 : i64, 6 : i64, 2 : i64, [%[[W0]], %[[W1]]]) grid [3, 1, 1] block [128, 1, 1] {source = "mind.grouped_linear_grad"} : memref<8x6xbf16>, memref<3xi64>, memref<8x4xbf16>, memref<6x4xbf16>, memref<6x4xbf16>{{$}}
// CHECK-NEXT: plan.kernel "mind::moe_grouped_linear_bwd_w<__nv_bfloat16>"(%[[XS]], %[[DY]], %[[OFF]], 8 : i64, 4 : i64, 6 : i64, 2 : i64, [%[[T0]], %[[T1]]]) grid [1, 2, 1] block [128, 1, 1] {source = "mind.grouped_linear_grad"} : memref<8x4xbf16>, memref<8x6xbf16>, memref<3xi64>, memref<6x4xf32>, memref<6x4xf32>{{$}}
// CHECK-NEXT: plan.kernel "mind::cast_fwd<float, __nv_bfloat16>"(%[[T0]], %[[DW0]], 24 : i64) grid [1, 1, 1] block [256, 1, 1] {source = "mind.grouped_linear_grad"} : memref<6x4xf32>, memref<6x4xbf16>{{$}}
// CHECK-NEXT: plan.kernel "mind::cast_fwd<float, __nv_bfloat16>"(%[[T1]], %[[DW1]], 24 : i64) grid [1, 1, 1] block [256, 1, 1] {source = "mind.grouped_linear_grad"} : memref<6x4xf32>, memref<6x4xbf16>{{$}}
// CHECK-NEXT: {{^ *}$}}
func.func @train_step(%xs: tensor<8x4xbf16> {mind.input = "xs"}, %offsets: tensor<3xi64> {mind.input = "offsets"},
                      %dy: tensor<8x6xbf16> {mind.input = "dy"}, %w0: tensor<6x4xbf16> {mind.input = "w0"},
                      %w1: tensor<6x4xbf16> {mind.input = "w1"})
    -> (tensor<8x4xbf16>, tensor<6x4xbf16>, tensor<6x4xbf16>) {
  %dx, %dw0, %dw1 = mind.grouped_linear_grad %xs, %offsets, %dy, %w0, %w1
      : (tensor<8x4xbf16>, tensor<3xi64>, tensor<8x6xbf16>, tensor<6x4xbf16>, tensor<6x4xbf16>)
      -> (tensor<8x4xbf16>, tensor<6x4xbf16>, tensor<6x4xbf16>)
  return %dx, %dw0, %dw1 : tensor<8x4xbf16>, tensor<6x4xbf16>, tensor<6x4xbf16>
}

// -----

// In f32 the weight gradients are written in place (256 threads), no cast.
// CHECK-LABEL: plan.micro_step @train_step
// CHECK-NEXT: %[[XS:.*]] = plan.buffer input "xs" : memref<8x4xf32>
// CHECK-NEXT: %[[OFF:.*]] = plan.buffer input "offsets" : memref<3xi64>
// CHECK-NEXT: %[[DY:.*]] = plan.buffer input "dy" : memref<8x6xf32>
// CHECK-NEXT: %[[W0:.*]] = plan.buffer input "w0" : memref<6x4xf32>
// CHECK-NEXT: %[[W1:.*]] = plan.buffer input "w1" : memref<6x4xf32>
// CHECK-NEXT: %[[DX:.*]] = plan.buffer output "loss" : memref<8x4xf32>
// CHECK-NEXT: %[[DW0:.*]] = plan.buffer output "aux_loss" : memref<6x4xf32>
// CHECK-NEXT: %[[DW1:.*]] = plan.buffer output "loss2" : memref<6x4xf32>
// CHECK-NEXT: plan.kernel "mind::moe_grouped_linear_bwd_x<float>"(%[[DY]], %[[OFF]], %[[DX]], 8 : i64, 4 : i64, 6 : i64, 2 : i64, [%[[W0]], %[[W1]]]) grid [3, 1, 1] block [256, 1, 1] {source = "mind.grouped_linear_grad"}
// CHECK-NEXT: plan.kernel "mind::moe_grouped_linear_bwd_w<float>"(%[[XS]], %[[DY]], %[[OFF]], 8 : i64, 4 : i64, 6 : i64, 2 : i64, [%[[DW0]], %[[DW1]]]) grid [1, 2, 1] block [256, 1, 1] {source = "mind.grouped_linear_grad"}
// CHECK-NEXT: {{^ *}$}}
func.func @train_step(%xs: tensor<8x4xf32> {mind.input = "xs"}, %offsets: tensor<3xi64> {mind.input = "offsets"},
                      %dy: tensor<8x6xf32> {mind.input = "dy"}, %w0: tensor<6x4xf32> {mind.input = "w0"},
                      %w1: tensor<6x4xf32> {mind.input = "w1"})
    -> (tensor<8x4xf32>, tensor<6x4xf32>, tensor<6x4xf32>) {
  %dx, %dw0, %dw1 = mind.grouped_linear_grad %xs, %offsets, %dy, %w0, %w1
      : (tensor<8x4xf32>, tensor<3xi64>, tensor<8x6xf32>, tensor<6x4xf32>, tensor<6x4xf32>)
      -> (tensor<8x4xf32>, tensor<6x4xf32>, tensor<6x4xf32>)
  return %dx, %dw0, %dw1 : tensor<8x4xf32>, tensor<6x4xf32>, tensor<6x4xf32>
}
