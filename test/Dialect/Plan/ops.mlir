// RUN: mind-opt %s | mind-opt | FileCheck %s
// RUN: mind-opt %s --mlir-print-op-generic | mind-opt | FileCheck %s

// Round trip of every `plan` op in the custom form and through the generic
// form. Attributes equal to their default value (plan.kernel's shared_bytes,
// plan.gemm's alpha and beta) are elided by the printer; `{{$}}` pins down
// where nothing may follow.

//===----------------------------------------------------------------------===//
// plan.micro_step, plan.buffer
//===----------------------------------------------------------------------===//

// Every buffer kind, every element type a runtime buffer can have (f32, bf16,
// f16, i64, i32), a rank-0 buffer, and offsets as mind-plan-memory sets them.
// CHECK-LABEL: plan.micro_step @buffers attributes {arena_bytes = 4096 : i64} {
// CHECK-NEXT: plan.buffer param "model.norm.weight" {offset = 0 : i64} : memref<8xf32>{{$}}
// CHECK-NEXT: plan.buffer grad "model.norm.weight.grad" {offset = 256 : i64} : memref<8xf32>{{$}}
// CHECK-NEXT: plan.buffer input "x" : memref<4x8xbf16>{{$}}
// CHECK-NEXT: plan.buffer output "loss" : memref<f32>{{$}}
// CHECK-NEXT: plan.buffer activation "%0" : memref<4x8xf16>{{$}}
// CHECK-NEXT: plan.buffer activation "ids" : memref<4xi64>{{$}}
// CHECK-NEXT: plan.buffer activation "ids32" : memref<2x2xi32>{{$}}
// CHECK-NEXT: }
plan.micro_step @buffers attributes {arena_bytes = 4096 : i64} {
  %p = plan.buffer param "model.norm.weight" {offset = 0 : i64} : memref<8xf32>
  %g = plan.buffer grad "model.norm.weight.grad" {offset = 256 : i64} : memref<8xf32>
  %x = plan.buffer input "x" : memref<4x8xbf16>
  %l = plan.buffer output "loss" : memref<f32>
  %a = plan.buffer activation "%0" : memref<4x8xf16>
  %i = plan.buffer activation "ids" : memref<4xi64>
  %j = plan.buffer activation "ids32" : memref<2x2xi32>
}

// plan.view: rows 2..3 of an input, another element type over the same
// bytes, and the offset mind-plan-memory sets.
// CHECK-LABEL: plan.micro_step @views {
// CHECK-NEXT: %[[X:.*]] = plan.buffer input "x" : memref<4x8xbf16>{{$}}
// CHECK-NEXT: plan.view %[[X]][32] : memref<4x8xbf16> to memref<2x8xbf16>{{$}}
// CHECK-NEXT: plan.view %[[X]][16] {offset = 16 : i64} : memref<4x8xbf16> to memref<4xf32>{{$}}
plan.micro_step @views {
  %x = plan.buffer input "x" : memref<4x8xbf16>
  %rows = plan.view %x [32] : memref<4x8xbf16> to memref<2x8xbf16>
  %f = plan.view %x [16] {offset = 16 : i64} : memref<4x8xbf16> to memref<4xf32>
}

// A micro-step without arena_bytes (before mind-plan-memory) and no ops.
// CHECK-LABEL: plan.micro_step @empty {
// CHECK-NEXT: }
plan.micro_step @empty {
}

//===----------------------------------------------------------------------===//
// plan.kernel (library kernels)
//===----------------------------------------------------------------------===//

