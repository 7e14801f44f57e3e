// RUN: mind-opt %s -split-input-file -verify-diagnostics

// Verifier tests for the `plan` dialect.
//
// Policy: every message that dialects/lib/Dialect/Plan/IR/PlanOps.cpp can emit
// has at least one case here, and so does every way a launch can miss its
// library kernel's signature (runtime/abi KernelAbi.cpp's messages, which the
// verifier reports). Each case is its own split of the input file and
// expects exactly one error.

//===----------------------------------------------------------------------===//
// plan.micro_step
//===----------------------------------------------------------------------===//

// A micro-step's memrefs are its plan.buffer results, never block arguments.
// expected-error @+1 {{'plan.micro_step' op takes no block arguments: its buffers are plan.buffer ops}}
plan.micro_step @s {
^bb0(%a: memref<4xf32>):
  plan.kernel "mind::silu_fwd<float>"(%a, %a, 4) grid [1, 1, 1] block [256, 1, 1] : memref<4xf32>, memref<4xf32>
}

//===----------------------------------------------------------------------===//
// plan.buffer
//===----------------------------------------------------------------------===//

// -----

plan.micro_step @s {
  // expected-error @+1 {{'plan.buffer' op needs a name}}
  %0 = plan.buffer activation "" : memref<4xf32>
}

// -----

// f64 has no GPU kernels, so no buffer holds it.
plan.micro_step @s {
  // expected-error @+1 {{'plan.buffer' op element type 'f64' has no runtime buffer (f32, bf16, f16, i64, i32)}}
  %0 = plan.buffer activation "x" : memref<4xf64>
}

// -----

plan.micro_step @s {
  // expected-error @+1 {{'plan.buffer' op element type 'i8' has no runtime buffer (f32, bf16, f16, i64, i32)}}
  %0 = plan.buffer input "x" : memref<4xi8>
}

// -----

plan.micro_step @s {
  // expected-error @+1 {{'plan.buffer' op a param buffer must be f32}}
  %0 = plan.buffer param "w" : memref<4xbf16>
}

// -----

plan.micro_step @s {
  // expected-error @+1 {{'plan.buffer' op a grad buffer must be f32}}
  %0 = plan.buffer grad "w.grad" : memref<4xf16>
}

// -----

plan.micro_step @s {
  // expected-error @+1 {{'plan.buffer' op an empty buffer has no bytes to plan}}
  %0 = plan.buffer activation "x" : memref<4x0xf32>
}

// -----

plan.micro_step @s {
  // expected-error @+1 {{'plan.buffer' op result #0 must be statically shaped memref of any type values, but got 'memref<?xf32>'}}
  %0 = plan.buffer activation "x" : memref<?xf32>
}

// -----

// expected-error @+1 {{'plan.buffer' op expects parent op 'plan.micro_step'}}
%0 = plan.buffer activation "x" : memref<4xf32>

//===----------------------------------------------------------------------===//
// plan.kernel: launch shape and argument list
//===----------------------------------------------------------------------===//

// -----

plan.micro_step @s {
  %x = plan.buffer activation "x" : memref<4xf32>
  // expected-error @+1 {{'plan.kernel' op grid and block need three dimensions}}
  plan.kernel "mind::silu_fwd<float>"(%x, %x, 4) grid [1, 1] block [256, 1, 1] : memref<4xf32>, memref<4xf32>
}

// -----

plan.micro_step @s {
  %x = plan.buffer activation "x" : memref<4xf32>
  // expected-error @+1 {{'plan.kernel' op grid and block need three dimensions}}
  plan.kernel "mind::silu_fwd<float>"(%x, %x, 4) grid [1, 1, 1] block [256, 1, 1, 1] : memref<4xf32>, memref<4xf32>
}

// -----

plan.micro_step @s {
  %x = plan.buffer activation "x" : memref<4xf32>
  // expected-error @+1 {{'plan.kernel' op grid and block dimensions must be positive}}
  plan.kernel "mind::silu_fwd<float>"(%x, %x, 4) grid [1, 0, 1] block [256, 1, 1] : memref<4xf32>, memref<4xf32>
}

// -----

