// RUN: mind-opt %s -split-input-file -mind-weight-copies | FileCheck %s

// Every bf16 cast of a parameter becomes one appended argument tagged
// mind.param_copy (both casts of %w read it); the parameter stays, for its
// f32 use and its gradient. %n has no narrowing cast and gets no copy.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[W:[a-z0-9]+]]: tensor<4x4xf32> {mind.param = "w"},
// CHECK-SAME: %[[N:[a-z0-9]+]]: tensor<4xf32> {mind.param = "n"},
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<2x4xbf16> {mind.input = "x"},
// CHECK-SAME: %[[WC:[a-z0-9]+]]: tensor<4x4xbf16> {mind.param_copy = "w"})
// CHECK-NOT: mind.cast %[[W]]
// CHECK: mind.linear %[[X]], %[[WC]]
// CHECK: mind.linear %[[X]], %[[WC]]
// CHECK: mind.add %[[W]], %[[W]]
// CHECK: mind.cast %[[N]] : (tensor<4xf32>) -> tensor<4xf64>
func.func @train_step(%w: tensor<4x4xf32> {mind.param = "w"},
                      %n: tensor<4xf32> {mind.param = "n"},
                      %x: tensor<2x4xbf16> {mind.input = "x"})
    -> (tensor<2x4xbf16>, tensor<2x4xbf16>, tensor<4x4xf32>, tensor<4xf64>) {
  %c1 = mind.cast %w : (tensor<4x4xf32>) -> tensor<4x4xbf16>
  %y1 = mind.linear %x, %c1 : (tensor<2x4xbf16>, tensor<4x4xbf16>) -> tensor<2x4xbf16>
  %c2 = mind.cast %w : (tensor<4x4xf32>) -> tensor<4x4xbf16>
  %y2 = mind.linear %x, %c2 : (tensor<2x4xbf16>, tensor<4x4xbf16>) -> tensor<2x4xbf16>
  %dw = mind.add %w, %w : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %n64 = mind.cast %n : (tensor<4xf32>) -> tensor<4xf64>
  return %y1, %y2, %dw, %n64 : tensor<2x4xbf16>, tensor<2x4xbf16>, tensor<4x4xf32>, tensor<4xf64>
}

// -----

// Casts of one parameter to two types (bf16 and f16) have no single copy:
// the casts stay. Copies share one type (the first copied parameter's): %v's
// f16 cast stays. Other functions than the training step are left alone.
// CHECK-LABEL: func.func @forward(
// CHECK: mind.cast
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %{{[a-z0-9]+}}: tensor<4xf32> {mind.param = "w"},
// CHECK-SAME: %[[U:[a-z0-9]+]]: tensor<4xf32> {mind.param = "u"},
// CHECK-SAME: %[[V:[a-z0-9]+]]: tensor<4xf32> {mind.param = "v"},
// CHECK-SAME: %[[UC:[a-z0-9]+]]: tensor<4xbf16> {mind.param_copy = "u"}) ->
// CHECK: mind.cast {{.*}} -> tensor<4xbf16>
// CHECK: mind.cast {{.*}} -> tensor<4xf16>
// CHECK: mind.cast %[[V]] : (tensor<4xf32>) -> tensor<4xf16>
// CHECK: return {{.*}}, %[[UC]],
func.func @forward(%w: tensor<4xf32> {mind.param = "w"}) -> tensor<4xbf16> {
  %c = mind.cast %w : (tensor<4xf32>) -> tensor<4xbf16>
  return %c : tensor<4xbf16>
}
func.func @train_step(%w: tensor<4xf32> {mind.param = "w"}, %u: tensor<4xf32> {mind.param = "u"},
                      %v: tensor<4xf32> {mind.param = "v"})
    -> (tensor<4xbf16>, tensor<4xf16>, tensor<4xbf16>, tensor<4xf16>) {
  %a = mind.cast %w : (tensor<4xf32>) -> tensor<4xbf16>
  %b = mind.cast %w : (tensor<4xf32>) -> tensor<4xf16>
  %c = mind.cast %u : (tensor<4xf32>) -> tensor<4xbf16>
  %d = mind.cast %v : (tensor<4xf32>) -> tensor<4xf16>
  return %a, %b, %c, %d : tensor<4xbf16>, tensor<4xf16>, tensor<4xbf16>, tensor<4xf16>
}
