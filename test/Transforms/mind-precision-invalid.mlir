// RUN: mind-opt %s -mind-precision=dtype=int8 -verify-diagnostics
// RUN: not mind-opt %s -mind-precision=func=missing 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: error: mind-precision: no function named 'missing'

// expected-error @below {{mind-precision: unknown dtype 'int8' (expected bf16, f16 or f32)}}
module {
  func.func @forward(%x: tensor<f32>) -> tensor<f32> {
    return %x : tensor<f32>
  }
}