plan.micro_step @s {
  %x = plan.buffer activation "x" : memref<4xf32>
  // expected-error @+1 {{'plan.kernel' op grid and block dimensions must be positive}}
  plan.kernel "mind::silu_fwd<float>"(%x, %x, 4) grid [1, 1, 1] block [256, 1, -1] : memref<4xf32>, memref<4xf32>
}

// -----

// More than 1024 threads per block.
plan.micro_step @s {
  %x = plan.buffer activation "x" : memref<4xf32>
  // expected-error @+1 {{'plan.kernel' op launch shape exceeds CUDA's limits (at most 1024 threads per block, block z <= 64, grid y, z <= 65535)}}
  plan.kernel "mind::silu_fwd<float>"(%x, %x, 4) grid [1, 1, 1] block [512, 2, 2] : memref<4xf32>, memref<4xf32>
}

// -----

// A block z of 65 (65 threads in all).
plan.micro_step @s {
  %x = plan.buffer activation "x" : memref<4xf32>
  // expected-error @+1 {{'plan.kernel' op launch shape exceeds CUDA's limits (at most 1024 threads per block, block z <= 64, grid y, z <= 65535)}}
  plan.kernel "mind::silu_fwd<float>"(%x, %x, 4) grid [1, 1, 1] block [1, 1, 65] : memref<4xf32>, memref<4xf32>
}

// -----

// A grid y of 65536.
plan.micro_step @s {
  %x = plan.buffer activation "x" : memref<4xf32>
  // expected-error @+1 {{'plan.kernel' op launch shape exceeds CUDA's limits (at most 1024 threads per block, block z <= 64, grid y, z <= 65535)}}
  plan.kernel "mind::silu_fwd<float>"(%x, %x, 4) grid [1, 65536, 1] block [256, 1, 1] : memref<4xf32>, memref<4xf32>
}

// -----

// A grid z of 65536.
plan.micro_step @s {
  %x = plan.buffer activation "x" : memref<4xf32>
  // expected-error @+1 {{'plan.kernel' op launch shape exceeds CUDA's limits (at most 1024 threads per block, block z <= 64, grid y, z <= 65535)}}
  plan.kernel "mind::silu_fwd<float>"(%x, %x, 4) grid [1, 1, 65536] block [256, 1, 1] : memref<4xf32>, memref<4xf32>
}

// -----

// Negative shared memory.
plan.micro_step @s {
  %x = plan.buffer activation "x" : memref<4xf32>
  // expected-error @+1 {{'plan.kernel' op shared memory must be in [0, 227 KiB]}}
  plan.kernel "mind::silu_fwd<float>"(%x, %x, 4) grid [1, 1, 1] block [256, 1, 1] smem -1 : memref<4xf32>, memref<4xf32>
}

// -----

// One byte more than 227 KiB (232448 bytes).
plan.micro_step @s {
  %x = plan.buffer activation "x" : memref<4xf32>
  // expected-error @+1 {{'plan.kernel' op shared memory must be in [0, 227 KiB]}}
  plan.kernel "mind::silu_fwd<float>"(%x, %x, 4) grid [1, 1, 1] block [256, 1, 1] smem 232449 : memref<4xf32>, memref<4xf32>
}

// -----

// Every memref a step uses must be a plan.buffer of its micro-step.
plan.micro_step @s {
  %x = plan.buffer activation "x" : memref<4xf32>
  %m = builtin.unrealized_conversion_cast to memref<4xf64>
  // expected-error @+1 {{'plan.kernel' op uses a memref that is not a plan.buffer or plan.view of its micro-step}}
  plan.kernel "mind::silu_fwd<float>"(%x, %m, 4) grid [1, 1, 1] block [256, 1, 1] : memref<4xf32>, memref<4xf64>
}

// -----

// The custom syntax cannot get the buffer count wrong; the generic form can.
"plan.micro_step"() <{sym_name = "s"}> ({
  %x = "plan.buffer"() <{kind = 4 : i32, name = "x"}> : () -> memref<4xf32>
  // expected-error @+1 {{'plan.kernel' op the arguments name 2 buffers but the op has 1}}
  "plan.kernel"(%x) <{args = [unit, unit, 4], block = array<i32: 256, 1, 1>, grid = array<i32: 1, 1, 1>, kernel = "mind::silu_fwd<float>"}> : (memref<4xf32>) -> ()
}) : () -> ()

