// RUN: mind-opt %s -mind-lower-to-plan=func=micro | FileCheck %s

// The `func` option names the function to lower (default: train_step); the
// micro-step takes its name, and @train_step, if any, is left alone.

// CHECK-LABEL: func.func @train_step(
// CHECK-NEXT: return
// CHECK-NEXT: }
// CHECK-NEXT: plan.micro_step @micro {
// CHECK-NEXT: %[[X:.*]] = plan.buffer input "x" : memref<4xf32>
// CHECK-NEXT: %[[Y:.*]] = plan.buffer output "loss" : memref<4xf32>
// CHECK: plan.kernel "mind_ew_silu_{{[0-9a-f]+}}"(%[[X]], %[[Y]], 4 : i64)
// CHECK-NOT: func.func @micro
func.func @train_step(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
func.func @micro(%x: tensor<4xf32> {mind.input = "x"}) -> tensor<4xf32> {
  %y = mind.silu %x : (tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}
