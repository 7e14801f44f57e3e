// RUN: mind-opt %s -split-input-file -mind-lower-to-plan | FileCheck %s

// The norm family (LowerNorm.cpp): mind.rmsnorm is one launch of
// mind::rmsnorm_fwd<T, W>(x, w, y, rows, hidden, eps) (rmsnorm_fwd_cast<T,
// W, Y> for a narrower result); mind.rmsnorm_grad is
// mind::rmsnorm_grad<T, W> (dx, and per-block partial sums of dw in an f32
// workspace [partials, hidden]) then mind::rmsnorm_grad_dw (dw from the
// partials; accumulate = 1 when it writes a gradient accumulator).

// Forward with a bf16 input and an f32 weight: rows = 2 * 3, one warp per
// row (block 32 x 8, ceil(rows / 8) blocks); eps is passed as f32.
// CHECK-LABEL: plan.micro_step @train_step
// CHECK-NEXT: %[[X:.*]] = plan.buffer input "x" : memref<2x3x64xbf16>
// CHECK-NEXT: %[[W:.*]] = plan.buffer input "w" : memref<64xf32>
// CHECK-NEXT: %[[Z:.*]] = plan.buffer output "loss" : memref<2x3x64xbf16>
// CHECK-NEXT: %[[Y:.*]] = plan.buffer activation "%0" : memref<2x3x64xbf16>
// CHECK-NEXT: plan.kernel "mind::rmsnorm_fwd<__nv_bfloat16, float>"(%[[X]], %[[W]], %[[Y]], 6 : i64, 64 : i64, 9.99999974E-6 : f32) grid [1, 1, 1] block [32, 8, 1] {source = "mind.rmsnorm"} : memref<2x3x64xbf16>, memref<64xf32>, memref<2x3x64xbf16>{{$}}
// CHECK-NEXT: plan.kernel "mind::rmsnorm_fwd<__nv_bfloat16, float>"(%[[Y]], %[[W]], %[[Z]], 6 : i64, 64 : i64, 9.99999997E-7 : f32) grid [1, 1, 1] block [32, 8, 1] {source = "mind.rmsnorm"} : memref<2x3x64xbf16>, memref<64xf32>, memref<2x3x64xbf16>{{$}}
// CHECK-NEXT: {{^ *}$}}
func.func @train_step(%x: tensor<2x3x64xbf16> {mind.input = "x"}, %w: tensor<64xf32> {mind.input = "w"})
    -> tensor<2x3x64xbf16> {
  %y = mind.rmsnorm %x, %w {epsilon = 1.0e-05 : f64} : (tensor<2x3x64xbf16>, tensor<64xf32>) -> tensor<2x3x64xbf16>
  %z = mind.rmsnorm %y, %w {epsilon = 1.0e-06 : f64} : (tensor<2x3x64xbf16>, tensor<64xf32>) -> tensor<2x3x64xbf16>
  return %z : tensor<2x3x64xbf16>
}

// -----

// A narrower result (mind-fuse-rmsnorm-cast) is stored by the same kernel
// rounding at the store: mind::rmsnorm_fwd_cast<T, W, Y>, same launch shape.
// CHECK-LABEL: plan.micro_step @train_step
// CHECK: plan.kernel "mind::rmsnorm_fwd_cast<float, float, __nv_bfloat16>"(%{{.*}}, %{{.*}}, %{{.*}}, 6 : i64, 64 : i64, 9.99999974E-6 : f32) grid [1, 1, 1] block [32, 8, 1] {source = "mind.rmsnorm"} : memref<2x3x64xf32>, memref<64xf32>, memref<2x3x64xbf16>{{$}}
func.func @train_step(%x: tensor<2x3x64xf32> {mind.input = "x"}, %w: tensor<64xf32> {mind.input = "w"})
    -> tensor<2x3x64xbf16> {
  %y = mind.rmsnorm %x, %w {epsilon = 1.0e-05 : f64} : (tensor<2x3x64xf32>, tensor<64xf32>) -> tensor<2x3x64xbf16>
  return %y : tensor<2x3x64xbf16>
}