// -----

// An array argument counts its buffers.
"plan.micro_step"() <{sym_name = "s"}> ({
  %x = "plan.buffer"() <{kind = 4 : i32, name = "x"}> : () -> memref<4xf32>
  // expected-error @+1 {{'plan.kernel' op the arguments name 3 buffers but the op has 2}}
  "plan.kernel"(%x, %x) <{args = [unit, 2 : index, 4], block = array<i32: 256, 1, 1>, grid = array<i32: 1, 1, 1>, kernel = "mind::silu_fwd<float>"}> : (memref<4xf32>, memref<4xf32>) -> ()
}) : () -> ()

// -----

// The generic form can also give an array a negative size.
"plan.micro_step"() <{sym_name = "s"}> ({
  %x = "plan.buffer"() <{kind = 4 : i32, name = "x"}> : () -> memref<4xf32>
  // expected-error @+1 {{'plan.kernel' op an array argument cannot have -1 buffers}}
  "plan.kernel"(%x) <{args = [unit, -1 : index, 4], block = array<i32: 256, 1, 1>, grid = array<i32: 1, 1, 1>, kernel = "mind::silu_fwd<float>"}> : (memref<4xf32>) -> ()
}) : () -> ()

// -----

plan.micro_step @s {
  %x = plan.buffer activation "x" : memref<4xf32>
  // expected-error @+1 {{'plan.kernel' op integer arguments are i64}}
  plan.kernel "mind::silu_fwd<float>"(%x, %x, 4 : i32) grid [1, 1, 1] block [256, 1, 1] : memref<4xf32>, memref<4xf32>
}

// -----

plan.micro_step @s {
  %x = plan.buffer activation "x" : memref<4xf32>
  // expected-error @+1 {{'plan.kernel' op float arguments are f32 or f64}}
  plan.kernel "mind::fill_fwd<float>"(%x, 4, 1.0 : f16) grid [1, 1, 1] block [256, 1, 1] : memref<4xf32>
}

// -----

plan.micro_step @s {
  %x = plan.buffer activation "x" : memref<4xf32>
  // expected-error @+1 {{'plan.kernel' op unexpected argument "four"}}
  plan.kernel "mind::silu_fwd<float>"(%x, %x, "four") grid [1, 1, 1] block [256, 1, 1] : memref<4xf32>, memref<4xf32>
}

// -----

// expected-error @+1 {{'plan.kernel' op expects parent op 'plan.micro_step'}}
plan.kernel "mind::cross_entropy_finalize"() grid [1, 1, 1] block [1, 1, 1]

//===----------------------------------------------------------------------===//
// plan.kernel: library kernels
//===----------------------------------------------------------------------===//

// -----

plan.micro_step @s {
  %x = plan.buffer activation "x" : memref<4xf32>
  // expected-error @+1 {{'plan.kernel' op kernel 'mind::gelu_fwd<float>': no such kernel in the library (KernelSignatures.h)}}
  plan.kernel "mind::gelu_fwd<float>"(%x, %x, 4) grid [1, 1, 1] block [256, 1, 1] : memref<4xf32>, memref<4xf32>
}

// -----

// A template kernel named without its template arguments.
plan.micro_step @s {
  %x = plan.buffer activation "x" : memref<4xf32>
  // expected-error @+1 {{'plan.kernel' op kernel 'mind::silu_fwd': takes 1 template arguments, got 0}}
  plan.kernel "mind::silu_fwd"(%x, %x, 4) grid [1, 1, 1] block [256, 1, 1] : memref<4xf32>, memref<4xf32>
}

// -----

// One template argument too many.
plan.micro_step @s {
  %x = plan.buffer activation "x" : memref<4x8xbf16>
  %w = plan.buffer param "w" : memref<8xf32>
  // expected-error @+1 {{'plan.kernel' op kernel 'mind::rmsnorm_fwd<__nv_bfloat16, float, float>': takes 2 template arguments, got 3}}
  plan.kernel "mind::rmsnorm_fwd<__nv_bfloat16, float, float>"(%x, %w, %x, 4, 8, 1.0e-05 : f32) grid [1, 1, 1] block [32, 8, 1] : memref<4x8xbf16>, memref<8xf32>, memref<4x8xbf16>
}

