// RUN: mind-opt %s -split-input-file -mind-lower-to-plan | FileCheck %s

// The loss family (LowerLoss.cpp): softmax and its gradient over the last
// dim (rows x cols), and the masked cross entropy in two launches each way:
// per-row losses into an f32 workspace [rows] then a fixed-order sum; for
// the gradient the mask sum into an f32 workspace [1] then dlogits.

// softmax / softmax_grad on rows of 50 (<= 1024): one warp per row, block
// 32 x 8, ceil(6 / 8) blocks.
// CHECK-LABEL: plan.micro_step @train_step
// CHECK-NEXT: %[[X:.*]] = plan.buffer input "x" : memref<2x3x50xbf16>
// CHECK-NEXT: %[[DY:.*]] = plan.buffer input "dy" : memref<2x3x50xbf16>
// CHECK-NEXT: %[[DX:.*]] = plan.buffer output "loss" : memref<2x3x50xbf16>
// CHECK-NEXT: %[[Y:.*]] = plan.buffer activation "%0" : memref<2x3x50xbf16>
// CHECK-NEXT: plan.kernel "mind::softmax_fwd<__nv_bfloat16>"(%[[X]], %[[Y]], 6 : i64, 50 : i64) grid [1, 1, 1] block [32, 8, 1] {source = "mind.softmax"} : memref<2x3x50xbf16>, memref<2x3x50xbf16>{{$}}
// CHECK-NEXT: plan.kernel "mind::softmax_grad<__nv_bfloat16>"(%[[Y]], %[[DY]], %[[DX]], 6 : i64, 50 : i64) grid [1, 1, 1] block [32, 8, 1] {source = "mind.softmax_grad"} : memref<2x3x50xbf16>, memref<2x3x50xbf16>, memref<2x3x50xbf16>{{$}}
// CHECK-NEXT: {{^ *}$}}
func.func @train_step(%x: tensor<2x3x50xbf16> {mind.input = "x"}, %dy: tensor<2x3x50xbf16> {mind.input = "dy"})
    -> tensor<2x3x50xbf16> {
  %s = mind.softmax %x : (tensor<2x3x50xbf16>) -> tensor<2x3x50xbf16>
  %d = mind.softmax_grad %s, %dy : (tensor<2x3x50xbf16>, tensor<2x3x50xbf16>) -> tensor<2x3x50xbf16>
  return %d : tensor<2x3x50xbf16>
}

// -----

// Rows longer than 1024 get a block each: 256 threads up to 8192 columns,
// 512 beyond.
// CHECK-LABEL: plan.micro_step @train_step
// CHECK-NEXT: %[[X:.*]] = plan.buffer input "x" : memref<100x2000xf32>
// CHECK-NEXT: %[[X2:.*]] = plan.buffer input "x2" : memref<7x10000xf32>
// CHECK-NEXT: %[[S:.*]] = plan.buffer output "loss" : memref<100x2000xf32>
// CHECK-NEXT: %[[G:.*]] = plan.buffer output "aux_loss" : memref<7x10000xf32>
// CHECK-NEXT: %[[D:.*]] = plan.buffer activation "%0" : memref<7x10000xf32>
// CHECK-NEXT: plan.kernel "mind::softmax_fwd<float>"(%[[X]], %[[S]], 100 : i64, 2000 : i64) grid [100, 1, 1] block [256, 1, 1] {source = "mind.softmax"}
// CHECK-NEXT: plan.kernel "mind::softmax_fwd<float>"(%[[X2]], %[[D]], 7 : i64, 10000 : i64) grid [7, 1, 1] block [512, 1, 1] {source = "mind.softmax"}
// CHECK-NEXT: plan.kernel "mind::softmax_grad<float>"(%[[D]], %[[X2]], %[[G]], 7 : i64, 10000 : i64) grid [7, 1, 1] block [512, 1, 1] {source = "mind.softmax_grad"}
// CHECK-NEXT: {{^ *}$}}
func.func @train_step(%x: tensor<100x2000xf32> {mind.input = "x"}, %x2: tensor<7x10000xf32> {mind.input = "x2"})
    -> (tensor<100x2000xf32>, tensor<7x10000xf32>) {
  %s = mind.softmax %x : (tensor<100x2000xf32>) -> tensor<100x2000xf32>
  %d = mind.softmax %x2 : (tensor<7x10000xf32>) -> tensor<7x10000xf32>
  %g = mind.softmax_grad %d, %x2 : (tensor<7x10000xf32>, tensor<7x10000xf32>) -> tensor<7x10000xf32>
  return %s, %g : tensor<100x2000xf32>, tensor<7x10000xf32>
}

