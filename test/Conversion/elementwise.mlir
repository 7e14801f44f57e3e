// RUN: mind-opt %s -split-input-file -mind-lower-to-plan | FileCheck %s

// The elementwise family (LowerElementwise.cpp): add, mul, silu, silu_grad,
// swiglu, swiglu_grad, cast and fused_elementwise run kernels the emitter
// writes (a plan.emitted_kernel per distinct kernel, launched with the
// operands' buffers, then the results', then the element count; block 256,
// one thread per 8 elements); fill and transpose instantiate library
// templates; a reshape is its operand's buffer.

// Every emitted op. The second add and the second mul reuse the first one's
// kernel definition.
// CHECK-LABEL: plan.micro_step @train_step
// CHECK-NEXT: %[[A:.*]] = plan.buffer input "a" : memref<2x8xf32>
// CHECK-NEXT: %[[B:.*]] = plan.buffer input "b" : memref<2x8xf32>
// CHECK-NEXT: %[[OUT:.*]] = plan.buffer output "loss" : memref<2x8xbf16>
// CHECK-NEXT: %[[S:.*]] = plan.buffer activation "%0" : memref<2x8xf32>
// CHECK-NEXT: %[[M:.*]] = plan.buffer activation "%1" : memref<2x8xf32>
// CHECK-NEXT: %[[T:.*]] = plan.buffer activation "%2" : memref<2x8xf32>
// CHECK-NEXT: %[[U:.*]] = plan.buffer activation "%3" : memref<2x8xf32>
// CHECK-NEXT: %[[V:.*]] = plan.buffer activation "%4" : memref<2x8xf32>
// CHECK-NEXT: %[[W:.*]] = plan.buffer activation "%5" : memref<2x8xf32>
// CHECK-NEXT: %[[DG:.*]] = plan.buffer activation "%6" : memref<2x8xf32>
// CHECK-NEXT: %[[DU:.*]] = plan.buffer activation "%7" : memref<2x8xf32>
// CHECK-NEXT: %[[P:.*]] = plan.buffer activation "%8" : memref<2x8xf32>
// CHECK-NEXT: plan.emitted_kernel @[[ADD:mind_ew_add_[0-9a-f]+]](2 in, 1 out) "// Emitted from 'mind.add'.\0Aextern \22C\22 __global__ void [[ADD]](const float *__restrict__ in0, const float *__restrict__ in1, float *__restrict__ out0, long long n) {
// CHECK-NEXT: plan.kernel "[[ADD]]"(%[[A]], %[[B]], %[[S]], 16 : i64) grid [1, 1, 1] block [256, 1, 1] {source = "mind.add"} : memref<2x8xf32>, memref<2x8xf32>, memref<2x8xf32>{{$}}
// CHECK-NEXT: plan.emitted_kernel @[[MUL:mind_ew_mul_[0-9a-f]+]](2 in, 1 out) "// Emitted from 'mind.mul'.
// CHECK-NEXT: plan.kernel "[[MUL]]"(%[[S]], %[[A]], %[[M]], 16 : i64) grid [1, 1, 1] block [256, 1, 1] {source = "mind.mul"}
// CHECK-NEXT: plan.kernel "[[ADD]]"(%[[M]], %[[B]], %[[T]], 16 : i64) grid [1, 1, 1] block [256, 1, 1] {source = "mind.add"}
// CHECK-NEXT: plan.emitted_kernel @[[SILU:mind_ew_silu_[0-9a-f]+]](1 in, 1 out) "// Emitted from 'mind.silu'.\0Aextern \22C\22 __global__ void [[SILU]](const float *__restrict__ in0, float *__restrict__ out0, long long n) {
// CHECK-NEXT: plan.kernel "[[SILU]]"(%[[T]], %[[U]], 16 : i64) grid [1, 1, 1] block [256, 1, 1] {source = "mind.silu"}
// CHECK-NEXT: plan.emitted_kernel @[[SG:mind_ew_silu_grad_[0-9a-f]+]](2 in, 1 out) "// Emitted from 'mind.silu_grad'.
// CHECK-NEXT: plan.kernel "[[SG]]"(%[[T]], %[[U]], %[[V]], 16 : i64) grid [1, 1, 1] block [256, 1, 1] {source = "mind.silu_grad"}
// CHECK-NEXT: plan.emitted_kernel @[[SW:mind_ew_swiglu_[0-9a-f]+]](2 in, 1 out) "// Emitted from 'mind.swiglu'.
// CHECK-NEXT: plan.kernel "[[SW]]"(%[[V]], %[[U]], %[[W]], 16 : i64) grid [1, 1, 1] block [256, 1, 1] {source = "mind.swiglu"}
// CHECK-NEXT: plan.emitted_kernel @[[SWG:mind_ew_swiglu_grad_[0-9a-f]+]](3 in, 2 out) "// Emitted from 'mind.swiglu_grad'.\0Aextern \22C\22 __global__ void [[SWG]](const float *__restrict__ in0, const float *__restrict__ in1, const float *__restrict__ in2, float *__restrict__ out0, float *__restrict__ out1, long long n) {
// CHECK-NEXT: plan.kernel "[[SWG]]"(%[[V]], %[[U]], %[[W]], %[[DG]], %[[DU]], 16 : i64) grid [1, 1, 1] block [256, 1, 1] {source = "mind.swiglu_grad"}
// CHECK-NEXT: plan.kernel "[[MUL]]"(%[[DG]], %[[DU]], %[[P]], 16 : i64) grid [1, 1, 1] block [256, 1, 1] {source = "mind.mul"}
// A cast's kernel stores the result type.
// CHECK-NEXT: plan.emitted_kernel @[[CAST:mind_ew_cast_[0-9a-f]+]](1 in, 1 out) "// Emitted from 'mind.cast'.\0Aextern \22C\22 __global__ void [[CAST]](const float *__restrict__ in0, __nv_bfloat16 *__restrict__ out0, long long n) {
// CHECK-NEXT: plan.kernel "[[CAST]]"(%[[P]], %[[OUT]], 16 : i64) grid [1, 1, 1] block [256, 1, 1] {source = "mind.cast"} : memref<2x8xf32>, memref<2x8xbf16>{{$}}
// CHECK-NEXT: {{^ *}$}}
func.func @train_step(%a: tensor<2x8xf32> {mind.input = "a"}, %b: tensor<2x8xf32> {mind.input = "b"})
    -> tensor<2x8xbf16> {
  %s = mind.add %a, %b : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %m = mind.mul %s, %a : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %t = mind.add %m, %b : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %u = mind.silu %t : (tensor<2x8xf32>) -> tensor<2x8xf32>
  %v = mind.silu_grad %t, %u : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %w = mind.swiglu %v, %u : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %dg, %du = mind.swiglu_grad %v, %u, %w
      : (tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>)
  %p = mind.mul %dg, %du : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %c = mind.cast %p : (tensor<2x8xf32>) -> tensor<2x8xbf16>
  return %c : tensor<2x8xbf16>
}