// -----

// A kernel that is not a template takes none.
plan.micro_step @s {
  %c = plan.buffer activation "cos" : memref<4x8xf32>
  // expected-error @+1 {{'plan.kernel' op kernel 'mind::rope_table<float>': takes 0 template arguments, got 1}}
  plan.kernel "mind::rope_table<float>"(%c, %c, 4, 8, 1.0e+04 : f64, 2048, 1.0 : f64, 2048, 32.0 : f64, 1.0 : f64, 1.0 : f64) grid [1, 1, 1] block [256, 1, 1] : memref<4x8xf32>, memref<4x8xf32>
}

// -----

// A type parameter takes one of the CUDA element types, not any C++ type.
plan.micro_step @s {
  %x = plan.buffer activation "x" : memref<4xf32>
  // expected-error @+1 {{'plan.kernel' op kernel 'mind::silu_fwd<char>': template argument 'char' is not an element type}}
  plan.kernel "mind::silu_fwd<char>"(%x, %x, 4) grid [1, 1, 1] block [256, 1, 1] : memref<4xf32>, memref<4xf32>
}

// -----

// An integer parameter (the head dim) takes digits.
plan.micro_step @s {
  %x = plan.buffer activation "x" : memref<4x8xbf16>
  %c = plan.buffer activation "cos" : memref<4x8xf32>
  // expected-error @+1 {{'plan.kernel' op kernel 'mind::attention_fwd_mma<__nv_bfloat16, banana>': template argument 'banana' is not an integer}}
  plan.kernel "mind::attention_fwd_mma<__nv_bfloat16, banana>"(%x, %x, %x, %x, %c, 1, 2, 2, 0.25 : f32, 1) grid [1, 2, 1] block [128, 1, 1] : memref<4x8xbf16>, memref<4x8xbf16>, memref<4x8xbf16>, memref<4x8xbf16>, memref<4x8xf32>
}

// -----

plan.micro_step @s {
  %x = plan.buffer activation "x" : memref<4xf32>
  // expected-error @+1 {{'plan.kernel' op kernel 'mind::silu_fwd<float': unbalanced template arguments}}
  plan.kernel "mind::silu_fwd<float"(%x, %x, 4) grid [1, 1, 1] block [256, 1, 1] : memref<4xf32>, memref<4xf32>
}

// -----

plan.micro_step @s {
  %x = plan.buffer activation "x" : memref<4xf32>
  // expected-error @+1 {{'plan.kernel' op kernel 'mind::silu_fwd<half>': template argument 'half' is not an element type}}
  plan.kernel "mind::silu_fwd<half>"(%x, %x, 4) grid [1, 1, 1] block [256, 1, 1] : memref<4xf32>, memref<4xf32>
}

// -----

// Too few arguments for the signature (x, w, y, rows, hidden, eps).
plan.micro_step @s {
  %x = plan.buffer activation "x" : memref<4x8xbf16>
  %w = plan.buffer param "w" : memref<8xf32>
  // expected-error @+1 {{'plan.kernel' op mind::rmsnorm_fwd<__nv_bfloat16, float>: 5 arguments for 6 parameters}}
  plan.kernel "mind::rmsnorm_fwd<__nv_bfloat16, float>"(%x, %w, %x, 4, 8) grid [1, 1, 1] block [32, 8, 1] : memref<4x8xbf16>, memref<8xf32>, memref<4x8xbf16>
}

// -----

// Too many.
plan.micro_step @s {
  %x = plan.buffer activation "x" : memref<4x8xbf16>
  %w = plan.buffer param "w" : memref<8xf32>
  // expected-error @+1 {{'plan.kernel' op mind::rmsnorm_fwd<__nv_bfloat16, float>: 7 arguments for 6 parameters}}
  plan.kernel "mind::rmsnorm_fwd<__nv_bfloat16, float>"(%x, %w, %x, 4, 8, 1.0e-05 : f32, 0) grid [1, 1, 1] block [32, 8, 1] : memref<4x8xbf16>, memref<8xf32>, memref<4x8xbf16>
}

// -----

