// RUN: mind-opt %s -mind-plan-memory | FileCheck %s

// mind-plan-memory: persistent buffers first (params, grads, copies, inputs, outputs;
// each kind in IR order), each 256-byte aligned; then activations, live from
// their first step to their last, placed best fit among the freed intervals;
// arena_bytes is the peak. Sizes below: f32[100] = 400 B -> 512, f32[8] ->
// 256, f32[4x8] = 128 B -> 256, f32[64] = 256 B, f32[300] = 1200 B -> 1280.

// The persistent buffers are declared out of kind order: they are laid out
// params (p0, p1), grads, inputs, outputs, so the activations start at 2048.
// `a` (steps 0-1) and `c` (steps 2-3) share an offset; `b` is written by the
// step that last reads `a` and so gets its own bytes; `d` takes `b`'s freed
// interval, which touches the top of the arena and grows it. An offset set
// before the pass is replaced.
// CHECK-LABEL: plan.micro_step @lifetimes attributes {arena_bytes = 3584 : i64} {
// CHECK-NEXT: plan.buffer output "loss" {offset = 1792 : i64} : memref<f32>
// CHECK-NEXT: plan.buffer param "p0" {offset = 0 : i64} : memref<100xf32>
// CHECK-NEXT: plan.buffer input "x" {offset = 1536 : i64} : memref<4x8xf32>
// CHECK-NEXT: plan.buffer grad "p0.grad" {offset = 768 : i64} : memref<100xf32>
// CHECK-NEXT: plan.buffer param "p1" {offset = 512 : i64} : memref<8xf32>
// CHECK-NEXT: plan.buffer grad "p1.grad" {offset = 1280 : i64} : memref<8xf32>
// CHECK-NEXT: plan.buffer activation "a" {offset = 2048 : i64} : memref<64xf32>
// CHECK-NEXT: plan.buffer activation "b" {offset = 2304 : i64} : memref<100xf32>
// CHECK-NEXT: plan.buffer activation "c" {offset = 2048 : i64} : memref<16xf32>
// CHECK-NEXT: plan.buffer activation "d" {offset = 2304 : i64} : memref<300xf32>
plan.micro_step @lifetimes {
  %l = plan.buffer output "loss" : memref<f32>
  %p0 = plan.buffer param "p0" : memref<100xf32>
  %x = plan.buffer input "x" {offset = 12345 : i64} : memref<4x8xf32>
  %g0 = plan.buffer grad "p0.grad" : memref<100xf32>
  %p1 = plan.buffer param "p1" : memref<8xf32>
  %g1 = plan.buffer grad "p1.grad" : memref<8xf32>
  %a = plan.buffer activation "a" : memref<64xf32>
  %b = plan.buffer activation "b" : memref<100xf32>
  %c = plan.buffer activation "c" : memref<16xf32>
  %d = plan.buffer activation "d" : memref<300xf32>
  plan.kernel "mind::silu_fwd<float>"(%x, %a, 32) grid [1, 1, 1] block [256, 1, 1] : memref<4x8xf32>, memref<64xf32>
  plan.kernel "mind::silu_fwd<float>"(%a, %b, 64) grid [1, 1, 1] block [256, 1, 1] : memref<64xf32>, memref<100xf32>
  plan.kernel "mind::silu_fwd<float>"(%b, %c, 16) grid [1, 1, 1] block [256, 1, 1] : memref<100xf32>, memref<16xf32>
  plan.kernel "mind::silu_fwd<float>"(%c, %d, 16) grid [1, 1, 1] block [256, 1, 1] : memref<16xf32>, memref<300xf32>
  plan.kernel "mind::silu_fwd<float>"(%d, %l, 1) grid [1, 1, 1] block [256, 1, 1] : memref<300xf32>, memref<f32>
}

// plan.memset and plan.gemm are steps too: `e` lives from the memset to the
// GEMM, so the kernel's output `g` reuses its bytes, not those of `f`, which
// the kernel reads. Without persistent buffers the activations start at 0.
// CHECK-LABEL: plan.micro_step @gemm_and_memset attributes {arena_bytes = 512 : i64} {
// CHECK-NEXT: plan.buffer activation "e" {offset = 0 : i64} : memref<4x8xf32>
// CHECK-NEXT: plan.buffer activation "f" {offset = 256 : i64} : memref<4x4xf32>
// CHECK-NEXT: plan.buffer activation "g" {offset = 0 : i64} : memref<4x4xf32>
plan.micro_step @gemm_and_memset {
  %e = plan.buffer activation "e" : memref<4x8xf32>
  %f = plan.buffer activation "f" : memref<4x4xf32>
  %g = plan.buffer activation "g" : memref<4x4xf32>
  plan.memset %e : memref<4x8xf32>
  plan.gemm %e, %e -> %f {m = 4 : i64, n = 4 : i64, k = 8 : i64, trans_b} : memref<4x8xf32>, memref<4x8xf32> -> memref<4x4xf32>
  plan.kernel "mind::silu_fwd<float>"(%f, %g, 16) grid [1, 1, 1] block [256, 1, 1] : memref<4x4xf32>, memref<4x4xf32>
}