// CHECK-LABEL: plan.micro_step @library_kernels {
// CHECK: %[[W:.*]] = plan.buffer param "w" : memref<8xf32>
// CHECK: %[[X:.*]] = plan.buffer input "x" : memref<4x8xbf16>
// CHECK: %[[Y:.*]] = plan.buffer activation "y" : memref<4x8xbf16>
// CHECK: %[[COS:.*]] = plan.buffer activation "cos" : memref<4x8xf32>
// CHECK: %[[SIN:.*]] = plan.buffer activation "sin" : memref<4x8xf32>
// CHECK: %[[OFF:.*]] = plan.buffer activation "offsets" : memref<3xi64>
// CHECK: %[[W0:.*]] = plan.buffer activation "w0" : memref<8x8xbf16>
// CHECK: %[[W1:.*]] = plan.buffer activation "w1" : memref<8x8xbf16>
plan.micro_step @library_kernels {
  %w = plan.buffer param "w" : memref<8xf32>
  %x = plan.buffer input "x" : memref<4x8xbf16>
  %y = plan.buffer activation "y" : memref<4x8xbf16>
  %cos = plan.buffer activation "cos" : memref<4x8xf32>
  %sin = plan.buffer activation "sin" : memref<4x8xf32>
  %off = plan.buffer activation "offsets" : memref<3xi64>
  %w0 = plan.buffer activation "w0" : memref<8x8xbf16>
  %w1 = plan.buffer activation "w1" : memref<8x8xbf16>
  // Buffers, i64 and f32 scalars (an untyped integer is an i64), and a
  // `source` attribute after the launch shape.
  // CHECK: plan.kernel "mind::rmsnorm_fwd<__nv_bfloat16, float>"(%[[X]], %[[W]], %[[Y]], 4 : i64, 8 : i64, 9.99999974E-6 : f32) grid [1, 1, 1] block [32, 8, 1] {source = "mind.rmsnorm"} : memref<4x8xbf16>, memref<8xf32>, memref<4x8xbf16>{{$}}
  plan.kernel "mind::rmsnorm_fwd<__nv_bfloat16, float>"(%x, %w, %y, 4, 8, 1.0e-05 : f32)
      grid [1, 1, 1] block [32, 8, 1] {source = "mind.rmsnorm"}
      : memref<4x8xbf16>, memref<8xf32>, memref<4x8xbf16>
  // f64 scalars (a kernel that is not a template).
  // CHECK: plan.kernel "mind::rope_table"(%[[COS]], %[[SIN]], 4 : i64, 8 : i64, 1.000000e+04 : f64, 2048 : i64, 1.000000e+00 : f64, 2048 : i64, 3.200000e+01 : f64, 1.000000e+00 : f64, 1.000000e+00 : f64) grid [1, 1, 1] block [256, 1, 1] : memref<4x8xf32>, memref<4x8xf32>{{$}}
  plan.kernel "mind::rope_table"(%cos, %sin, 4 : i64, 8 : i64, 1.0e+04 : f64, 2048 : i64,
                                 1.0 : f64, 2048 : i64, 32.0 : f64, 1.0 : f64, 1.0 : f64)
      grid [1, 1, 1] block [256, 1, 1] : memref<4x8xf32>, memref<4x8xf32>
  // An array of buffers in brackets: its buffers follow the others in the
  // operand list and in the type list.
  // CHECK: plan.kernel "mind::moe_grouped_linear_fwd<__nv_bfloat16>"(%[[X]], %[[OFF]], %[[Y]], 4 : i64, 8 : i64, 8 : i64, 2 : i64, [%[[W0]], %[[W1]]]) grid [3, 1, 1] block [128, 1, 1] : memref<4x8xbf16>, memref<3xi64>, memref<4x8xbf16>, memref<8x8xbf16>, memref<8x8xbf16>{{$}}
  plan.kernel "mind::moe_grouped_linear_fwd<__nv_bfloat16>"(%x, %off, %y, 4, 8, 8, 2, [%w0, %w1])
      grid [3, 1, 1] block [128, 1, 1]
      : memref<4x8xbf16>, memref<3xi64>, memref<4x8xbf16>, memref<8x8xbf16>, memref<8x8xbf16>
  // An array of one buffer stays an array.
  // CHECK: plan.kernel "mind::moe_grouped_linear_fwd<__nv_bfloat16>"(%[[X]], %[[OFF]], %[[Y]], 4 : i64, 8 : i64, 8 : i64, 1 : i64, [%[[W0]]]) grid [2, 1, 1] block [128, 1, 1] : memref<4x8xbf16>, memref<3xi64>, memref<4x8xbf16>, memref<8x8xbf16>{{$}}
  plan.kernel "mind::moe_grouped_linear_fwd<__nv_bfloat16>"(%x, %off, %y, 4, 8, 8, 1, [%w0])
      grid [2, 1, 1] block [128, 1, 1]
      : memref<4x8xbf16>, memref<3xi64>, memref<4x8xbf16>, memref<8x8xbf16>
  // Dynamic shared memory (`smem`), a 2-D grid, and one buffer passed twice.
  // CHECK: plan.kernel "mind::attention_fwd_mma<__nv_bfloat16, 16>"(%[[X]], %[[X]], %[[X]], %[[Y]], %[[COS]], 1 : i64, 2 : i64, 2 : i64, 2.500000e-01 : f32, 1 : i64) grid [1, 2, 1] block [128, 1, 1] smem 15360 : memref<4x8xbf16>, memref<4x8xbf16>, memref<4x8xbf16>, memref<4x8xbf16>, memref<4x8xf32>{{$}}
  plan.kernel "mind::attention_fwd_mma<__nv_bfloat16, 16>"(%x, %x, %x, %y, %cos, 1, 2, 2, 0.25 : f32, 1)
      grid [1, 2, 1] block [128, 1, 1] smem 15360
      : memref<4x8xbf16>, memref<4x8xbf16>, memref<4x8xbf16>, memref<4x8xbf16>, memref<4x8xf32>
  // `smem 0` is the default and is elided.
  // CHECK: plan.kernel "mind::silu_fwd<__nv_bfloat16>"(%[[X]], %[[Y]], 32 : i64) grid [1, 1, 1] block [256, 1, 1] : memref<4x8xbf16>, memref<4x8xbf16>{{$}}
  plan.kernel "mind::silu_fwd<__nv_bfloat16>"(%x, %y, 32) grid [1, 1, 1] block [256, 1, 1] smem 0
      : memref<4x8xbf16>, memref<4x8xbf16>
  // A template argument of two words (the CUDA name of i64).
  // CHECK-NEXT: plan.kernel "mind::transpose_fwd<long long>"(%[[OFF]], %[[OFF]], 3 : i64, 1 : i64, 1 : i64, 1 : i64, 3 : i64, 0 : i64, 0 : i64, 0 : i64, 1 : i64) grid [1, 1, 1] block [256, 1, 1] : memref<3xi64>, memref<3xi64>{{$}}
  plan.kernel "mind::transpose_fwd<long long>"(%off, %off, 3, 1, 1, 1, 3, 0, 0, 0, 1) grid [1, 1, 1] block [256, 1, 1]
      : memref<3xi64>, memref<3xi64>
  // CUDA's launch limits are inclusive: 1024 threads per block, grid y and z
  // of 65535 (grid x is any positive i32).
  // CHECK-NEXT: plan.kernel "mind::silu_fwd<__nv_bfloat16>"(%[[X]], %[[Y]], 32 : i64) grid [2147483647, 65535, 65535] block [1024, 1, 1] : memref<4x8xbf16>, memref<4x8xbf16>{{$}}
  plan.kernel "mind::silu_fwd<__nv_bfloat16>"(%x, %y, 32) grid [2147483647, 65535, 65535] block [1024, 1, 1]
      : memref<4x8xbf16>, memref<4x8xbf16>
  // A block z of 64, and 227 KiB of shared memory.
  // CHECK-NEXT: plan.kernel "mind::silu_fwd<__nv_bfloat16>"(%[[X]], %[[Y]], 32 : i64) grid [1, 1, 1] block [4, 4, 64] smem 232448 : memref<4x8xbf16>, memref<4x8xbf16>{{$}}
  plan.kernel "mind::silu_fwd<__nv_bfloat16>"(%x, %y, 32) grid [1, 1, 1] block [4, 4, 64] smem 232448
      : memref<4x8xbf16>, memref<4x8xbf16>
  // CHECK-NEXT: }
}

