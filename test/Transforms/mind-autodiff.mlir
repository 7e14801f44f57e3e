// RUN: mind-opt %s -split-input-file -mind-autodiff | FileCheck %s

// A tied weight: the embedding table is also the output projection, so its
// gradient is the sum of the embedding_grad and the linear's weight gradient.

// CHECK-LABEL: func.func @forward
// CHECK-LABEL: func.func @train_step
// CHECK-SAME:    (%[[E:.*]]: tensor<10x4xf32> {mind.param = "embed"}, %[[IDS:.*]]: tensor<3xi64> {mind.input = "ids"}, %[[MASK:.*]]: tensor<3xi64> {mind.input = "mask"}, %[[SCALE:.*]]: tensor<f32> {mind.input = "grad_scale"})
// CHECK-SAME:    -> (tensor<f32>, tensor<10x4xf32> {mind.grad = "embed"})
// CHECK:         %[[H:.*]] = mind.embedding %[[E]], %[[IDS]]
// CHECK:         %[[LOGITS:.*]] = mind.linear %[[H]], %[[E]]
// CHECK:         %[[LOSS:.*]] = mind.cross_entropy %[[LOGITS]], %[[IDS]], %[[MASK]]
// The reverse sweep starts from grad_scale.
// CHECK:         %[[DL:.*]] = mind.cross_entropy_grad %[[LOGITS]], %[[IDS]], %[[MASK]], %[[SCALE]]
// CHECK:         %[[DH:.*]] = mind.matmul %[[DL]], %[[E]] :
// CHECK:         %[[DW:.*]] = mind.matmul %[[DL]], %[[H]] {transpose_lhs = true}
// CHECK:         %[[DE:.*]] = mind.embedding_grad %[[DH]], %[[IDS]] {vocab_size = 10 : i64}
// CHECK:         %[[SUM:.*]] = mind.add %[[DW]], %[[DE]]
// CHECK:         return %[[LOSS]], %[[SUM]]
func.func @forward(%e: tensor<10x4xf32> {mind.param = "embed"},
                   %ids: tensor<3xi64> {mind.input = "ids"},
                   %mask: tensor<3xi64> {mind.input = "mask"}) -> tensor<f32> {
  %h = mind.embedding %e, %ids : (tensor<10x4xf32>, tensor<3xi64>) -> tensor<3x4xf32>
  %logits = mind.linear %h, %e : (tensor<3x4xf32>, tensor<10x4xf32>) -> tensor<3x10xf32>
  %loss = mind.cross_entropy %logits, %ids, %mask : (tensor<3x10xf32>, tensor<3xi64>, tensor<3xi64>) -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// Linear layers on [B, S, K] inputs are differentiated on [B*S, K] views, and
// both losses are seeded with the same grad_scale. An unused parameter gets a
// zero gradient.

// CHECK-LABEL: func.func @train_step
// CHECK-SAME:    %[[X:[a-z0-9]+]]: tensor<2x3x4xf32> {mind.param = "x"}
// CHECK-SAME:    %[[W:[a-z0-9]+]]: tensor<5x4xf32> {mind.param = "w"}
// CHECK-SAME:    %[[U:[a-z0-9]+]]: tensor<7xf32> {mind.param = "unused"}
// CHECK-SAME:    %[[SCALE:[a-z0-9]+]]: tensor<f32> {mind.input = "grad_scale"}
// CHECK-SAME:    -> (tensor<f32>, tensor<f32>, tensor<2x3x4xf32> {mind.grad = "x"}, tensor<5x4xf32> {mind.grad = "w"}, tensor<7xf32> {mind.grad = "unused"})
// CHECK-DAG:     mind.cross_entropy_grad {{.*}}, %[[SCALE]]
// CHECK-DAG:     mind.cross_entropy_grad {{.*}}, %[[SCALE]]
// CHECK:         %[[X2:.*]] = mind.reshape %[[X]] : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
// CHECK:         %[[DY2:.*]] = mind.reshape %{{.*}} : (tensor<2x3x5xf32>) -> tensor<6x5xf32>
// CHECK:         %[[DX2:.*]] = mind.matmul %[[DY2]], %[[W]] : (tensor<6x5xf32>, tensor<5x4xf32>) -> tensor<6x4xf32>
// CHECK:         mind.matmul %[[DY2]], %[[X2]] {transpose_lhs = true} : (tensor<6x5xf32>, tensor<6x4xf32>) -> tensor<5x4xf32>
// CHECK:         mind.reshape %[[DX2]] : (tensor<6x4xf32>) -> tensor<2x3x4xf32>
// CHECK:         %[[ZERO:.*]] = mind.fill {value = 0.000000e+00 : f64} : () -> tensor<7xf32>
// CHECK:         return {{.*}}, %[[ZERO]]
func.func @forward(%x: tensor<2x3x4xf32> {mind.param = "x"},
                   %w: tensor<5x4xf32> {mind.param = "w"},
                   %unused: tensor<7xf32> {mind.param = "unused"},
                   %t: tensor<2x3xi64>, %m: tensor<2x3xi64>) -> (tensor<f32>, tensor<f32>) {
  %y = mind.linear %x, %w : (tensor<2x3x4xf32>, tensor<5x4xf32>) -> tensor<2x3x5xf32>
  %a = mind.cross_entropy %y, %t, %m : (tensor<2x3x5xf32>, tensor<2x3xi64>, tensor<2x3xi64>) -> tensor<f32>
  %b = mind.cross_entropy %x, %t, %m : (tensor<2x3x4xf32>, tensor<2x3xi64>, tensor<2x3xi64>) -> tensor<f32>
  return %a, %b : tensor<f32>, tensor<f32>
}

// -----

// A linear layer over an empty contracted dimension (K = 0) differentiates
// like any other: its inputs flatten to [rows, 0] (no division by K).
// CHECK-LABEL: func.func @train_step
// CHECK:         mind.reshape %{{.*}} : (tensor<2x3x0xf32>) -> tensor<6x0xf32>
// CHECK:         mind.matmul %{{.*}}, %{{.*}} : (tensor<6x5xf32>, tensor<5x0xf32>) -> tensor<6x0xf32>
// CHECK:         mind.matmul %{{.*}}, %{{.*}} {transpose_lhs = true} : (tensor<6x5xf32>, tensor<6x0xf32>) -> tensor<5x0xf32>
func.func @forward(%x: tensor<2x3x0xf32> {mind.param = "x"}, %w: tensor<5x0xf32> {mind.param = "w"},
                   %t: tensor<2x3xi64>, %m: tensor<2x3xi64>) -> tensor<f32> {
  %y = mind.linear %x, %w : (tensor<2x3x0xf32>, tensor<5x0xf32>) -> tensor<2x3x5xf32>
  %a = mind.cross_entropy %y, %t, %m : (tensor<2x3x5xf32>, tensor<2x3xi64>, tensor<2x3xi64>) -> tensor<f32>
  return %a : tensor<f32>
}

// -----

// An embedding table without rows differentiates into an embedding_grad of
// vocab_size 0 (the IR the pass writes verifies).
// CHECK-LABEL: func.func @train_step
// CHECK:         mind.embedding_grad %{{.*}}, %{{.*}} {vocab_size = 0 : i64} : (tensor<0x3x4xf32>, tensor<0x3xi64>) -> tensor<0x4xf32>
func.func @forward(%table: tensor<0x4xf32> {mind.param = "table"}, %ids: tensor<0x3xi64>,
                   %t: tensor<0xi64>, %m: tensor<0xi64>) -> tensor<f32> {
  %h = mind.embedding %table, %ids : (tensor<0x4xf32>, tensor<0x3xi64>) -> tensor<0x3x4xf32>
  %l = mind.reshape %h : (tensor<0x3x4xf32>) -> tensor<0x12xf32>
  %a = mind.cross_entropy %l, %t, %m : (tensor<0x12xf32>, tensor<0xi64>, tensor<0xi64>) -> tensor<f32>
  return %a : tensor<f32>
}