// -----

// cross_entropy and cross_entropy_grad over [2, 3] rows of a vocabulary of
// 50 (32 threads per row): the loss is finalized from the row losses and the
// mask; the gradient reads dloss (grad_scale) and the mask sum.
// CHECK-LABEL: plan.micro_step @train_step
// CHECK-NEXT: %[[LOGITS:.*]] = plan.buffer input "logits" : memref<2x3x50xbf16>
// CHECK-NEXT: %[[T:.*]] = plan.buffer input "targets" : memref<2x3xi64>
// CHECK-NEXT: %[[MASK:.*]] = plan.buffer input "mask" : memref<2x3xi64>
// CHECK-NEXT: %[[GS:.*]] = plan.buffer input "grad_scale" : memref<f32>
// CHECK-NEXT: %[[LOSS:.*]] = plan.buffer output "loss" : memref<f32>
// CHECK-NEXT: %[[DL:.*]] = plan.buffer output "aux_loss" : memref<2x3x50xbf16>
// CHECK-NEXT: %[[ROW:.*]] = plan.buffer activation "ce_row_loss.0" : memref<6xf32>
// CHECK-NEXT: %[[NORM:.*]] = plan.buffer activation "ce_mask_sum.1" : memref<1xf32>
// CHECK-NEXT: plan.kernel "mind::cross_entropy_fwd<__nv_bfloat16>"(%[[LOGITS]], %[[T]], %[[MASK]], %[[ROW]], 6 : i64, 50 : i64) grid [6, 1, 1] block [32, 1, 1] {source = "mind.cross_entropy"} : memref<2x3x50xbf16>, memref<2x3xi64>, memref<2x3xi64>, memref<6xf32>{{$}}
// CHECK-NEXT: plan.kernel "mind::cross_entropy_finalize"(%[[ROW]], %[[MASK]], %[[LOSS]], 6 : i64) grid [1, 1, 1] block [1024, 1, 1] {source = "mind.cross_entropy"} : memref<6xf32>, memref<2x3xi64>, memref<f32>{{$}}
// CHECK-NEXT: plan.kernel "mind::cross_entropy_mask_sum"(%[[MASK]], %[[NORM]], 6 : i64) grid [1, 1, 1] block [1024, 1, 1] {source = "mind.cross_entropy_grad"} : memref<2x3xi64>, memref<1xf32>{{$}}
// CHECK-NEXT: plan.kernel "mind::cross_entropy_grad<__nv_bfloat16>"(%[[LOGITS]], %[[T]], %[[MASK]], %[[GS]], %[[NORM]], %[[DL]], 6 : i64, 50 : i64) grid [6, 1, 1] block [32, 1, 1] {source = "mind.cross_entropy_grad"} : memref<2x3x50xbf16>, memref<2x3xi64>, memref<2x3xi64>, memref<f32>, memref<1xf32>, memref<2x3x50xbf16>{{$}}
// CHECK-NEXT: {{^ *}$}}
func.func @train_step(%logits: tensor<2x3x50xbf16> {mind.input = "logits"}, %t: tensor<2x3xi64> {mind.input = "targets"},
                      %mask: tensor<2x3xi64> {mind.input = "mask"}, %gs: tensor<f32> {mind.input = "grad_scale"})
    -> (tensor<f32>, tensor<2x3x50xbf16>) {
  %l = mind.cross_entropy %logits, %t, %mask : (tensor<2x3x50xbf16>, tensor<2x3xi64>, tensor<2x3xi64>) -> tensor<f32>
  %d = mind.cross_entropy_grad %logits, %t, %mask, %gs
      : (tensor<2x3x50xbf16>, tensor<2x3xi64>, tensor<2x3xi64>, tensor<f32>) -> tensor<2x3x50xbf16>
  return %l, %d : tensor<f32>, tensor<2x3x50xbf16>
}

// -----

