// RUN: mind-opt %s -split-input-file -mind-chunk-lm-head=chunk-rows=16 | FileCheck %s

// The end of a training step: logits, loss, the loss gradient and the two
// GEMMs of the LM head's gradient, the weight's one added into the
// embedding's accumulator: one lm_head_loss, placed at the linear.
// CHECK-LABEL: func.func @train_step(
// CHECK-NEXT: %[[L:.*]], %[[DX:.*]], %[[DW:.*]] = mind.lm_head_loss %arg0, %arg1, %arg2, %arg3, %arg4 {chunk_rows = 16 : i64, mind.accumulate_into = ["", "", "emb"]} : (tensor<2x24x8xbf16>, tensor<32x8xbf16>, tensor<2x24xi64>, tensor<2x24xi64>, tensor<f32>) -> (tensor<f32>, tensor<2x24x8xbf16>, tensor<32x8xbf16>)
// CHECK-NEXT: %[[R:.*]] = mind.reshape %[[DX]] : (tensor<2x24x8xbf16>) -> tensor<48x8xbf16>
// CHECK-NEXT: return %[[L]], %[[R]], %[[DW]]
func.func @train_step(%x: tensor<2x24x8xbf16>, %w: tensor<32x8xbf16>, %t: tensor<2x24xi64>,
                      %m: tensor<2x24xi64>, %s: tensor<f32>)
    -> (tensor<f32>, tensor<48x8xbf16>, tensor<32x8xbf16>) {
  %logits = mind.linear %x, %w : (tensor<2x24x8xbf16>, tensor<32x8xbf16>) -> tensor<2x24x32xbf16>
  %loss = mind.cross_entropy %logits, %t, %m : (tensor<2x24x32xbf16>, tensor<2x24xi64>, tensor<2x24xi64>) -> tensor<f32>
  %g = mind.cross_entropy_grad %logits, %t, %m, %s : (tensor<2x24x32xbf16>, tensor<2x24xi64>, tensor<2x24xi64>, tensor<f32>) -> tensor<2x24x32xbf16>
  %x2 = mind.reshape %x : (tensor<2x24x8xbf16>) -> tensor<48x8xbf16>
  %g2 = mind.reshape %g : (tensor<2x24x32xbf16>) -> tensor<48x32xbf16>
  %dx = mind.matmul %g2, %w : (tensor<48x32xbf16>, tensor<32x8xbf16>) -> tensor<48x8xbf16>
  %dw = mind.matmul %g2, %x2 {mind.accumulate_into = ["emb"], transpose_lhs = true} : (tensor<48x32xbf16>, tensor<48x8xbf16>) -> tensor<32x8xbf16>
  return %loss, %dx, %dw : tensor<f32>, tensor<48x8xbf16>, tensor<32x8xbf16>
}

// -----

// Left alone: the weight gradient not added into an accumulator (it would
// have to be summed over chunks in bf16), and logits read by another op.
// CHECK-LABEL: func.func @kept(
// CHECK-NOT: lm_head_loss
// CHECK: return
func.func @kept(%x: tensor<2x24x8xbf16>, %w: tensor<32x8xbf16>, %t: tensor<2x24xi64>,
                %m: tensor<2x24xi64>, %s: tensor<f32>)
    -> (tensor<f32>, tensor<48x8xbf16>, tensor<32x8xbf16>, tensor<f32>, tensor<2x24x32xbf16>) {
  %logits = mind.linear %x, %w : (tensor<2x24x8xbf16>, tensor<32x8xbf16>) -> tensor<2x24x32xbf16>
  %loss = mind.cross_entropy %logits, %t, %m : (tensor<2x24x32xbf16>, tensor<2x24xi64>, tensor<2x24xi64>) -> tensor<f32>
  %g = mind.cross_entropy_grad %logits, %t, %m, %s : (tensor<2x24x32xbf16>, tensor<2x24xi64>, tensor<2x24xi64>, tensor<f32>) -> tensor<2x24x32xbf16>
  %x2 = mind.reshape %x : (tensor<2x24x8xbf16>) -> tensor<48x8xbf16>
  %g2 = mind.reshape %g : (tensor<2x24x32xbf16>) -> tensor<48x32xbf16>
  %dx = mind.matmul %g2, %w : (tensor<48x32xbf16>, tensor<32x8xbf16>) -> tensor<48x8xbf16>
  %dw = mind.matmul %g2, %x2 {transpose_lhs = true} : (tensor<48x32xbf16>, tensor<48x8xbf16>) -> tensor<32x8xbf16>
  %logits2 = mind.linear %x, %w : (tensor<2x24x8xbf16>, tensor<32x8xbf16>) -> tensor<2x24x32xbf16>
  %loss2 = mind.cross_entropy %logits2, %t, %m : (tensor<2x24x32xbf16>, tensor<2x24xi64>, tensor<2x24xi64>) -> tensor<f32>
  %g3 = mind.cross_entropy_grad %logits2, %t, %m, %s : (tensor<2x24x32xbf16>, tensor<2x24xi64>, tensor<2x24xi64>, tensor<f32>) -> tensor<2x24x32xbf16>
  return %loss, %dx, %dw, %loss2, %logits2 : tensor<f32>, tensor<48x8xbf16>, tensor<32x8xbf16>, tensor<f32>, tensor<2x24x32xbf16>
}

// -----

// A chunk size that is not a multiple of 16 is an error.
// RUN: not mind-opt %s -split-input-file -mind-chunk-lm-head=chunk-rows=24 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: mind-chunk-lm-head: chunk-rows must be a positive multiple of 16, got 24
func.func @nothing() {
  return
}
