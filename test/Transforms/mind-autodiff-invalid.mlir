// RUN: mind-opt %s -split-input-file -mind-autodiff -verify-diagnostics
// RUN: not mind-opt %s -split-input-file "-mind-autodiff=train-step=" 2>&1 | FileCheck %s --check-prefix=EMPTY
// EMPTY: mind-autodiff: the forward and train-step options must name functions (got 'forward' and '')

// expected-error @below {{mind-autodiff: no function named 'forward' to differentiate}}
module {
  func.func @other() {
    return
  }
}

// -----

// expected-error @below {{mind-autodiff: a symbol named 'train_step' already exists}}
func.func @forward(%x: tensor<f32>) -> tensor<f32> {
  return %x : tensor<f32>
}
func.func @train_step() {
  return
}

// -----

// expected-error @below {{mind-autodiff: every result must be a rank-0 float tensor (a loss), got 'tensor<2xf32>'}}
func.func @forward(%x: tensor<2xf32>) -> tensor<2xf32> {
  return %x : tensor<2xf32>
}

// -----

func.func @forward(%q: tensor<1x2x2x4xf32> {mind.param = "q"}, %k: tensor<1x2x2x4xf32>,
                   %t: tensor<1x2xi64>, %m: tensor<1x2xi64>) -> tensor<f32> {
  // expected-error @below {{'mind.attention' op cannot differentiate through the lse result}}
  %o, %lse = mind.attention %q, %k, %k {scale = 0.5 : f64}
      : (tensor<1x2x2x4xf32>, tensor<1x2x2x4xf32>, tensor<1x2x2x4xf32>) -> (tensor<1x2x2x4xf32>, tensor<1x2x2xf32>)
  %l = mind.cross_entropy %lse, %t, %m : (tensor<1x2x2xf32>, tensor<1x2xi64>, tensor<1x2xi64>) -> tensor<f32>
  return %l : tensor<f32>
}