// -----

// The grid of an emitted kernel: ceil(n / 8 / 256) blocks (2^20 elements:
// 512), at most 2^16. Kernels differ per element type.
// CHECK-LABEL: plan.micro_step @train_step
// CHECK-NEXT: %[[A:.*]] = plan.buffer input "a" : memref<1024x1024xbf16>
// CHECK-NEXT: %[[B:.*]] = plan.buffer input "b" : memref<16384x16384xf16>
// CHECK-NEXT: %[[C:.*]] = plan.buffer input "c" : memref<5xf32>
// CHECK-NEXT: %[[X:.*]] = plan.buffer output "loss" : memref<1024x1024xbf16>
// CHECK-NEXT: %[[Y:.*]] = plan.buffer output "aux_loss" : memref<16384x16384xf16>
// CHECK-NEXT: %[[Z:.*]] = plan.buffer output "loss2" : memref<5xf32>
// CHECK-NEXT: plan.emitted_kernel @[[K0:mind_ew_silu_[0-9a-f]+]](1 in, 1 out) "{{.*}}(const __nv_bfloat16 *__restrict__ in0, __nv_bfloat16 *__restrict__ out0, long long n)
// CHECK-NEXT: plan.kernel "[[K0]]"(%[[A]], %[[X]], 1048576 : i64) grid [512, 1, 1] block [256, 1, 1]
// CHECK-NEXT: plan.emitted_kernel @[[K1:mind_ew_silu_[0-9a-f]+]](1 in, 1 out) "{{.*}}(const __half *__restrict__ in0, __half *__restrict__ out0, long long n)
// CHECK-NEXT: plan.kernel "[[K1]]"(%[[B]], %[[Y]], 268435456 : i64) grid [65536, 1, 1] block [256, 1, 1]
// CHECK-NEXT: plan.emitted_kernel @[[K2:mind_ew_silu_[0-9a-f]+]](1 in, 1 out) "{{.*}}(const float *__restrict__ in0, float *__restrict__ out0, long long n)
// CHECK-NEXT: plan.kernel "[[K2]]"(%[[C]], %[[Z]], 5 : i64) grid [1, 1, 1] block [256, 1, 1]
// CHECK-NEXT: {{^ *}$}}
func.func @train_step(%a: tensor<1024x1024xbf16> {mind.input = "a"}, %b: tensor<16384x16384xf16> {mind.input = "b"},
                      %c: tensor<5xf32> {mind.input = "c"})
    -> (tensor<1024x1024xbf16>, tensor<16384x16384xf16>, tensor<5xf32>) {
  %x = mind.silu %a : (tensor<1024x1024xbf16>) -> tensor<1024x1024xbf16>
  %y = mind.silu %b : (tensor<16384x16384xf16>) -> tensor<16384x16384xf16>
  %z = mind.silu %c : (tensor<5xf32>) -> tensor<5xf32>
  return %x, %y, %z : tensor<1024x1024xbf16>, tensor<16384x16384xf16>, tensor<5xf32>
}