// Threads per row grow with the vocabulary (128 up to 2048, then 256); each
// cross entropy gets its own row-loss workspace.
// CHECK-LABEL: plan.micro_step @train_step
// CHECK-NEXT: %[[L1:.*]] = plan.buffer input "l1" : memref<4x1000xf32>
// CHECK-NEXT: %[[L2:.*]] = plan.buffer input "l2" : memref<4x6400xf32>
// CHECK-NEXT: %[[T:.*]] = plan.buffer input "targets" : memref<4xi64>
// CHECK-NEXT: %[[MASK:.*]] = plan.buffer input "mask" : memref<4xi64>
// CHECK-NEXT: %[[A:.*]] = plan.buffer output "loss" : memref<f32>
// CHECK-NEXT: %[[B:.*]] = plan.buffer output "aux_loss" : memref<f32>
// CHECK-NEXT: %[[R1:.*]] = plan.buffer activation "ce_row_loss.0" : memref<4xf32>
// CHECK-NEXT: %[[R2:.*]] = plan.buffer activation "ce_row_loss.1" : memref<4xf32>
// CHECK-NEXT: plan.kernel "mind::cross_entropy_fwd<float>"(%[[L1]], %[[T]], %[[MASK]], %[[R1]], 4 : i64, 1000 : i64) grid [4, 1, 1] block [128, 1, 1]
// CHECK-NEXT: plan.kernel "mind::cross_entropy_finalize"(%[[R1]], %[[MASK]], %[[A]], 4 : i64)
// CHECK-NEXT: plan.kernel "mind::cross_entropy_fwd<float>"(%[[L2]], %[[T]], %[[MASK]], %[[R2]], 4 : i64, 6400 : i64) grid [4, 1, 1] block [256, 1, 1]
// CHECK-NEXT: plan.kernel "mind::cross_entropy_finalize"(%[[R2]], %[[MASK]], %[[B]], 4 : i64)
// CHECK-NEXT: {{^ *}$}}
func.func @train_step(%l1: tensor<4x1000xf32> {mind.input = "l1"}, %l2: tensor<4x6400xf32> {mind.input = "l2"},
                      %t: tensor<4xi64> {mind.input = "targets"}, %mask: tensor<4xi64> {mind.input = "mask"})
    -> (tensor<f32>, tensor<f32>) {
  %a = mind.cross_entropy %l1, %t, %mask : (tensor<4x1000xf32>, tensor<4xi64>, tensor<4xi64>) -> tensor<f32>
  %b = mind.cross_entropy %l2, %t, %mask : (tensor<4x6400xf32>, tensor<4xi64>, tensor<4xi64>) -> tensor<f32>
  return %a, %b : tensor<f32>, tensor<f32>
}

// -----

