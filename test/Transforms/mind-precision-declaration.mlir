// RUN: mind-opt %s -mind-precision=dtype=bf16 -verify-diagnostics
// RUN: mind-opt %s -mind-train-pipeline=dtype=bf16 -verify-diagnostics

// A declaration has no body to rewrite: an error, not a crash.
// expected-error @below {{mind-precision: 'forward' must have a single-block body (not a declaration)}}
func.func private @forward(tensor<2xf32>) -> tensor<f32>