// -----

// A fused region is one kernel over the region's operands and results (here
// three inputs of mixed types, two outputs).
// CHECK-LABEL: plan.micro_step @train_step
// CHECK-NEXT: %[[G:.*]] = plan.buffer input "g" : memref<2x8xbf16>
// CHECK-NEXT: %[[U:.*]] = plan.buffer input "u" : memref<2x8xbf16>
// CHECK-NEXT: %[[H:.*]] = plan.buffer input "h" : memref<2x8xf32>
// CHECK-NEXT: %[[R0:.*]] = plan.buffer output "loss" : memref<2x8xf32>
// CHECK-NEXT: %[[R1:.*]] = plan.buffer output "aux_loss" : memref<2x8xbf16>
// CHECK-NEXT: plan.emitted_kernel @[[F:mind_ew_fused_swiglu_cast_add_[0-9a-f]+]](3 in, 2 out) "// Emitted from 'mind.fused_elementwise'.\0Aextern \22C\22 __global__ void [[F]](const __nv_bfloat16 *__restrict__ in0, const __nv_bfloat16 *__restrict__ in1, const float *__restrict__ in2, float *__restrict__ out0, __nv_bfloat16 *__restrict__ out1, long long n) {
// CHECK-NEXT: plan.kernel "[[F]]"(%[[G]], %[[U]], %[[H]], %[[R0]], %[[R1]], 16 : i64) grid [1, 1, 1] block [256, 1, 1] {source = "mind.fused_elementwise"} : memref<2x8xbf16>, memref<2x8xbf16>, memref<2x8xf32>, memref<2x8xf32>, memref<2x8xbf16>{{$}}
// CHECK-NEXT: {{^ *}$}}
func.func @train_step(%g: tensor<2x8xbf16> {mind.input = "g"}, %u: tensor<2x8xbf16> {mind.input = "u"},
                      %h: tensor<2x8xf32> {mind.input = "h"}) -> (tensor<2x8xf32>, tensor<2x8xbf16>) {
  %r:2 = mind.fused_elementwise %g, %u, %h
      : (tensor<2x8xbf16>, tensor<2x8xbf16>, tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<2x8xbf16>) {
  ^bb0(%x: tensor<2x8xbf16>, %y: tensor<2x8xbf16>, %z: tensor<2x8xf32>):
    %s = mind.swiglu %x, %y : (tensor<2x8xbf16>, tensor<2x8xbf16>) -> tensor<2x8xbf16>
    %c = mind.cast %s : (tensor<2x8xbf16>) -> tensor<2x8xf32>
    %a = mind.add %c, %z : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
    mind.yield %a, %s : tensor<2x8xf32>, tensor<2x8xbf16>
  }
  return %r#0, %r#1 : tensor<2x8xf32>, tensor<2x8xbf16>
}