// mind.lm_head_loss (mind-chunk-lm-head), 48 rows in chunks of 32: per chunk
// plan.views of the rows of x, targets, mask, the row losses and dx (the last
// chunk also of the two chunk buffers), the logits GEMM, the loss and its
// gradient on the chunk, dx = dlogits W, and dlogits^T x added into the
// accumulator; the mask sum first and the loss over all 48 rows last.
// CHECK-LABEL: plan.micro_step @train_step
// CHECK: %[[G:.*]] = plan.buffer grad "w.grad" : memref<32x8xf32>
// CHECK: %[[X:.*]] = plan.buffer input "x" : memref<2x24x8xbf16>
// CHECK: %[[WC:.*]] = plan.buffer input "wc" : memref<32x8xbf16>
// CHECK: %[[NORM:.*]] = plan.buffer activation "ce_mask_sum.0" : memref<1xf32>
// CHECK: %[[ROWS:.*]] = plan.buffer activation "ce_row_loss.1" : memref<48xf32>
// CHECK: %[[LG:.*]] = plan.buffer activation "lm_head_logits.2" : memref<32x32xbf16>
// CHECK: %[[DL:.*]] = plan.buffer activation "lm_head_logits_grad.3" : memref<32x32xbf16>
// CHECK: %[[X0:.*]] = plan.view %[[X]][0] : memref<2x24x8xbf16> to memref<32x8xbf16>
// CHECK: %[[R0:.*]] = plan.view %[[ROWS]][0] : memref<48xf32> to memref<32xf32>
// CHECK: %[[X1:.*]] = plan.view %[[X]][512] : memref<2x24x8xbf16> to memref<16x8xbf16>
// CHECK: %[[R1:.*]] = plan.view %[[ROWS]][128] : memref<48xf32> to memref<16xf32>
// CHECK: %[[LG1:.*]] = plan.view %[[LG]][0] : memref<32x32xbf16> to memref<16x32xbf16>
// CHECK: %[[DL1:.*]] = plan.view %[[DL]][0] : memref<32x32xbf16> to memref<16x32xbf16>
// CHECK: plan.kernel "mind::cross_entropy_mask_sum"
// CHECK-NEXT: plan.gemm %[[X0]], %[[WC]] -> %[[LG]] {k = 8 : i64, m = 32 : i64, n = 32 : i64, source = "mind.lm_head_loss", trans_b}
// CHECK-NEXT: plan.kernel "mind::cross_entropy_fwd<__nv_bfloat16>"(%[[LG]], %{{.*}}, %{{.*}}, %[[R0]], 32 : i64, 32 : i64)
// CHECK-NEXT: plan.kernel "mind::cross_entropy_grad<__nv_bfloat16>"(%[[LG]], %{{.*}}, %{{.*}}, %{{.*}}, %[[NORM]], %[[DL]], 32 : i64, 32 : i64)
// CHECK-NEXT: plan.gemm %[[DL]], %[[WC]] -> %{{.*}} {k = 32 : i64, m = 32 : i64, n = 8 : i64, source = "mind.lm_head_loss"}
// CHECK-NEXT: plan.gemm %[[DL]], %[[X0]] -> %[[G]] {beta = 1.000000e+00 : f32, k = 32 : i64, m = 32 : i64, n = 8 : i64, source = "mind.lm_head_loss", trans_a}
// CHECK-NEXT: plan.gemm %[[X1]], %[[WC]] -> %[[LG1]] {k = 8 : i64, m = 16 : i64, n = 32 : i64, source = "mind.lm_head_loss", trans_b}
// CHECK-NEXT: plan.kernel "mind::cross_entropy_fwd<__nv_bfloat16>"(%[[LG1]], %{{.*}}, %{{.*}}, %[[R1]], 16 : i64, 32 : i64)
// CHECK-NEXT: plan.kernel "mind::cross_entropy_grad<__nv_bfloat16>"(%[[LG1]], %{{.*}}, %{{.*}}, %{{.*}}, %[[NORM]], %[[DL1]], 16 : i64, 32 : i64)
// CHECK-NEXT: plan.gemm %[[DL1]], %[[WC]] -> %{{.*}} {k = 32 : i64, m = 16 : i64, n = 8 : i64, source = "mind.lm_head_loss"}
// CHECK-NEXT: plan.gemm %[[DL1]], %[[X1]] -> %[[G]] {beta = 1.000000e+00 : f32, k = 16 : i64, m = 32 : i64, n = 8 : i64, source = "mind.lm_head_loss", trans_a}
// CHECK-NEXT: plan.kernel "mind::cross_entropy_finalize"(%[[ROWS]], %{{.*}}, %{{.*}}, 48 : i64)
// CHECK-NEXT: {{^ *}$}}
func.func @train_step(%w: tensor<32x8xf32> {mind.param = "w"}, %x: tensor<2x24x8xbf16> {mind.input = "x"},
                      %wc: tensor<32x8xbf16> {mind.input = "wc"}, %t: tensor<2x24xi64> {mind.input = "targets"},
                      %m: tensor<2x24xi64> {mind.input = "mask"}, %s: tensor<f32> {mind.input = "grad_scale"})
    -> (tensor<f32>, tensor<2x24x8xbf16>, tensor<32x8xf32> {mind.grad = "w"}) {
  %l, %dx, %dw = mind.lm_head_loss %x, %wc, %t, %m, %s {chunk_rows = 32 : i64, mind.accumulate_into = ["", "", "w"]}
      : (tensor<2x24x8xbf16>, tensor<32x8xbf16>, tensor<2x24xi64>, tensor<2x24xi64>, tensor<f32>)
      -> (tensor<f32>, tensor<2x24x8xbf16>, tensor<32x8xbf16>)
  %g = mind.cast %dw {mind.gradient_sink = "w"} : (tensor<32x8xbf16>) -> tensor<32x8xf32>
  return %l, %dx, %g : tensor<f32>, tensor<2x24x8xbf16>, tensor<32x8xf32>
}
