// RUN: mind-opt %s -split-input-file -mind-lower-to-plan -verify-diagnostics

// What mind-lower-to-plan rejects: a missing function, arguments and results
// it cannot bind (f64 included: no runtime buffer holds it), ops it cannot
// lower, launch rules that refuse a problem (their std::invalid_argument
// becomes the op's error), and launches whose buffers do not fit the
// kernel's signature (checked as each launch is built, and reported at the
// op being lowered, before any verifier runs).

//===----------------------------------------------------------------------===//
// The function
//===----------------------------------------------------------------------===//

// expected-error @below {{lower-to-plan: no single-block function named 'train_step'}}
module {
  func.func @forward(%x: tensor<4xf32>) -> tensor<4xf32> {
    return %x : tensor<4xf32>
  }
}

// -----

// A declaration has no body to lower.
// expected-error @below {{lower-to-plan: no single-block function named 'train_step'}}
module {
  func.func private @train_step(tensor<4xf32>) -> tensor<4xf32>
}

// -----

// Parameters are fp32 masters.
// expected-error @below {{lower-to-plan: parameter 'w' must be an f32 tensor}}
func.func @train_step(%w: tensor<4xbf16> {mind.param = "w"}) -> (tensor<4xbf16> {mind.grad = "w"}) {
  return %w : tensor<4xbf16>
}

// -----

// A parameter more than gradient results.
// expected-error @below {{lower-to-plan: expects one gradient result per parameter}}
func.func @train_step(%w: tensor<4xf32> {mind.param = "w"}, %v: tensor<4xf32> {mind.param = "v"})
    -> (tensor<4xf32> {mind.grad = "w"}) {
  return %w : tensor<4xf32>
}

// -----

// A gradient result for a name that is no parameter, besides the parameter's
// own.
// expected-error @below {{lower-to-plan: expects one gradient result per parameter}}
func.func @train_step(%w: tensor<4xf32> {mind.param = "w"}, %x: tensor<4xf32> {mind.input = "x"})
    -> (tensor<4xf32> {mind.grad = "w"}, tensor<4xf32> {mind.grad = "x"}) {
  return %w, %x : tensor<4xf32>, tensor<4xf32>
}

// -----

// Gradients are matched to parameters by name, so a name may be used once.
// expected-error @below {{lower-to-plan: two gradient results for 'w'}}
func.func @train_step(%w: tensor<4xf32> {mind.param = "w"}, %v: tensor<4xf32> {mind.param = "v"})
    -> (tensor<4xf32> {mind.grad = "w"}, tensor<4xf32> {mind.grad = "w"}) {
  return %w, %v : tensor<4xf32>, tensor<4xf32>
}

// -----

// As many gradient results as parameters, but one names no parameter: 'v' has
// none.
// expected-error @below {{lower-to-plan: parameter 'v' has no gradient result (mind.grad = "v")}}
func.func @train_step(%w: tensor<4xf32> {mind.param = "w"}, %v: tensor<4xf32> {mind.param = "v"})
    -> (tensor<4xf32> {mind.grad = "w"}, tensor<4xf32> {mind.grad = "u"}) {
  return %w, %v : tensor<4xf32>, tensor<4xf32>
}

// -----

// expected-error @below {{lower-to-plan: argument #1 is neither a parameter nor an input}}
func.func @train_step(%x: tensor<4xf32> {mind.input = "x"}, %y: tensor<4xf32>) -> tensor<4xf32> {
  %s = mind.add %x, %y : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %s : tensor<4xf32>
}

// -----

// expected-error @below {{lower-to-plan: input 'x' has an unsupported type}}
func.func @train_step(%x: tensor<4xi8> {mind.input = "x"}) -> tensor<4xf32> {
  %f = mind.fill {value = 0.0 : f64} : () -> tensor<4xf32>
  return %f : tensor<4xf32>
}

// -----

// An f64 input has no runtime buffer either.
// expected-error @below {{lower-to-plan: input 'x' has an unsupported type}}
func.func @train_step(%x: tensor<4xf64> {mind.input = "x"}) -> tensor<4xf32> {
  %f = mind.fill {value = 0.0 : f64} : () -> tensor<4xf32>
  return %f : tensor<4xf32>
}

// -----

// An output is a buffer the host reads back: it cannot be an input's.
// expected-error @+1 {{lower-to-plan: output 'loss' must be computed by an op}}
func.func @train_step(%x: tensor<f32> {mind.input = "x"}) -> tensor<f32> {
  return %x : tensor<f32>
}

// -----

// expected-error @+1 {{lower-to-plan: output 'aux_loss' must be computed by an op}}
func.func @train_step(%x: tensor<f32> {mind.input = "x"}) -> (tensor<f32>, tensor<f32>) {
  %l = mind.silu %x : (tensor<f32>) -> tensor<f32>
  return %l, %x : tensor<f32>, tensor<f32>
}