// -----

// fill: mind::fill_fwd<T>(y, n, value as f32), ceil(n / 4 / 256) blocks, at
// most 8192. transpose: mind::transpose_fwd<T>(in, out, n, the output dims
// padded to rank 4, the input stride each output dim walks); integer
// tensors instantiate "int" / "long long".
// CHECK-LABEL: plan.micro_step @train_step
// CHECK-NEXT: %[[X:.*]] = plan.buffer input "x" : memref<2x3x4xbf16>
// CHECK-NEXT: %[[I:.*]] = plan.buffer input "i" : memref<3x5xi32>
// CHECK-NEXT: %[[J:.*]] = plan.buffer input "j" : memref<6xi64>
// CHECK-NEXT: %[[T:.*]] = plan.buffer output "loss" : memref<4x3x2xbf16>
// CHECK-NEXT: %[[TI:.*]] = plan.buffer output "aux_loss" : memref<5x3xi32>
// CHECK-NEXT: %[[TJ:.*]] = plan.buffer output "loss2" : memref<6xi64>
// CHECK-NEXT: %[[F:.*]] = plan.buffer activation "%0" : memref<2x3x4xbf16>
// CHECK-NEXT: %[[BIG:.*]] = plan.buffer activation "%1" : memref<16384x16384xf16>
// CHECK-NEXT: %[[S:.*]] = plan.buffer activation "%2" : memref<2x3x4xbf16>
// CHECK-NEXT: plan.kernel "mind::fill_fwd<__nv_bfloat16>"(%[[F]], 24 : i64, -1.500000e+00 : f32) grid [1, 1, 1] block [256, 1, 1] {source = "mind.fill"} : memref<2x3x4xbf16>{{$}}
// CHECK-NEXT: plan.kernel "mind::fill_fwd<__half>"(%[[BIG]], 268435456 : i64, 0.000000e+00 : f32) grid [8192, 1, 1] block [256, 1, 1] {source = "mind.fill"} : memref<16384x16384xf16>{{$}}
// CHECK-NEXT: plan.emitted_kernel @[[ADD:mind_ew_add_[0-9a-f]+]]
// CHECK-NEXT: plan.kernel "[[ADD]]"(%[[X]], %[[F]], %[[S]], 24 : i64)
// [2, 3, 4] -> [4, 3, 2]: strides 1, 4, 12 of the input.
// CHECK-NEXT: plan.kernel "mind::transpose_fwd<__nv_bfloat16>"(%[[S]], %[[T]], 24 : i64, 1 : i64, 4 : i64, 3 : i64, 2 : i64, 0 : i64, 1 : i64, 4 : i64, 12 : i64) grid [1, 1, 1] block [256, 1, 1] {source = "mind.transpose"} : memref<2x3x4xbf16>, memref<4x3x2xbf16>{{$}}
// [3, 5] -> [5, 3]: strides 1, 5.
// CHECK-NEXT: plan.kernel "mind::transpose_fwd<int>"(%[[I]], %[[TI]], 15 : i64, 1 : i64, 1 : i64, 5 : i64, 3 : i64, 0 : i64, 0 : i64, 1 : i64, 5 : i64) grid [1, 1, 1] block [256, 1, 1] {source = "mind.transpose"} : memref<3x5xi32>, memref<5x3xi32>{{$}}
// CHECK-NEXT: plan.kernel "mind::transpose_fwd<long long>"(%[[J]], %[[TJ]], 6 : i64, 1 : i64, 1 : i64, 1 : i64, 6 : i64, 0 : i64, 0 : i64, 0 : i64, 1 : i64) grid [1, 1, 1] block [256, 1, 1] {source = "mind.transpose"} : memref<6xi64>, memref<6xi64>{{$}}
// CHECK-NEXT: {{^ *}$}}
func.func @train_step(%x: tensor<2x3x4xbf16> {mind.input = "x"}, %i: tensor<3x5xi32> {mind.input = "i"},
                      %j: tensor<6xi64> {mind.input = "j"})
    -> (tensor<4x3x2xbf16>, tensor<5x3xi32>, tensor<6xi64>) {
  %f = mind.fill {value = -1.5 : f64} : () -> tensor<2x3x4xbf16>
  %big = mind.fill {value = 0.0 : f64} : () -> tensor<16384x16384xf16>
  %s = mind.add %x, %f : (tensor<2x3x4xbf16>, tensor<2x3x4xbf16>) -> tensor<2x3x4xbf16>
  %t = mind.transpose %s {permutation = array<i64: 2, 1, 0>} : (tensor<2x3x4xbf16>) -> tensor<4x3x2xbf16>
  %ti = mind.transpose %i {permutation = array<i64: 1, 0>} : (tensor<3x5xi32>) -> tensor<5x3xi32>
  %tj = mind.transpose %j {permutation = array<i64: 0>} : (tensor<6xi64>) -> tensor<6xi64>
  return %t, %ti, %tj : tensor<4x3x2xbf16>, tensor<5x3xi32>, tensor<6xi64>
}