// -----

// A narrower dy (mind-fuse-rmsnorm-cast) is read by rmsnorm_grad_dy<T, W, D>,
// same launch shape as rmsnorm_grad.
// CHECK-LABEL: plan.micro_step @train_step
// CHECK: plan.kernel "mind::rmsnorm_grad_dy<float, float, __nv_bfloat16>"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, 6 : i64, 64 : i64, 9.99999974E-6 : f32) grid [1, 1, 1] block [32, 8, 1] smem 2048 {source = "mind.rmsnorm_grad"} : memref<2x3x64xf32>, memref<64xf32>, memref<2x3x64xbf16>, memref<2x3x64xf32>, memref<1x64xf32>{{$}}
func.func @train_step(%x: tensor<2x3x64xf32> {mind.input = "x"}, %w: tensor<64xf32> {mind.input = "w"},
                      %dy: tensor<2x3x64xbf16> {mind.input = "dy"})
    -> (tensor<2x3x64xf32>, tensor<64xf32>) {
  %dx, %dw = mind.rmsnorm_grad %x, %w, %dy {epsilon = 1.0e-05 : f64} : (tensor<2x3x64xf32>, tensor<64xf32>, tensor<2x3x64xbf16>) -> (tensor<2x3x64xf32>, tensor<64xf32>)
  return %dx, %dw : tensor<2x3x64xf32>, tensor<64xf32>
}

// -----

// Forward and backward on 100 rows of 2048: 13 forward blocks; the backward
// fits 6 warps of fp32 dw rows in 48 KiB of shared memory (block 32 x 6,
// smem 6 * 2048 * 4), ceil(100 / 6) = 17 blocks, so 17 partial rows; dw
// takes ceil(2048 / 8) blocks of 8 x 8 and is not accumulated.
// CHECK-LABEL: plan.micro_step @train_step
// CHECK-NEXT: %[[X:.*]] = plan.buffer input "x" : memref<100x2048xbf16>
// CHECK-NEXT: %[[W:.*]] = plan.buffer input "w" : memref<2048xf32>
// CHECK-NEXT: %[[DY:.*]] = plan.buffer input "dy" : memref<100x2048xbf16>
// CHECK-NEXT: %[[DX:.*]] = plan.buffer output "loss" : memref<100x2048xbf16>
// CHECK-NEXT: %[[DW:.*]] = plan.buffer output "aux_loss" : memref<2048xf32>
// CHECK-NEXT: %[[Y:.*]] = plan.buffer output "loss2" : memref<100x2048xbf16>
// CHECK-NEXT: %[[PART:.*]] = plan.buffer activation "rmsnorm_partial.0" : memref<17x2048xf32>
// CHECK-NEXT: plan.kernel "mind::rmsnorm_fwd<__nv_bfloat16, float>"(%[[X]], %[[W]], %[[Y]], 100 : i64, 2048 : i64, 9.99999974E-6 : f32) grid [13, 1, 1] block [32, 8, 1] {source = "mind.rmsnorm"}
// CHECK-NEXT: plan.kernel "mind::rmsnorm_grad<__nv_bfloat16, float>"(%[[X]], %[[W]], %[[DY]], %[[DX]], %[[PART]], 100 : i64, 2048 : i64, 9.99999974E-6 : f32) grid [17, 1, 1] block [32, 6, 1] smem 49152 {source = "mind.rmsnorm_grad"} : memref<100x2048xbf16>, memref<2048xf32>, memref<100x2048xbf16>, memref<100x2048xbf16>, memref<17x2048xf32>{{$}}
// CHECK-NEXT: plan.kernel "mind::rmsnorm_grad_dw"(%[[PART]], %[[DW]], 17 : i64, 2048 : i64, 0 : i64) grid [256, 1, 1] block [8, 8, 1] {source = "mind.rmsnorm_grad"} : memref<17x2048xf32>, memref<2048xf32>{{$}}
// CHECK-NEXT: {{^ *}$}}
func.func @train_step(%x: tensor<100x2048xbf16> {mind.input = "x"}, %w: tensor<2048xf32> {mind.input = "w"},
                      %dy: tensor<100x2048xbf16> {mind.input = "dy"})
    -> (tensor<100x2048xbf16>, tensor<2048xf32>, tensor<100x2048xbf16>) {
  %y = mind.rmsnorm %x, %w {epsilon = 1.0e-05 : f64} : (tensor<100x2048xbf16>, tensor<2048xf32>) -> tensor<100x2048xbf16>
  %dx, %dw = mind.rmsnorm_grad %x, %w, %dy {epsilon = 1.0e-05 : f64}
      : (tensor<100x2048xbf16>, tensor<2048xf32>, tensor<100x2048xbf16>) -> (tensor<100x2048xbf16>, tensor<2048xf32>)
  return %dx, %dw, %y : tensor<100x2048xbf16>, tensor<2048xf32>, tensor<100x2048xbf16>
}