// -----

// Outputs are named among the results that are not gradients: the third result
// is 'aux_loss'.
// expected-error @+1 {{lower-to-plan: output 'aux_loss' must be computed by an op}}
func.func @train_step(%w: tensor<f32> {mind.param = "w"}, %x: tensor<f32> {mind.input = "x"})
    -> (tensor<f32>, tensor<f32> {mind.grad = "w"}, tensor<f32>) {
  %l = mind.silu %x : (tensor<f32>) -> tensor<f32>
  return %l, %x, %x : tensor<f32>, tensor<f32>, tensor<f32>
}

// -----

// An f64 output has no buffer the host could read; the error is at its
// producer.
func.func @train_step(%x: tensor<4xf32> {mind.input = "x"}) -> tensor<4xf64> {
  // expected-error @+1 {{lower-to-plan: output 'loss' has an unsupported type 'tensor<4xf64>'}}
  %d = mind.cast %x : (tensor<4xf32>) -> tensor<4xf64>
  return %d : tensor<4xf64>
}

// -----

// The third output is 'loss2'.
func.func @train_step(%x: tensor<4xf32> {mind.input = "x"}) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf64>) {
  %a = mind.silu %x : (tensor<4xf32>) -> tensor<4xf32>
  %b = mind.silu %a : (tensor<4xf32>) -> tensor<4xf32>
  // expected-error @+1 {{lower-to-plan: output 'loss2' has an unsupported type 'tensor<4xf64>'}}
  %d = mind.cast %x : (tensor<4xf32>) -> tensor<4xf64>
  return %a, %b, %d : tensor<4xf32>, tensor<4xf32>, tensor<4xf64>
}

// -----

// A gradient must be a float tensor of its parameter's shape.
// expected-error @below {{lower-to-plan: the gradient of 'w' is 'tensor<4xi64>', its parameter 'tensor<4xf32>' (a float gradient of the same shape)}}
func.func @train_step(%w: tensor<4xf32> {mind.param = "w"}, %g: tensor<4xi64> {mind.input = "g"})
    -> (tensor<4xi64> {mind.grad = "w"}) {
  return %g : tensor<4xi64>
}

//===----------------------------------------------------------------------===//
// Ops without a lowering
//===----------------------------------------------------------------------===//

// -----