// -----

// A reshape that is not returned launches nothing: its result is its
// operand's buffer, whatever the chain of reshapes (a returned one is copied,
// lower-to-plan.mlir).
// CHECK-LABEL: plan.micro_step @train_step
// CHECK-NEXT: %[[X:.*]] = plan.buffer input "x" : memref<2x3x4xf32>
// CHECK-NEXT: %[[OUT:.*]] = plan.buffer output "loss" : memref<6x4xf32>
// CHECK-NEXT: %[[S:.*]] = plan.buffer activation "%0" : memref<6x4xf32>
// CHECK-NEXT: plan.emitted_kernel @[[SILU:mind_ew_silu_[0-9a-f]+]]
// CHECK-NEXT: plan.kernel "[[SILU]]"(%[[X]], %[[S]], 24 : i64) {{.*}} : memref<2x3x4xf32>, memref<6x4xf32>{{$}}
// CHECK-NEXT: plan.emitted_kernel @[[MUL:mind_ew_mul_[0-9a-f]+]]
// CHECK-NEXT: plan.kernel "[[MUL]]"(%[[S]], %[[X]], %[[OUT]], 24 : i64) {{.*}} : memref<6x4xf32>, memref<2x3x4xf32>, memref<6x4xf32>{{$}}
// CHECK-NEXT: {{^ *}$}}
func.func @train_step(%x: tensor<2x3x4xf32> {mind.input = "x"}) -> tensor<6x4xf32> {
  %r = mind.reshape %x : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
  %s = mind.silu %r : (tensor<6x4xf32>) -> tensor<6x4xf32>
  %r2 = mind.reshape %s : (tensor<6x4xf32>) -> tensor<24xf32>
  %r3 = mind.reshape %r2 : (tensor<24xf32>) -> tensor<6x4xf32>
  %m = mind.mul %r3, %r : (tensor<6x4xf32>, tensor<6x4xf32>) -> tensor<6x4xf32>
  return %m : tensor<6x4xf32>
}