// -----

// Many short rows: 8 warps per block (smem 8 * 64 * 4), and at most 512
// blocks, so 512 partial rows for 8192 rows.
// CHECK-LABEL: plan.micro_step @train_step
// CHECK: %[[PART:.*]] = plan.buffer activation "rmsnorm_partial.0" : memref<512x64xf32>
// CHECK-NEXT: plan.kernel "mind::rmsnorm_grad<float, float>"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[PART]], 8192 : i64, 64 : i64, 9.99999974E-6 : f32) grid [512, 1, 1] block [32, 8, 1] smem 2048 {source = "mind.rmsnorm_grad"}
// CHECK-NEXT: plan.kernel "mind::rmsnorm_grad_dw"(%[[PART]], %{{.*}}, 512 : i64, 64 : i64, 0 : i64) grid [8, 1, 1] block [8, 8, 1]
func.func @train_step(%x: tensor<8192x64xf32> {mind.input = "x"}, %w: tensor<64xf32> {mind.input = "w"},
                      %dy: tensor<8192x64xf32> {mind.input = "dy"}) -> (tensor<8192x64xf32>, tensor<64xf32>) {
  %dx, %dw = mind.rmsnorm_grad %x, %w, %dy {epsilon = 1.0e-05 : f64}
      : (tensor<8192x64xf32>, tensor<64xf32>, tensor<8192x64xf32>) -> (tensor<8192x64xf32>, tensor<64xf32>)
  return %dx, %dw : tensor<8192x64xf32>, tensor<64xf32>
}

// -----

// The weight gradient of a parameter, unmarked: dw goes to an activation and
// is added to the accumulator after the backward.
// CHECK-LABEL: plan.micro_step @train_step
// CHECK-NEXT: %[[W:.*]] = plan.buffer param "norm.weight" : memref<64xf32>
// CHECK-NEXT: %[[G:.*]] = plan.buffer grad "norm.weight.grad" : memref<64xf32>
// CHECK-NEXT: %[[X:.*]] = plan.buffer input "x" : memref<2x3x64xf32>
// CHECK-NEXT: %[[DY:.*]] = plan.buffer input "dy" : memref<2x3x64xf32>
// CHECK-NEXT: %[[DX:.*]] = plan.buffer output "loss" : memref<2x3x64xf32>
// CHECK-NEXT: %[[PART:.*]] = plan.buffer activation "rmsnorm_partial.0" : memref<1x64xf32>
// CHECK-NEXT: %[[DW:.*]] = plan.buffer activation "%1" : memref<64xf32>
// CHECK-NEXT: plan.kernel "mind::rmsnorm_grad<float, float>"(%[[X]], %[[W]], %[[DY]], %[[DX]], %[[PART]], 6 : i64, 64 : i64, 9.99999974E-6 : f32) grid [1, 1, 1] block [32, 8, 1] smem 2048 {source = "mind.rmsnorm_grad"}
// CHECK-NEXT: plan.kernel "mind::rmsnorm_grad_dw"(%[[PART]], %[[DW]], 1 : i64, 64 : i64, 0 : i64) grid [8, 1, 1] block [8, 8, 1] {source = "mind.rmsnorm_grad"}
// CHECK-NEXT: plan.kernel "mind::accumulate_f32<float>"(%[[G]], %[[DW]], 64 : i64) grid [1, 1, 1] block [256, 1, 1] {source = "mind.rmsnorm_grad"} : memref<64xf32>, memref<64xf32>{{$}}
// CHECK-NEXT: {{^ *}$}}
func.func @train_step(%w: tensor<64xf32> {mind.param = "norm.weight"}, %x: tensor<2x3x64xf32> {mind.input = "x"},
                      %dy: tensor<2x3x64xf32> {mind.input = "dy"})
    -> (tensor<2x3x64xf32>, tensor<64xf32> {mind.grad = "norm.weight"}) {
  %dx, %dw = mind.rmsnorm_grad %x, %w, %dy {epsilon = 1.0e-05 : f64}
      : (tensor<2x3x64xf32>, tensor<64xf32>, tensor<2x3x64xf32>) -> (tensor<2x3x64xf32>, tensor<64xf32>)
  return %dx, %dw : tensor<2x3x64xf32>, tensor<64xf32>
}