func.func private @helper(tensor<4xf32>) -> tensor<4xf32>
func.func @train_step(%x: tensor<4xf32> {mind.input = "x"}) -> tensor<4xf32> {
  // expected-error @+1 {{'func.call' op lower-to-plan: no GPU lowering for this op yet}}
  %y = func.call @helper(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// Result types are checked before the op's lowering is looked up.
func.func private @helper(tensor<4xf32>) -> tensor<4xi8>
func.func @train_step(%x: tensor<4xf32> {mind.input = "x"}) -> tensor<4xf32> {
  // expected-error @+1 {{'func.call' op lower-to-plan: element type 'i8' has no GPU lowering}}
  %y = func.call @helper(%x) : (tensor<4xf32>) -> tensor<4xi8>
  %z = mind.silu %x : (tensor<4xf32>) -> tensor<4xf32>
  return %z : tensor<4xf32>
}

// -----

// An f64 result has no buffer: the op is refused before its lowering runs.
func.func @train_step(%x: tensor<4xf32> {mind.input = "x"}) -> tensor<4xf32> {
  // expected-error @+1 {{'mind.fill' op lower-to-plan: element type 'f64' has no GPU lowering}}
  %d = mind.fill {value = 0.0 : f64} : () -> tensor<4xf64>
  %z = mind.silu %x : (tensor<4xf32>) -> tensor<4xf32>
  return %z : tensor<4xf32>
}

// -----

// The same for an op whose kernel would be emitted (the emitter is not
// reached).
func.func @train_step(%x: tensor<4xf32> {mind.input = "x"}) -> tensor<4xf32> {
  // expected-error @+1 {{'mind.cast' op lower-to-plan: element type 'f64' has no GPU lowering}}
  %d = mind.cast %x : (tensor<4xf32>) -> tensor<4xf64>
  %z = mind.silu %x : (tensor<4xf32>) -> tensor<4xf32>
  return %z : tensor<4xf32>
}

// -----

// RMSNorm's weight gradient is computed in f32 only (for an f32 master).
func.func @train_step(%x: tensor<4x64xbf16> {mind.input = "x"}, %w: tensor<64xbf16> {mind.input = "w"},
                      %dy: tensor<4x64xbf16> {mind.input = "dy"}) -> (tensor<4x64xbf16>, tensor<64xbf16>) {
  // expected-error @+1 {{'mind.rmsnorm_grad' op lower-to-plan: the weight gradient must be f32 (an f32 master weight)}}
  %dx, %dw = mind.rmsnorm_grad %x, %w, %dy {epsilon = 1.0e-05 : f64}
      : (tensor<4x64xbf16>, tensor<64xbf16>, tensor<4x64xbf16>) -> (tensor<4x64xbf16>, tensor<64xbf16>)
  return %dx, %dw : tensor<4x64xbf16>, tensor<64xbf16>
}

//===----------------------------------------------------------------------===//
// Launch rules
//===----------------------------------------------------------------------===//

// -----

func.func @train_step(%q: tensor<1x8x2x8xf32> {mind.input = "q"}) -> tensor<1x8x2x8xf32> {
  // expected-error @+1 {{'mind.attention' op lower-to-plan: attention: head dim must be 16, 32, 64, 96 or 128, got 8}}
  %o, %lse = mind.attention %q, %q, %q {scale = 0.5 : f64}
      : (tensor<1x8x2x8xf32>, tensor<1x8x2x8xf32>, tensor<1x8x2x8xf32>) -> (tensor<1x8x2x8xf32>, tensor<1x2x8xf32>)
  return %o : tensor<1x8x2x8xf32>
}

// -----

func.func @train_step(%q: tensor<1x8x2x48xbf16> {mind.input = "q"}, %o: tensor<1x8x2x48xbf16> {mind.input = "o"},
                      %lse: tensor<1x2x8xf32> {mind.input = "lse"})
    -> (tensor<1x8x2x48xbf16>, tensor<1x8x2x48xbf16>, tensor<1x8x2x48xbf16>) {
  // expected-error @+1 {{'mind.attention_grad' op lower-to-plan: attention: head dim must be 16, 32, 64, 96 or 128, got 48}}
  %dq, %dk, %dv = mind.attention_grad %q, %q, %q, %o, %lse, %o {scale = 0.5 : f64}
      : (tensor<1x8x2x48xbf16>, tensor<1x8x2x48xbf16>, tensor<1x8x2x48xbf16>,
         tensor<1x8x2x48xbf16>, tensor<1x2x8xf32>, tensor<1x8x2x48xbf16>)
      -> (tensor<1x8x2x48xbf16>, tensor<1x8x2x48xbf16>, tensor<1x8x2x48xbf16>)
  return %dq, %dk, %dv : tensor<1x8x2x48xbf16>, tensor<1x8x2x48xbf16>, tensor<1x8x2x48xbf16>
}

// -----

func.func @train_step(%idx: tensor<4x1xi64> {mind.input = "idx"}) -> tensor<301xi64> {
  // expected-error @+1 {{'mind.moe_route' op lower-to-plan: moe_route: num_experts = 300 must be in [1, 256]}}
  %perm, %offsets = mind.moe_route %idx {num_experts = 300 : i64}
      : (tensor<4x1xi64>) -> (tensor<4xi64>, tensor<301xi64>)
  return %offsets : tensor<301xi64>
}

// -----

func.func @train_step(%x: tensor<1x2x1x2x1xf32> {mind.input = "x"}) -> tensor<1x1x2x2x1xf32> {
  // expected-error @+1 {{'mind.transpose' op lower-to-plan: transpose: rank must be <= 4 and match the permutation}}
  %t = mind.transpose %x {permutation = array<i64: 0, 2, 1, 3, 4>} : (tensor<1x2x1x2x1xf32>) -> tensor<1x1x2x2x1xf32>
  return %t : tensor<1x1x2x2x1xf32>
}

// -----

// One fp32 dw row per warp must fit in shared memory.
func.func @train_step(%x: tensor<2x60000xf32> {mind.input = "x"}, %w: tensor<60000xf32> {mind.input = "w"})
    -> (tensor<2x60000xf32>, tensor<60000xf32>) {
  // expected-error @+1 {{'mind.rmsnorm_grad' op lower-to-plan: rmsnorm_grad: hidden size 60000 unsupported}}
  %dx, %dw = mind.rmsnorm_grad %x, %w, %x {epsilon = 1.0e-05 : f64}
      : (tensor<2x60000xf32>, tensor<60000xf32>, tensor<2x60000xf32>) -> (tensor<2x60000xf32>, tensor<60000xf32>)
  return %dx, %dw : tensor<2x60000xf32>, tensor<60000xf32>
}

//===----------------------------------------------------------------------===//
// Launches the kernel's signature rejects
//===----------------------------------------------------------------------===//

// -----

// The cross entropy kernels read an i64 mask.
func.func @train_step(%logits: tensor<6x50xf32> {mind.input = "logits"}, %t: tensor<6xi64> {mind.input = "targets"},
                      %mask: tensor<6xbf16> {mind.input = "mask"}) -> tensor<f32> {
  // expected-error @+1 {{'mind.cross_entropy' op lower-to-plan: mind::cross_entropy_fwd<float>: argument 2 (in I64 mask) is given a BF16 buffer}}
  %l = mind.cross_entropy %logits, %t, %mask : (tensor<6x50xf32>, tensor<6xi64>, tensor<6xbf16>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// A float mask is refused the same way.
func.func @train_step(%logits: tensor<6x50xf32> {mind.input = "logits"}, %t: tensor<6xi64> {mind.input = "targets"},
                      %mask: tensor<6xf32> {mind.input = "mask"}) -> tensor<f32> {
  // expected-error @+1 {{'mind.cross_entropy' op lower-to-plan: mind::cross_entropy_fwd<float>: argument 2 (in I64 mask) is given a F32 buffer}}
  %l = mind.cross_entropy %logits, %t, %mask : (tensor<6x50xf32>, tensor<6xi64>, tensor<6xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// The embedding kernels read i64 ids.
func.func @train_step(%table: tensor<10x4xf32> {mind.input = "table"}, %ids: tensor<3xi32> {mind.input = "ids"})
    -> tensor<3x4xf32> {
  // expected-error @+1 {{'mind.embedding' op lower-to-plan: mind::embedding_fwd<float>: argument 1 (in I64 ids) is given a I32 buffer}}
  %h = mind.embedding %table, %ids : (tensor<10x4xf32>, tensor<3xi32>) -> tensor<3x4xf32>
  return %h : tensor<3x4xf32>
}

// -----

// The gradient's first launch reads i64 ids as well.
func.func @train_step(%dh: tensor<3x4xf32> {mind.input = "dh"}, %ids: tensor<3xi32> {mind.input = "ids"})
    -> tensor<10x4xf32> {
  // expected-error @+1 {{'mind.embedding_grad' op lower-to-plan: mind::embedding_grad_runs<float>: argument 1 (in I64 ids) is given a I32 buffer}}
  %dt = mind.embedding_grad %dh, %ids {vocab_size = 10 : i64} : (tensor<3x4xf32>, tensor<3xi32>) -> tensor<10x4xf32>
  return %dt : tensor<10x4xf32>
}

// -----

// The reduce writes an f32 table gradient, so a bf16 embedding_grad (whose
// result has the bf16 type of its operand) has no kernel.
func.func @train_step(%dh: tensor<3x4xbf16> {mind.input = "dh"}, %ids: tensor<3xi64> {mind.input = "ids"})
    -> tensor<10x4xbf16> {
  // expected-error @+1 {{'mind.embedding_grad' op lower-to-plan: mind::embedding_grad_reduce: argument 3 (out F32 dtable) is given a BF16 buffer}}
  %dt = mind.embedding_grad %dh, %ids {vocab_size = 10 : i64} : (tensor<3x4xbf16>, tensor<3xi64>) -> tensor<10x4xbf16>
  return %dt : tensor<10x4xbf16>
}

// -----

// The same for a gradient of another shape.
// expected-error @below {{lower-to-plan: the gradient of 'w' is 'tensor<8xf32>', its parameter 'tensor<4xf32>' (a float gradient of the same shape)}}
func.func @train_step(%w: tensor<4xf32> {mind.param = "w"}, %g: tensor<8xf32> {mind.input = "g"})
    -> (tensor<8xf32> {mind.grad = "w"}) {
  return %g : tensor<8xf32>
}

// -----

// Weight copies (mind-weight-copies) are bf16 or f16 ...
// expected-error @below {{lower-to-plan: weight copies must all be bf16 or all f16, 'w' is 'tensor<4xf32>'}}
func.func @train_step(%w: tensor<4xf32> {mind.param = "w"}, %c: tensor<4xf32> {mind.param_copy = "w"})
    -> (tensor<4xf32> {mind.grad = "w"}) {
  return %w : tensor<4xf32>
}

// -----

// ... of one type ...
// expected-error @below {{lower-to-plan: weight copies must all be bf16 or all f16, 'v' is 'tensor<4xf16>'}}
func.func @train_step(%w: tensor<4xf32> {mind.param = "w"}, %v: tensor<4xf32> {mind.param = "v"},
                      %cw: tensor<4xbf16> {mind.param_copy = "w"}, %cv: tensor<4xf16> {mind.param_copy = "v"})
    -> (tensor<4xf32> {mind.grad = "w"}, tensor<4xf32> {mind.grad = "v"}) {
  return %w, %v : tensor<4xf32>, tensor<4xf32>
}

// -----

// ... and copy a parameter of their shape.
// expected-error @below {{lower-to-plan: 'w' has a weight copy but no parameter of its shape}}
func.func @train_step(%w: tensor<4xf32> {mind.param = "w"}, %c: tensor<8xbf16> {mind.param_copy = "w"})
    -> (tensor<4xf32> {mind.grad = "w"}) {
  return %w : tensor<4xf32>
}