// The weight in bf16 where the instantiation says float.
plan.micro_step @s {
  %x = plan.buffer activation "x" : memref<4x8xbf16>
  // expected-error @+1 {{'plan.kernel' op mind::rmsnorm_fwd<__nv_bfloat16, float>: argument 1 (in F32 w) is given a BF16 buffer}}
  plan.kernel "mind::rmsnorm_fwd<__nv_bfloat16, float>"(%x, %x, %x, 4, 8, 1.0e-05 : f32) grid [1, 1, 1] block [32, 8, 1] : memref<4x8xbf16>, memref<4x8xbf16>, memref<4x8xbf16>
}

// -----

// A fixed element type (the i64 ids) is checked as well as the template ones.
plan.micro_step @s {
  %t = plan.buffer param "table" : memref<10x8xf32>
  %ids = plan.buffer input "ids" : memref<4xi32>
  %y = plan.buffer activation "y" : memref<4x8xf32>
  // expected-error @+1 {{'plan.kernel' op mind::embedding_fwd<float>: argument 1 (in I64 ids) is given a I32 buffer}}
  plan.kernel "mind::embedding_fwd<float>"(%t, %ids, %y, 4, 8, 10) grid [4, 1, 1] block [32, 1, 1] : memref<10x8xf32>, memref<4xi32>, memref<4x8xf32>
}

// -----

// An output parameter checks its element type too.
plan.micro_step @s {
  %x = plan.buffer activation "x" : memref<4xf32>
  %y = plan.buffer activation "y" : memref<4xf16>
  // expected-error @+1 {{'plan.kernel' op mind::silu_fwd<float>: argument 1 (out F32 y) is given a F16 buffer}}
  plan.kernel "mind::silu_fwd<float>"(%x, %y, 4) grid [1, 1, 1] block [256, 1, 1] : memref<4xf32>, memref<4xf16>
}

// -----

plan.micro_step @s {
  %x = plan.buffer activation "x" : memref<4xf32>
  // expected-error @+1 {{'plan.kernel' op mind::silu_fwd<float>: argument 1 (out F32 y) needs a buffer}}
  plan.kernel "mind::silu_fwd<float>"(%x, 4, 4) grid [1, 1, 1] block [256, 1, 1] : memref<4xf32>
}

// -----

// An array where one buffer is expected.
plan.micro_step @s {
  %x = plan.buffer activation "x" : memref<4xf32>
  // expected-error @+1 {{'plan.kernel' op mind::silu_fwd<float>: argument 0 (in F32 x) needs a buffer}}
  plan.kernel "mind::silu_fwd<float>"([%x], %x, 4) grid [1, 1, 1] block [256, 1, 1] : memref<4xf32>, memref<4xf32>
}

// -----

plan.micro_step @s {
  %x = plan.buffer activation "x" : memref<4xf32>
  // expected-error @+1 {{'plan.kernel' op mind::silu_fwd<float>: argument 2 (i64 n) needs an i64 value}}
  plan.kernel "mind::silu_fwd<float>"(%x, %x, 4.0 : f32) grid [1, 1, 1] block [256, 1, 1] : memref<4xf32>, memref<4xf32>
}

// -----

plan.micro_step @s {
  %x = plan.buffer activation "x" : memref<4xf32>
  // expected-error @+1 {{'plan.kernel' op mind::fill_fwd<float>: argument 2 (f32 value) needs an f32 value}}
  plan.kernel "mind::fill_fwd<float>"(%x, 4, 1.0 : f64) grid [1, 1, 1] block [256, 1, 1] : memref<4xf32>
}

// -----

plan.micro_step @s {
  %c = plan.buffer activation "cos" : memref<4x8xf32>
  // expected-error @+1 {{'plan.kernel' op mind::rope_table: argument 4 (f64 theta) needs an f64 value}}
  plan.kernel "mind::rope_table"(%c, %c, 4, 8, 1.0e+04 : f32, 2048, 1.0 : f64, 2048, 32.0 : f64, 1.0 : f64, 1.0 : f64) grid [1, 1, 1] block [256, 1, 1] : memref<4x8xf32>, memref<4x8xf32>
}

// -----