// -----

// Marked (mind.accumulate_into on the dw result): rmsnorm_grad_dw adds into
// the accumulator itself (accumulate = 1); nothing else follows.
// CHECK-LABEL: plan.micro_step @train_step
// CHECK-NEXT: %[[W:.*]] = plan.buffer param "norm.weight" : memref<64xf32>
// CHECK-NEXT: %[[G:.*]] = plan.buffer grad "norm.weight.grad" : memref<64xf32>
// CHECK-NEXT: %[[X:.*]] = plan.buffer input "x" : memref<2x3x64xf32>
// CHECK-NEXT: %[[DY:.*]] = plan.buffer input "dy" : memref<2x3x64xf32>
// CHECK-NEXT: %[[DX:.*]] = plan.buffer output "loss" : memref<2x3x64xf32>
// CHECK-NEXT: %[[PART:.*]] = plan.buffer activation "rmsnorm_partial.0" : memref<1x64xf32>
// CHECK-NEXT: plan.kernel "mind::rmsnorm_grad<float, float>"(%[[X]], %[[W]], %[[DY]], %[[DX]], %[[PART]], 6 : i64, 64 : i64, 9.99999974E-6 : f32)
// CHECK-NEXT: plan.kernel "mind::rmsnorm_grad_dw"(%[[PART]], %[[G]], 1 : i64, 64 : i64, 1 : i64) grid [8, 1, 1] block [8, 8, 1] {source = "mind.rmsnorm_grad"} : memref<1x64xf32>, memref<64xf32>{{$}}
// CHECK-NEXT: {{^ *}$}}
func.func @train_step(%w: tensor<64xf32> {mind.param = "norm.weight"}, %x: tensor<2x3x64xf32> {mind.input = "x"},
                      %dy: tensor<2x3x64xf32> {mind.input = "dy"})
    -> (tensor<2x3x64xf32>, tensor<64xf32> {mind.grad = "norm.weight"}) {
  %dx, %dw = mind.rmsnorm_grad %x, %w, %dy {epsilon = 1.0e-05 : f64, mind.accumulate_into = ["", "norm.weight"]}
      : (tensor<2x3x64xf32>, tensor<64xf32>, tensor<2x3x64xf32>) -> (tensor<2x3x64xf32>, tensor<64xf32>)
  return %dx, %dw : tensor<2x3x64xf32>, tensor<64xf32>
}

// -----