//===----------------------------------------------------------------------===//
// plan.emitted_kernel and its launches
//===----------------------------------------------------------------------===//

// The source string keeps its escapes; a launch names the kernel by its
// symbol. A kernel without buffers has no type list.
// CHECK-LABEL: plan.micro_step @emitted_kernels {
// CHECK-NEXT: %[[A:.*]] = plan.buffer input "a" : memref<4x8xbf16>
// CHECK-NEXT: %[[B:.*]] = plan.buffer activation "b" : memref<4x8xf32>
// CHECK-NEXT: plan.emitted_kernel @mind_ew_cast_0(1 in, 1 out) "extern \22C\22 __global__ void mind_ew_cast_0() {}"{{$}}
// CHECK-NEXT: plan.emitted_kernel @mind_ew_add_1(2 in, 1 out) ""{{$}}
// CHECK-NEXT: plan.emitted_kernel @mind_ew_none(0 in, 0 out) "" {note = "extra"}{{$}}
// CHECK-NEXT: plan.kernel "mind_ew_cast_0"(%[[A]], %[[B]], 32 : i64) grid [1, 1, 1] block [256, 1, 1] {source = "mind.cast"} : memref<4x8xbf16>, memref<4x8xf32>{{$}}
// CHECK-NEXT: plan.kernel "mind_ew_add_1"(%[[B]], %[[B]], %[[B]], 32 : i64) grid [1, 1, 1] block [256, 1, 1] : memref<4x8xf32>, memref<4x8xf32>, memref<4x8xf32>{{$}}
// CHECK-NEXT: plan.kernel "mind_ew_none"(0 : i64) grid [1, 1, 1] block [1, 1, 1]{{$}}
// CHECK-NEXT: }
plan.micro_step @emitted_kernels {
  %a = plan.buffer input "a" : memref<4x8xbf16>
  %b = plan.buffer activation "b" : memref<4x8xf32>
  plan.emitted_kernel @mind_ew_cast_0(1 in, 1 out) "extern \"C\" __global__ void mind_ew_cast_0() {}"
  plan.emitted_kernel @mind_ew_add_1(2 in, 1 out) ""
  plan.emitted_kernel @mind_ew_none(0 in, 0 out) "" {note = "extra"}
  plan.kernel "mind_ew_cast_0"(%a, %b, 32) grid [1, 1, 1] block [256, 1, 1] {source = "mind.cast"}
      : memref<4x8xbf16>, memref<4x8xf32>
  plan.kernel "mind_ew_add_1"(%b, %b, %b, 32) grid [1, 1, 1] block [256, 1, 1]
      : memref<4x8xf32>, memref<4x8xf32>, memref<4x8xf32>
  plan.kernel "mind_ew_none"(0) grid [1, 1, 1] block [1, 1, 1]
}