// The expert weights must come as one array argument...
plan.micro_step @s {
  %x = plan.buffer activation "x" : memref<4x8xf32>
  %off = plan.buffer activation "offsets" : memref<2xi64>
  %w = plan.buffer param "w" : memref<8x8xf32>
  // expected-error @+1 {{'plan.kernel' op mind::moe_grouped_linear_fwd<float>: argument 7 (in[] F32 w) needs a non-empty array of buffers}}
  plan.kernel "mind::moe_grouped_linear_fwd<float>"(%x, %off, %x, 4, 8, 8, 1, %w) grid [1, 1, 1] block [256, 1, 1] : memref<4x8xf32>, memref<2xi64>, memref<4x8xf32>, memref<8x8xf32>
}

// -----

// ... which is not empty (`[]` parses, the signature refuses it).
plan.micro_step @s {
  %x = plan.buffer activation "x" : memref<4x8xf32>
  %off = plan.buffer activation "offsets" : memref<2xi64>
  // expected-error @+1 {{'plan.kernel' op mind::moe_grouped_linear_fwd<float>: argument 7 (in[] F32 w) needs a non-empty array of buffers}}
  plan.kernel "mind::moe_grouped_linear_fwd<float>"(%x, %off, %x, 4, 8, 8, 0, []) grid [1, 1, 1] block [256, 1, 1] : memref<4x8xf32>, memref<2xi64>, memref<4x8xf32>
}

// -----

// The same in the generic form (an array of 0 buffers).
"plan.micro_step"() <{sym_name = "s"}> ({
  %x = "plan.buffer"() <{kind = 4 : i32, name = "x"}> : () -> memref<4x8xf32>
  %off = "plan.buffer"() <{kind = 4 : i32, name = "offsets"}> : () -> memref<2xi64>
  // expected-error @+1 {{'plan.kernel' op mind::moe_grouped_linear_fwd<float>: argument 7 (in[] F32 w) needs a non-empty array of buffers}}
  "plan.kernel"(%x, %off, %x) <{args = [unit, unit, unit, 4, 8, 8, 0, 0 : index], block = array<i32: 256, 1, 1>, grid = array<i32: 1, 1, 1>, kernel = "mind::moe_grouped_linear_fwd<float>"}> : (memref<4x8xf32>, memref<2xi64>, memref<4x8xf32>) -> ()
}) : () -> ()

// -----

// ... and whose every buffer has the element type.
plan.micro_step @s {
  %x = plan.buffer activation "x" : memref<4x8xf32>
  %off = plan.buffer activation "offsets" : memref<3xi64>
  %w0 = plan.buffer param "w0" : memref<8x8xf32>
  %w1 = plan.buffer activation "w1" : memref<8x8xbf16>
  // expected-error @+1 {{'plan.kernel' op mind::moe_grouped_linear_fwd<float>: argument 7 (in[] F32 w) is given a BF16 buffer}}
  plan.kernel "mind::moe_grouped_linear_fwd<float>"(%x, %off, %x, 4, 8, 8, 2, [%w0, %w1]) grid [1, 1, 1] block [256, 1, 1] : memref<4x8xf32>, memref<3xi64>, memref<4x8xf32>, memref<8x8xf32>, memref<8x8xbf16>
}

// -----

// The optimizer's state is a struct no plan buffer can bind.
plan.micro_step @s {
  %g = plan.buffer grad "w.grad" : memref<4xf32>
  %st = plan.buffer activation "state" : memref<4xf32>
  // expected-error @+1 {{'plan.kernel' op mind::grad_sqnorm_partial: argument 2 (in opaque state) is an opaque struct no buffer can bind}}
  plan.kernel "mind::grad_sqnorm_partial"(%g, 4, %st, %g) grid [1, 1, 1] block [256, 1, 1] : memref<4xf32>, memref<4xf32>, memref<4xf32>
}

//===----------------------------------------------------------------------===//
// plan.kernel: emitted kernels
//===----------------------------------------------------------------------===//

// -----

plan.micro_step @s {
  %x = plan.buffer activation "x" : memref<4xf32>
  // expected-error @+1 {{'plan.kernel' op 'mind_ew_silu_0' is neither a library kernel (mind::...) nor a plan.emitted_kernel of this micro-step}}
  plan.kernel "mind_ew_silu_0"(%x, %x, 4) grid [1, 1, 1] block [256, 1, 1] : memref<4xf32>, memref<4xf32>
}

// -----