// mind.add_rmsnorm (mind-fuse-add-rmsnorm): one launch of
// mind::add_rmsnorm_fwd<T, D, W, Y>(residual, delta, w, sum, y, rows,
// hidden, eps), launched as rmsnorm_fwd.
// CHECK-LABEL: plan.micro_step @train_step
// CHECK: plan.kernel "mind::add_rmsnorm_fwd<float, __nv_bfloat16, float, __nv_bfloat16>"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, 6 : i64, 64 : i64, 9.99999974E-6 : f32) grid [1, 1, 1] block [32, 8, 1] {source = "mind.add_rmsnorm"} : memref<2x3x64xf32>, memref<2x3x64xbf16>, memref<64xf32>, memref<2x3x64xf32>, memref<2x3x64xbf16>{{$}}
func.func @train_step(%r: tensor<2x3x64xf32> {mind.input = "r"}, %d: tensor<2x3x64xbf16> {mind.input = "d"},
                      %w: tensor<64xf32> {mind.input = "w"})
    -> (tensor<2x3x64xf32>, tensor<2x3x64xbf16>) {
  %s, %y = mind.add_rmsnorm %r, %d, %w {epsilon = 1.0e-05 : f64} : (tensor<2x3x64xf32>, tensor<2x3x64xbf16>, tensor<64xf32>) -> (tensor<2x3x64xf32>, tensor<2x3x64xbf16>)
  return %s, %y : tensor<2x3x64xf32>, tensor<2x3x64xbf16>
}

// -----

// mind.rmsnorm_grad_residual: rmsnorm_grad_residual_cast<T, W, D, N> with a
// narrow result (x, w, dy, residual gradient, sum, narrow sum, partials),
// rmsnorm_grad_residual<T, W, D> without; then rmsnorm_grad_dw, as for
// rmsnorm_grad.
// CHECK-LABEL: plan.micro_step @train_step
// CHECK: plan.kernel "mind::rmsnorm_grad_residual_cast<float, float, __nv_bfloat16, __nv_bfloat16>"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, 6 : i64, 64 : i64, 9.99999974E-6 : f32) grid [1, 1, 1] block [32, 8, 1] smem 2048 {source = "mind.rmsnorm_grad_residual"} : memref<2x3x64xf32>, memref<64xf32>, memref<2x3x64xbf16>, memref<2x3x64xf32>, memref<2x3x64xf32>, memref<2x3x64xbf16>, memref<1x64xf32>{{$}}
// CHECK-NEXT: plan.kernel "mind::rmsnorm_grad_dw"
// CHECK-NEXT: plan.kernel "mind::rmsnorm_grad_residual<float, float, __nv_bfloat16>"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, 6 : i64, 64 : i64, 9.99999974E-6 : f32) grid [1, 1, 1] block [32, 8, 1] smem 2048 {source = "mind.rmsnorm_grad_residual"} : memref<2x3x64xf32>, memref<64xf32>, memref<2x3x64xbf16>, memref<2x3x64xf32>, memref<2x3x64xf32>, memref<1x64xf32>{{$}}
// CHECK-NEXT: plan.kernel "mind::rmsnorm_grad_dw"
func.func @train_step(%x: tensor<2x3x64xf32> {mind.input = "x"}, %w: tensor<64xf32> {mind.input = "w"},
                      %dy: tensor<2x3x64xbf16> {mind.input = "dy"}, %dr: tensor<2x3x64xf32> {mind.input = "dr"})
    -> (tensor<2x3x64xf32>, tensor<64xf32>, tensor<2x3x64xbf16>, tensor<2x3x64xf32>, tensor<64xf32>) {
  %s, %dw, %n = mind.rmsnorm_grad_residual %x, %w, %dy, %dr {epsilon = 1.0e-05 : f64} : (tensor<2x3x64xf32>, tensor<64xf32>, tensor<2x3x64xbf16>, tensor<2x3x64xf32>) -> (tensor<2x3x64xf32>, tensor<64xf32>, tensor<2x3x64xbf16>)
  %s2, %dw2 = mind.rmsnorm_grad_residual %x, %w, %dy, %dr {epsilon = 1.0e-05 : f64} : (tensor<2x3x64xf32>, tensor<64xf32>, tensor<2x3x64xbf16>, tensor<2x3x64xf32>) -> (tensor<2x3x64xf32>, tensor<64xf32>)
  return %s, %dw, %n, %s2, %dw2 : tensor<2x3x64xf32>, tensor<64xf32>, tensor<2x3x64xbf16>, tensor<2x3x64xf32>, tensor<64xf32>
}
