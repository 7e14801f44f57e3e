// RUN: mind-opt %s -split-input-file -mind-fuse-attention-rope | FileCheck %s

// The attention backward whose dq and dk are each rotated back by one
// inverse rope with the same tables: one attention_grad_rope; dv as before.
// CHECK-LABEL: func.func @fused(
// CHECK-NEXT: %[[DQ:.*]], %[[DK:.*]], %[[DV:.*]] = mind.attention_grad_rope %arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %arg6, %arg7 {scale = 2.500000e-01 : f64} : (tensor<1x8x4x16xbf16>, tensor<1x8x2x16xbf16>, tensor<1x8x2x16xbf16>, tensor<1x8x4x16xbf16>, tensor<1x4x8xf32>, tensor<1x8x4x16xbf16>, tensor<8x16xf32>, tensor<8x16xf32>) -> (tensor<1x8x4x16xbf16>, tensor<1x8x2x16xbf16>, tensor<1x8x2x16xbf16>)
// CHECK-NEXT: return %[[DQ]], %[[DK]], %[[DV]]
func.func @fused(%q: tensor<1x8x4x16xbf16>, %k: tensor<1x8x2x16xbf16>, %v: tensor<1x8x2x16xbf16>,
                 %o: tensor<1x8x4x16xbf16>, %lse: tensor<1x4x8xf32>, %do: tensor<1x8x4x16xbf16>,
                 %cos: tensor<8x16xf32>, %sin: tensor<8x16xf32>)
    -> (tensor<1x8x4x16xbf16>, tensor<1x8x2x16xbf16>, tensor<1x8x2x16xbf16>) {
  %dq, %dk, %dv = mind.attention_grad %q, %k, %v, %o, %lse, %do {scale = 0.25 : f64}
      : (tensor<1x8x4x16xbf16>, tensor<1x8x2x16xbf16>, tensor<1x8x2x16xbf16>,
         tensor<1x8x4x16xbf16>, tensor<1x4x8xf32>, tensor<1x8x4x16xbf16>)
      -> (tensor<1x8x4x16xbf16>, tensor<1x8x2x16xbf16>, tensor<1x8x2x16xbf16>)
  %rk = mind.rope %dk, %cos, %sin {inverse = true} : (tensor<1x8x2x16xbf16>, tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<1x8x2x16xbf16>
  %rq = mind.rope %dq, %cos, %sin {inverse = true} : (tensor<1x8x4x16xbf16>, tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<1x8x4x16xbf16>
  return %rq, %rk, %dv : tensor<1x8x4x16xbf16>, tensor<1x8x2x16xbf16>, tensor<1x8x2x16xbf16>
}

// -----

// Left alone: dq also read unrotated; a forward (not inverse) rope; tables
// that differ between dq and dk; f32 attention (its kernels do not rotate).
// CHECK-LABEL: func.func @kept(
// CHECK-NOT: attention_grad_rope
// CHECK: return
func.func @kept(%q: tensor<1x8x4x16xbf16>, %k: tensor<1x8x2x16xbf16>, %v: tensor<1x8x2x16xbf16>,
                %o: tensor<1x8x4x16xbf16>, %lse: tensor<1x4x8xf32>, %do: tensor<1x8x4x16xbf16>,
                %cos: tensor<8x16xf32>, %sin: tensor<8x16xf32>, %sin2: tensor<8x16xf32>,
                %qf: tensor<1x8x4x16xf32>, %kf: tensor<1x8x2x16xf32>, %of: tensor<1x8x4x16xf32>)
    -> (tensor<1x8x4x16xbf16>, tensor<1x8x4x16xbf16>, tensor<1x8x2x16xbf16>,
        tensor<1x8x4x16xbf16>, tensor<1x8x2x16xbf16>, tensor<1x8x2x16xbf16>,
        tensor<1x8x2x16xbf16>, tensor<1x8x4x16xf32>, tensor<1x8x2x16xf32>) {
  %dq, %dk, %dv = mind.attention_grad %q, %k, %v, %o, %lse, %do {scale = 0.25 : f64}
      : (tensor<1x8x4x16xbf16>, tensor<1x8x2x16xbf16>, tensor<1x8x2x16xbf16>,
         tensor<1x8x4x16xbf16>, tensor<1x4x8xf32>, tensor<1x8x4x16xbf16>)
      -> (tensor<1x8x4x16xbf16>, tensor<1x8x2x16xbf16>, tensor<1x8x2x16xbf16>)
  %rq = mind.rope %dq, %cos, %sin {inverse = true} : (tensor<1x8x4x16xbf16>, tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<1x8x4x16xbf16>
  %rk = mind.rope %dk, %cos, %sin {inverse = true} : (tensor<1x8x2x16xbf16>, tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<1x8x2x16xbf16>
  %dq2, %dk2, %dv2 = mind.attention_grad %q, %k, %v, %o, %lse, %do {scale = 0.25 : f64}
      : (tensor<1x8x4x16xbf16>, tensor<1x8x2x16xbf16>, tensor<1x8x2x16xbf16>,
         tensor<1x8x4x16xbf16>, tensor<1x4x8xf32>, tensor<1x8x4x16xbf16>)
      -> (tensor<1x8x4x16xbf16>, tensor<1x8x2x16xbf16>, tensor<1x8x2x16xbf16>)
  %rq2 = mind.rope %dq2, %cos, %sin : (tensor<1x8x4x16xbf16>, tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<1x8x4x16xbf16>
  %rk2 = mind.rope %dk2, %cos, %sin2 {inverse = true} : (tensor<1x8x2x16xbf16>, tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<1x8x2x16xbf16>
  %dq3, %dk3, %dv3 = mind.attention_grad %qf, %kf, %kf, %of, %lse, %of {scale = 0.25 : f64}
      : (tensor<1x8x4x16xf32>, tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>,
         tensor<1x8x4x16xf32>, tensor<1x4x8xf32>, tensor<1x8x4x16xf32>)
      -> (tensor<1x8x4x16xf32>, tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>)
  %rq3 = mind.rope %dq3, %cos, %sin {inverse = true} : (tensor<1x8x4x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<1x8x4x16xf32>
  %rk3 = mind.rope %dk3, %cos, %sin {inverse = true} : (tensor<1x8x2x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<1x8x2x16xf32>
  return %rq, %dq, %rk, %rq2, %rk2, %dv, %dv2, %rq3, %rk3
      : tensor<1x8x4x16xbf16>, tensor<1x8x4x16xbf16>, tensor<1x8x2x16xbf16>,
        tensor<1x8x4x16xbf16>, tensor<1x8x2x16xbf16>, tensor<1x8x2x16xbf16>,
        tensor<1x8x2x16xbf16>, tensor<1x8x4x16xf32>, tensor<1x8x2x16xf32>
}