// An emitted kernel of another micro-step does not count.
plan.micro_step @a {
  plan.emitted_kernel @mind_ew_silu_0(1 in, 1 out) ""
}
plan.micro_step @b {
  %x = plan.buffer activation "x" : memref<4xf32>
  // expected-error @+1 {{'plan.kernel' op 'mind_ew_silu_0' is neither a library kernel (mind::...) nor a plan.emitted_kernel of this micro-step}}
  plan.kernel "mind_ew_silu_0"(%x, %x, 4) grid [1, 1, 1] block [256, 1, 1] : memref<4xf32>, memref<4xf32>
}

// -----

plan.micro_step @s {
  %x = plan.buffer activation "x" : memref<4xf32>
  plan.emitted_kernel @mind_ew_add_0(2 in, 1 out) ""
  // expected-error @+1 {{'plan.kernel' op emitted kernel 'mind_ew_add_0' takes 2 inputs, 1 outputs and the element count}}
  plan.kernel "mind_ew_add_0"(%x, %x, 4) grid [1, 1, 1] block [256, 1, 1] : memref<4xf32>, memref<4xf32>
}

// -----

plan.micro_step @s {
  %x = plan.buffer activation "x" : memref<4xf32>
  plan.emitted_kernel @mind_ew_silu_0(1 in, 1 out) ""
  // expected-error @+1 {{'plan.kernel' op argument 1 of emitted kernel 'mind_ew_silu_0' must be a buffer}}
  plan.kernel "mind_ew_silu_0"(%x, 4, 4) grid [1, 1, 1] block [256, 1, 1] : memref<4xf32>
}

// -----

plan.micro_step @s {
  %x = plan.buffer activation "x" : memref<4xf32>
  plan.emitted_kernel @mind_ew_silu_0(1 in, 1 out) ""
  // expected-error @+1 {{'plan.kernel' op argument 0 of emitted kernel 'mind_ew_silu_0' must be a buffer}}
  plan.kernel "mind_ew_silu_0"([%x], %x, 4) grid [1, 1, 1] block [256, 1, 1] : memref<4xf32>, memref<4xf32>
}

// -----

// The element count of an emitted kernel is an i64.
plan.micro_step @s {
  %x = plan.buffer activation "x" : memref<4xf32>
  plan.emitted_kernel @mind_ew_silu_0(1 in, 1 out) ""
  // expected-error @+1 {{'plan.kernel' op mind_ew_silu_0: argument 2 (i64 n) needs an i64 value}}
  plan.kernel "mind_ew_silu_0"(%x, %x, 4.0 : f32) grid [1, 1, 1] block [256, 1, 1] : memref<4xf32>, memref<4xf32>
}

// -----

// expected-error @+1 {{'plan.emitted_kernel' op expects parent op 'plan.micro_step'}}
plan.emitted_kernel @k(1 in, 1 out) ""

//===----------------------------------------------------------------------===//
// plan.gemm, plan.memset
//===----------------------------------------------------------------------===//

// -----

plan.micro_step @s {
  %a = plan.buffer activation "a" : memref<4x8xf32>
  %b = plan.buffer activation "b" : memref<16x8xbf16>
  %c = plan.buffer activation "c" : memref<4x16xf32>
  // expected-error @+1 {{'plan.gemm' op a and b must share one of f32, bf16, f16}}
  plan.gemm %a, %b -> %c {m = 4 : i64, n = 16 : i64, k = 8 : i64, trans_b} : memref<4x8xf32>, memref<16x8xbf16> -> memref<4x16xf32>
}

// -----

plan.micro_step @s {
  %a = plan.buffer activation "a" : memref<4x8xi32>
  %c = plan.buffer activation "c" : memref<4x4xi32>
  // expected-error @+1 {{'plan.gemm' op a and b must share one of f32, bf16, f16}}
  plan.gemm %a, %a -> %c {m = 4 : i64, n = 4 : i64, k = 8 : i64, trans_b} : memref<4x8xi32>, memref<4x8xi32> -> memref<4x4xi32>
}

// -----