// The same kernel name in two micro-steps: each has its own symbol table.
// CHECK-LABEL: plan.micro_step @emitted_kernels_2 {
// CHECK: plan.emitted_kernel @mind_ew_cast_0(1 in, 1 out) "other"
// CHECK: plan.kernel "mind_ew_cast_0"
plan.micro_step @emitted_kernels_2 {
  %a = plan.buffer input "a" : memref<4xf16>
  %b = plan.buffer activation "b" : memref<4xi32>
  plan.emitted_kernel @mind_ew_cast_0(1 in, 1 out) "other"
  plan.kernel "mind_ew_cast_0"(%a, %b, 4) grid [1, 1, 1] block [256, 1, 1] : memref<4xf16>, memref<4xi32>
}

//===----------------------------------------------------------------------===//
// plan.gemm, plan.memset
//===----------------------------------------------------------------------===//

// CHECK-LABEL: plan.micro_step @gemm {
// CHECK-NEXT: %[[A:.*]] = plan.buffer input "a" : memref<4x8xbf16>
// CHECK-NEXT: %[[B:.*]] = plan.buffer input "b" : memref<16x8xbf16>
// CHECK-NEXT: %[[C:.*]] = plan.buffer activation "c" : memref<4x16xbf16>
// CHECK-NEXT: %[[G:.*]] = plan.buffer grad "w.grad" : memref<16x8xf32>
// CHECK-NEXT: %[[AF:.*]] = plan.buffer input "af" : memref<4x8xf32>
// CHECK-NEXT: %[[BF:.*]] = plan.buffer input "bf" : memref<8x16xf32>
// CHECK-NEXT: %[[CF:.*]] = plan.buffer activation "cf" : memref<4x16xf32>
// CHECK-NEXT: %[[AT:.*]] = plan.buffer input "at" : memref<8x4xf32>
// CHECK-NEXT: %[[BT:.*]] = plan.buffer input "bt" : memref<16x8xf32>
plan.micro_step @gemm {
  %a = plan.buffer input "a" : memref<4x8xbf16>
  %b = plan.buffer input "b" : memref<16x8xbf16>
  %c = plan.buffer activation "c" : memref<4x16xbf16>
  %g = plan.buffer grad "w.grad" : memref<16x8xf32>
  %af = plan.buffer input "af" : memref<4x8xf32>
  %bf = plan.buffer input "bf" : memref<8x16xf32>
  %cf = plan.buffer activation "cf" : memref<4x16xf32>
  %at = plan.buffer input "at" : memref<8x4xf32>
  %bt = plan.buffer input "bt" : memref<16x8xf32>
  // A linear layer: alpha = 1 and beta = 0 are the defaults and are elided.
  // CHECK-NEXT: plan.gemm %[[A]], %[[B]] -> %[[C]] {k = 8 : i64, m = 4 : i64, n = 16 : i64, trans_b} : memref<4x8xbf16>, memref<16x8xbf16> -> memref<4x16xbf16>{{$}}
  plan.gemm %a, %b -> %c {m = 4 : i64, n = 16 : i64, k = 8 : i64, trans_b, alpha = 1.0 : f32, beta = 0.0 : f32}
      : memref<4x8xbf16>, memref<16x8xbf16> -> memref<4x16xbf16>
  // A weight gradient accumulated (beta = 1) into an f32 c from bf16 a and b.
  // CHECK-NEXT: plan.gemm %[[C]], %[[A]] -> %[[G]] {beta = 1.000000e+00 : f32, k = 4 : i64, m = 16 : i64, n = 8 : i64, source = "mind.matmul", trans_a} : memref<4x16xbf16>, memref<4x8xbf16> -> memref<16x8xf32>{{$}}
  plan.gemm %c, %a -> %g {m = 16 : i64, n = 8 : i64, k = 4 : i64, trans_a, beta = 1.0 : f32, source = "mind.matmul"}
      : memref<4x16xbf16>, memref<4x8xbf16> -> memref<16x8xf32>
  // f32 throughout, another alpha, no transposes.
  // CHECK-NEXT: plan.gemm %[[AF]], %[[BF]] -> %[[CF]] {alpha = 5.000000e-01 : f32, k = 8 : i64, m = 4 : i64, n = 16 : i64} : memref<4x8xf32>, memref<8x16xf32> -> memref<4x16xf32>{{$}}
  plan.gemm %af, %bf -> %cf {m = 4 : i64, n = 16 : i64, k = 8 : i64, alpha = 0.5 : f32}
      : memref<4x8xf32>, memref<8x16xf32> -> memref<4x16xf32>
  // Both operands transposed.
  // CHECK-NEXT: plan.gemm %[[AT]], %[[BT]] -> %[[CF]] {k = 8 : i64, m = 4 : i64, n = 16 : i64, trans_a, trans_b} : memref<8x4xf32>, memref<16x8xf32> -> memref<4x16xf32>{{$}}
  plan.gemm %at, %bt -> %cf {m = 4 : i64, n = 16 : i64, k = 8 : i64, trans_a, trans_b}
      : memref<8x4xf32>, memref<16x8xf32> -> memref<4x16xf32>
  // CHECK-NEXT: plan.memset %[[G]] : memref<16x8xf32>{{$}}
  plan.memset %g : memref<16x8xf32>
  // CHECK-NEXT: plan.memset %[[C]] {source = "mind.embedding_grad"} : memref<4x16xbf16>{{$}}
  plan.memset %c {source = "mind.embedding_grad"} : memref<4x16xbf16>
  // CHECK-NEXT: }
}