// Best fit: after step 0, `big` (bytes 0-4096) and `small` (4352-4608) are
// free, separated by `sep`, which is still live; `late` takes the smaller
// interval.
// CHECK-LABEL: plan.micro_step @best_fit attributes {arena_bytes = 4864 : i64} {
// CHECK-NEXT: plan.buffer activation "big" {offset = 0 : i64} : memref<1024xf32>
// CHECK-NEXT: plan.buffer activation "sep" {offset = 4096 : i64} : memref<64xf32>
// CHECK-NEXT: plan.buffer activation "small" {offset = 4352 : i64} : memref<64xf32>
// CHECK-NEXT: plan.buffer activation "keep" {offset = 4608 : i64} : memref<64xf32>
// CHECK-NEXT: plan.buffer activation "late" {offset = 4352 : i64} : memref<60xf32>
plan.micro_step @best_fit {
  %big = plan.buffer activation "big" : memref<1024xf32>
  %sep = plan.buffer activation "sep" : memref<64xf32>
  %small = plan.buffer activation "small" : memref<64xf32>
  %keep = plan.buffer activation "keep" : memref<64xf32>
  %late = plan.buffer activation "late" : memref<60xf32>
  plan.kernel "mind::swiglu_grad<float>"(%big, %sep, %small, %keep, %keep, 64) grid [1, 1, 1] block [256, 1, 1]
      : memref<1024xf32>, memref<64xf32>, memref<64xf32>, memref<64xf32>, memref<64xf32>
  plan.kernel "mind::silu_grad<float>"(%sep, %keep, %late, 60) grid [1, 1, 1] block [256, 1, 1]
      : memref<64xf32>, memref<64xf32>, memref<60xf32>
}

// Persistent buffers of other element types (i64[5] = 40 B, bf16[3] = 6 B)
// still take 256 bytes each; an arena_bytes set before the pass is replaced.
// CHECK-LABEL: plan.micro_step @persistent_only attributes {arena_bytes = 1792 : i64} {
// CHECK-NEXT: plan.buffer input "ids" {offset = 0 : i64} : memref<5xi64>
// CHECK-NEXT: plan.buffer input "h" {offset = 256 : i64} : memref<3xbf16>
// CHECK-NEXT: plan.buffer output "loss" {offset = 512 : i64} : memref<300xf32>
plan.micro_step @persistent_only attributes {arena_bytes = 1 : i64} {
  %i = plan.buffer input "ids" : memref<5xi64>
  %h = plan.buffer input "h" : memref<3xbf16>
  %o = plan.buffer output "loss" : memref<300xf32>
}

// An empty micro-step needs no arena.
// CHECK-LABEL: plan.micro_step @empty attributes {arena_bytes = 0 : i64} {
// CHECK-NEXT: }
plan.micro_step @empty {
}

// Param copies mirror the param region at half its offsets, so that element
// e of the params is element e of the copies (the optimizer writes both in
// one pass): p1 at 256 has its copy 128 bytes into the copy region, not at
// the copy region's next 256-byte boundary, which the planner reserved.
// CHECK-LABEL: plan.micro_step @param_copies attributes {arena_bytes = 1792 : i64} {
// CHECK-NEXT: plan.buffer param "p0" {offset = 0 : i64} : memref<8xf32>
// CHECK-NEXT: plan.buffer param "p1" {offset = 256 : i64} : memref<8xf32>
// CHECK-NEXT: plan.buffer grad "p0.grad" {offset = 512 : i64} : memref<8xf32>
// CHECK-NEXT: plan.buffer grad "p1.grad" {offset = 768 : i64} : memref<8xf32>
// CHECK-NEXT: plan.buffer param_copy "p0.copy" {offset = 1024 : i64} : memref<8xbf16>
// CHECK-NEXT: plan.buffer param_copy "p1.copy" {offset = 1152 : i64} : memref<8xbf16>
// CHECK-NEXT: plan.buffer output "y" {offset = 1536 : i64} : memref<8xbf16>
plan.micro_step @param_copies {
  %p0 = plan.buffer param "p0" : memref<8xf32>
  %p1 = plan.buffer param "p1" : memref<8xf32>
  %g0 = plan.buffer grad "p0.grad" : memref<8xf32>
  %g1 = plan.buffer grad "p1.grad" : memref<8xf32>
  %c0 = plan.buffer param_copy "p0.copy" : memref<8xbf16>
  %c1 = plan.buffer param_copy "p1.copy" : memref<8xbf16>
  %y = plan.buffer output "y" : memref<8xbf16>
  plan.kernel "mind::add_fwd<__nv_bfloat16>"(%c0, %c1, %y, 8) grid [1, 1, 1] block [256, 1, 1] : memref<8xbf16>, memref<8xbf16>, memref<8xbf16>
}

// A view is no storage: it gets its source's offset plus its byte_offset,
// and a step using it keeps the source alive. `src` is written at step 0 and
// read only through the view at step 2: `t` (steps 1-2) cannot take its bytes.
// CHECK-LABEL: plan.micro_step @views attributes {arena_bytes = 768 : i64} {
// CHECK-NEXT: plan.buffer activation "src" {offset = 0 : i64} : memref<64xf32>
// CHECK-NEXT: plan.buffer activation "t" {offset = 256 : i64} : memref<64xf32>
// CHECK-NEXT: plan.view %{{.*}}[128] {offset = 128 : i64} : memref<64xf32> to memref<32xf32>
// CHECK-NEXT: plan.buffer activation "u" {offset = 512 : i64} : memref<32xf32>
plan.micro_step @views {
  %src = plan.buffer activation "src" : memref<64xf32>
  %t = plan.buffer activation "t" : memref<64xf32>
  %hi = plan.view %src [128] : memref<64xf32> to memref<32xf32>
  %u = plan.buffer activation "u" : memref<32xf32>
  plan.memset %src : memref<64xf32>
  plan.memset %t : memref<64xf32>
  plan.kernel "mind::silu_fwd<float>"(%hi, %u, 32) grid [1, 1, 1] block [256, 1, 1] : memref<32xf32>, memref<32xf32>
  plan.kernel "mind::silu_fwd<float>"(%t, %t, 64) grid [1, 1, 1] block [256, 1, 1] : memref<64xf32>, memref<64xf32>
}