plan.micro_step @s {
  %a = plan.buffer activation "a" : memref<4x8xbf16>
  %c = plan.buffer activation "c" : memref<4x4xf16>
  // expected-error @+1 {{'plan.gemm' op c must be 'bf16' or f32}}
  plan.gemm %a, %a -> %c {m = 4 : i64, n = 4 : i64, k = 8 : i64, trans_b} : memref<4x8xbf16>, memref<4x8xbf16> -> memref<4x4xf16>
}

// -----

plan.micro_step @s {
  %a = plan.buffer activation "a" : memref<4x8xf32>
  %c = plan.buffer activation "c" : memref<4x4xf32>
  // expected-error @+1 {{'plan.gemm' op m, n, k must be positive}}
  plan.gemm %a, %a -> %c {m = 4 : i64, n = 4 : i64, k = 0 : i64, trans_b} : memref<4x8xf32>, memref<4x8xf32> -> memref<4x4xf32>
}

// -----

plan.micro_step @s {
  %a = plan.buffer activation "a" : memref<4x8xf32>
  %c = plan.buffer activation "c" : memref<4x4xf32>
  // expected-error @+1 {{'plan.gemm' op operand sizes do not match m = 4, n = 4, k = 4}}
  plan.gemm %a, %a -> %c {m = 4 : i64, n = 4 : i64, k = 4 : i64, trans_b} : memref<4x8xf32>, memref<4x8xf32> -> memref<4x4xf32>
}

// -----

// c of the wrong size.
plan.micro_step @s {
  %a = plan.buffer activation "a" : memref<4x8xf32>
  %c = plan.buffer activation "c" : memref<4x5xf32>
  // expected-error @+1 {{'plan.gemm' op operand sizes do not match m = 4, n = 4, k = 8}}
  plan.gemm %a, %a -> %c {m = 4 : i64, n = 4 : i64, k = 8 : i64, trans_b} : memref<4x8xf32>, memref<4x8xf32> -> memref<4x5xf32>
}

// -----

plan.micro_step @s {
  %a = plan.buffer activation "a" : memref<4x8xf32>
  // expected-error @+1 {{'plan.gemm' op requires attribute 'k'}}
  plan.gemm %a, %a -> %a {m = 4 : i64, n = 8 : i64} : memref<4x8xf32>, memref<4x8xf32> -> memref<4x8xf32>
}

// -----

func.func @outside(%m: memref<4xf32>) {
  // expected-error @+1 {{'plan.memset' op expects parent op 'plan.micro_step'}}
  plan.memset %m : memref<4xf32>
  return
}

// -----

// A buffer's bytes must fit the planner's integers (and any GPU).
plan.micro_step @s {
  // expected-error @+1 {{'plan.buffer' op a buffer holds at most 512 GiB}}
  %0 = plan.buffer activation "x" : memref<4294967296x4294967296xf32>
}

// -----

plan.micro_step @s {
  // expected-error @+1 {{'plan.buffer' op a param_copy buffer must be bf16 or f16}}
  %c = plan.buffer param_copy "w.copy" : memref<4xf32>
}

// -----

// plan.view: inside its source, 16-byte aligned, of a plan.buffer.
plan.micro_step @s {
  %x = plan.buffer activation "x" : memref<4x8xf32>
  // expected-error @+1 {{'plan.view' op bytes [96, 160) lie outside its source's 128}}
  %v = plan.view %x [96] : memref<4x8xf32> to memref<16xf32>
}

// -----

plan.micro_step @s {
  %x = plan.buffer activation "x" : memref<4x8xf32>
  // expected-error @+1 {{'plan.view' op byte_offset must be a non-negative multiple of 16, got 8}}
  %v = plan.view %x [8] : memref<4x8xf32> to memref<2xf32>
}

// -----

plan.micro_step @s {
  %x = plan.buffer activation "x" : memref<4x8xf32>
  %v = plan.view %x [0] : memref<4x8xf32> to memref<16xf32>
  // expected-error @+1 {{'plan.view' op views a plan.buffer (not a view or another value)}}
  %w = plan.view %v [16] : memref<16xf32> to memref<4xf32>
}

// -----

plan.micro_step @s {
  %x = plan.buffer activation "x" : memref<4x8xf32>
  // expected-error @+1 {{'plan.view' op element type 'f64' has no runtime buffer (f32, bf16, f16, i64, i32)}}
  %v = plan.view %x [0] : memref<4x8xf32> to memref<2xf64>
}
