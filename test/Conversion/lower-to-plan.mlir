// RUN: mind-opt %s -split-input-file -mind-lower-to-plan | FileCheck %s

// The driver of mind-lower-to-plan (LowerToPlan.cpp): how @train_step's
// arguments and results become persistent buffers, reshapes, and how
// gradients reach their accumulators. The per-op launches are tested per
// family (gemm.mlir, elementwise.mlir, ...).

// Buffers: parameters first in argument order (fp32 masters, named by
// mind.param), then one fp32 accumulator per parameter in the same order,
// named "<param>.grad", then the inputs in argument order, then the results
// that are not gradients ("loss", "aux_loss"). Everything else is an
// activation named "%<n>", or a workspace named after its use. Every buffer
// comes before the first step, in the order the lowering created it. Unmarked
// gradients are added to their accumulators after the backward, in parameter
// order.
// CHECK-LABEL: plan.micro_step @train_step {
// CHECK-NEXT: %[[E:.*]] = plan.buffer param "model.embed_tokens.weight" : memref<10x4xf32>
// CHECK-NEXT: %[[W:.*]] = plan.buffer param "model.norm.weight" : memref<4xf32>
// CHECK-NEXT: %[[GE:.*]] = plan.buffer grad "model.embed_tokens.weight.grad" : memref<10x4xf32>
// CHECK-NEXT: %[[GW:.*]] = plan.buffer grad "model.norm.weight.grad" : memref<4xf32>
// CHECK-NEXT: %[[IDS:.*]] = plan.buffer input "ids" : memref<3xi64>
// CHECK-NEXT: %[[MASK:.*]] = plan.buffer input "mask" : memref<3xi64>
// CHECK-NEXT: %[[GS:.*]] = plan.buffer input "grad_scale" : memref<f32>
// CHECK-NEXT: %[[LOSS:.*]] = plan.buffer output "loss" : memref<f32>
// CHECK-NEXT: %[[AUX:.*]] = plan.buffer output "aux_loss" : memref<f32>
// CHECK-NEXT: %[[H:.*]] = plan.buffer activation "%0" : memref<3x4xf32>
// CHECK-NEXT: %[[N:.*]] = plan.buffer activation "%1" : memref<3x4xf32>
// CHECK-NEXT: %[[LOGITS:.*]] = plan.buffer activation "%2" : memref<3x10xf32>
// CHECK-NEXT: %[[ROW:.*]] = plan.buffer activation "ce_row_loss.3" : memref<3xf32>
// CHECK-NEXT: %[[ROW2:.*]] = plan.buffer activation "ce_row_loss.4" : memref<3xf32>
// CHECK-NEXT: %[[DE:.*]] = plan.buffer activation "%5" : memref<10x4xf32>
// CHECK-NEXT: %[[DW:.*]] = plan.buffer activation "%6" : memref<4xf32>
// CHECK-NEXT: plan.kernel "mind::embedding_fwd<float>"(%[[E]], %[[IDS]], %[[H]],
// CHECK-NEXT: plan.kernel "mind::rmsnorm_fwd<float, float>"(%[[H]], %[[W]], %[[N]],
// CHECK-NEXT: plan.gemm %[[N]], %[[E]] -> %[[LOGITS]]
// CHECK-NEXT: plan.kernel "mind::cross_entropy_fwd<float>"(%[[LOGITS]], %[[IDS]], %[[MASK]], %[[ROW]],
// CHECK-NEXT: plan.kernel "mind::cross_entropy_finalize"(%[[ROW]], %[[MASK]], %[[LOSS]],
// CHECK-NEXT: plan.kernel "mind::cross_entropy_fwd<float>"(%[[N]], %[[IDS]], %[[MASK]], %[[ROW2]],
// CHECK-NEXT: plan.kernel "mind::cross_entropy_finalize"(%[[ROW2]], %[[MASK]], %[[AUX]],
// CHECK-NEXT: plan.kernel "mind::fill_fwd<float>"(%[[DE]], 40 : i64, 0.000000e+00 : f32)
// CHECK-NEXT: plan.kernel "mind::fill_fwd<float>"(%[[DW]], 4 : i64, 0.000000e+00 : f32)
// CHECK-NEXT: plan.kernel "mind::accumulate_f32<float>"(%[[GE]], %[[DE]], 40 : i64) grid [1, 1, 1] block [256, 1, 1] {source = "mind.fill"} : memref<10x4xf32>, memref<10x4xf32>{{$}}
// CHECK-NEXT: plan.kernel "mind::accumulate_f32<float>"(%[[GW]], %[[DW]], 4 : i64) grid [1, 1, 1] block [256, 1, 1] {source = "mind.fill"} : memref<4xf32>, memref<4xf32>{{$}}
// CHECK-NEXT: {{^ *}$}}
// CHECK-NOT: func.func
func.func @train_step(%ids: tensor<3xi64> {mind.input = "ids"},
                      %e: tensor<10x4xf32> {mind.param = "model.embed_tokens.weight"},
                      %mask: tensor<3xi64> {mind.input = "mask"},
                      %w: tensor<4xf32> {mind.param = "model.norm.weight"},
                      %gs: tensor<f32> {mind.input = "grad_scale"})
    -> (tensor<f32>, tensor<f32>, tensor<10x4xf32> {mind.grad = "model.embed_tokens.weight"},
        tensor<4xf32> {mind.grad = "model.norm.weight"}) {
  %h = mind.embedding %e, %ids : (tensor<10x4xf32>, tensor<3xi64>) -> tensor<3x4xf32>
  %n = mind.rmsnorm %h, %w {epsilon = 1.0e-05 : f64} : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  %logits = mind.linear %n, %e : (tensor<3x4xf32>, tensor<10x4xf32>) -> tensor<3x10xf32>
  %loss = mind.cross_entropy %logits, %ids, %mask : (tensor<3x10xf32>, tensor<3xi64>, tensor<3xi64>) -> tensor<f32>
  %aux = mind.cross_entropy %n, %ids, %mask : (tensor<3x4xf32>, tensor<3xi64>, tensor<3xi64>) -> tensor<f32>
  %de = mind.fill {value = 0.0 : f64} : () -> tensor<10x4xf32>
  %dw = mind.fill {value = 0.0 : f64} : () -> tensor<4xf32>
  return %loss, %aux, %de, %dw : tensor<f32>, tensor<f32>, tensor<10x4xf32>, tensor<4xf32>
}

// -----

// A reshape is its operand's buffer under another shape: the linear reads
// the [2, 3, 4] input directly, the silu reads the GEMM's [6, 5] result, and
// the weight gradient GEMM reads dy and x (k = 6 rows). That gradient is not
// marked, so it goes to an activation and is accumulated.
// CHECK-LABEL: plan.micro_step @train_step {
// CHECK-NEXT: %[[W:.*]] = plan.buffer param "w" : memref<5x4xf32>
// CHECK-NEXT: %[[GW:.*]] = plan.buffer grad "w.grad" : memref<5x4xf32>
// CHECK-NEXT: %[[X:.*]] = plan.buffer input "x" : memref<2x3x4xf32>
// CHECK-NEXT: %[[DY:.*]] = plan.buffer input "dy" : memref<2x3x5xf32>
// CHECK-NEXT: %[[OUT:.*]] = plan.buffer output "loss" : memref<2x3x5xf32>
// CHECK-NEXT: %[[Y2:.*]] = plan.buffer activation "%0" : memref<6x5xf32>
// CHECK-NEXT: %[[DW:.*]] = plan.buffer activation "%1" : memref<5x4xf32>
// CHECK-NEXT: plan.gemm %[[X]], %[[W]] -> %[[Y2]] {k = 4 : i64, m = 6 : i64, n = 5 : i64, source = "mind.linear", trans_b} : memref<2x3x4xf32>, memref<5x4xf32> -> memref<6x5xf32>{{$}}
// CHECK-NEXT: plan.emitted_kernel @[[SILU:mind_ew_silu_[0-9a-f]+]]
// CHECK-NEXT: plan.kernel "[[SILU]]"(%[[Y2]], %[[OUT]], 30 : i64) {{.*}} : memref<6x5xf32>, memref<2x3x5xf32>{{$}}
// CHECK-NEXT: plan.gemm %[[DY]], %[[X]] -> %[[DW]] {k = 6 : i64, m = 5 : i64, n = 4 : i64, source = "mind.matmul", trans_a} : memref<2x3x5xf32>, memref<2x3x4xf32> -> memref<5x4xf32>{{$}}
// CHECK-NEXT: plan.kernel "mind::accumulate_f32<float>"(%[[GW]], %[[DW]], 20 : i64) grid [1, 1, 1] block [256, 1, 1] {source = "mind.matmul"}
// CHECK-NEXT: {{^ *}$}}
func.func @train_step(%x: tensor<2x3x4xf32> {mind.input = "x"}, %w: tensor<5x4xf32> {mind.param = "w"},
                      %dy: tensor<2x3x5xf32> {mind.input = "dy"})
    -> (tensor<2x3x5xf32>, tensor<5x4xf32> {mind.grad = "w"}) {
  %x2 = mind.reshape %x : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
  %y2 = mind.linear %x2, %w : (tensor<6x4xf32>, tensor<5x4xf32>) -> tensor<6x5xf32>
  %y = mind.reshape %y2 : (tensor<6x5xf32>) -> tensor<2x3x5xf32>
  %s = mind.silu %y : (tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %dy2 = mind.reshape %dy : (tensor<2x3x5xf32>) -> tensor<6x5xf32>
  %dw = mind.matmul %dy2, %x2 {transpose_lhs = true} : (tensor<6x5xf32>, tensor<6x4xf32>) -> tensor<5x4xf32>
  return %s, %dw : tensor<2x3x5xf32>, tensor<5x4xf32>
}

// -----

// Without marks every returned gradient is accumulated whole: a sum is
// computed (emitted add) and then added; a bf16 gradient is added by
// accumulate_f32<__nv_bfloat16>; a gradient that is an input is added from
// the input's buffer (the launch has no source op).
// CHECK-LABEL: plan.micro_step @train_step {
// CHECK-NEXT: plan.buffer param "w" : memref<5x4xf32>
// CHECK-NEXT: plan.buffer param "v" : memref<4xf32>
// CHECK-NEXT: plan.buffer param "u" : memref<4xf32>
// CHECK-NEXT: %[[GW:.*]] = plan.buffer grad "w.grad" : memref<5x4xf32>
// CHECK-NEXT: %[[GV:.*]] = plan.buffer grad "v.grad" : memref<4xf32>
// CHECK-NEXT: %[[GU:.*]] = plan.buffer grad "u.grad" : memref<4xf32>
// CHECK-NEXT: %[[DY:.*]] = plan.buffer input "dy" : memref<3x5xf32>
// CHECK-NEXT: %[[H:.*]] = plan.buffer input "h" : memref<3x4xf32>
// CHECK-NEXT: %[[G:.*]] = plan.buffer input "g" : memref<4xf32>
// CHECK-NEXT: %[[D1:.*]] = plan.buffer activation "%0" : memref<5x4xf32>
// CHECK-NEXT: %[[D2:.*]] = plan.buffer activation "%1" : memref<5x4xf32>
// CHECK-NEXT: %[[SUM:.*]] = plan.buffer activation "%2" : memref<5x4xf32>
// CHECK-NEXT: %[[GB:.*]] = plan.buffer activation "%3" : memref<4xbf16>
// CHECK-NEXT: plan.gemm %[[DY]], %[[H]] -> %[[D1]] {k = 3 : i64, m = 5 : i64, n = 4 : i64, source = "mind.matmul", trans_a}
// CHECK-NEXT: plan.gemm %[[DY]], %[[H]] -> %[[D2]] {k = 3 : i64, m = 5 : i64, n = 4 : i64, source = "mind.matmul", trans_a}
// CHECK-NEXT: plan.emitted_kernel @[[ADD:mind_ew_add_[0-9a-f]+]]
// CHECK-NEXT: plan.kernel "[[ADD]]"(%[[D1]], %[[D2]], %[[SUM]], 20 : i64)
// CHECK-NEXT: plan.emitted_kernel @[[CAST:mind_ew_cast_[0-9a-f]+]]
// CHECK-NEXT: plan.kernel "[[CAST]]"(%[[G]], %[[GB]], 4 : i64)
// CHECK-NEXT: plan.kernel "mind::accumulate_f32<float>"(%[[GW]], %[[SUM]], 20 : i64) grid [1, 1, 1] block [256, 1, 1] {source = "mind.add"} : memref<5x4xf32>, memref<5x4xf32>{{$}}
// CHECK-NEXT: plan.kernel "mind::accumulate_f32<__nv_bfloat16>"(%[[GV]], %[[GB]], 4 : i64) grid [1, 1, 1] block [256, 1, 1] {source = "mind.cast"} : memref<4xf32>, memref<4xbf16>{{$}}
// CHECK-NEXT: plan.kernel "mind::accumulate_f32<float>"(%[[GU]], %[[G]], 4 : i64) grid [1, 1, 1] block [256, 1, 1] : memref<4xf32>, memref<4xf32>{{$}}
// CHECK-NEXT: {{^ *}$}}
func.func @train_step(%w: tensor<5x4xf32> {mind.param = "w"}, %v: tensor<4xf32> {mind.param = "v"},
                      %u: tensor<4xf32> {mind.param = "u"}, %dy: tensor<3x5xf32> {mind.input = "dy"},
                      %h: tensor<3x4xf32> {mind.input = "h"}, %g: tensor<4xf32> {mind.input = "g"})
    -> (tensor<5x4xf32> {mind.grad = "w"}, tensor<4xbf16> {mind.grad = "v"}, tensor<4xf32> {mind.grad = "u"}) {
  %d1 = mind.matmul %dy, %h {transpose_lhs = true} : (tensor<3x5xf32>, tensor<3x4xf32>) -> tensor<5x4xf32>
  %d2 = mind.matmul %dy, %h {transpose_lhs = true} : (tensor<3x5xf32>, tensor<3x4xf32>) -> tensor<5x4xf32>
  %gw = mind.add %d1, %d2 : (tensor<5x4xf32>, tensor<5x4xf32>) -> tensor<5x4xf32>
  %gv = mind.cast %g : (tensor<4xf32>) -> tensor<4xbf16>
  return %gw, %gv, %g : tensor<5x4xf32>, tensor<4xbf16>, tensor<4xf32>
}

// -----

// Marked gradients (as mind-mark-gradient-sinks marks them): producers marked
// mind.accumulate_into write the accumulator themselves (GEMMs with beta = 1,
// the embedding gradient's reduce without a memset), and the marked sums and
// cast (mind.gradient_sink) are skipped. Only the unmarked leaves of a marked
// sum tree are accumulated, per parameter, left before right.
// CHECK-LABEL: plan.micro_step @train_step {
// CHECK-NEXT: plan.buffer param "embed" : memref<10x4xf32>
// CHECK-NEXT: plan.buffer param "w" : memref<5x4xf32>
// CHECK-NEXT: plan.buffer param "wb" : memref<5x4xf32>
// CHECK-NEXT: plan.buffer param "n" : memref<4xf32>
// CHECK-NEXT: %[[GE:.*]] = plan.buffer grad "embed.grad" : memref<10x4xf32>
// CHECK-NEXT: %[[GW:.*]] = plan.buffer grad "w.grad" : memref<5x4xf32>
// CHECK-NEXT: %[[GWB:.*]] = plan.buffer grad "wb.grad" : memref<5x4xf32>
// CHECK-NEXT: %[[GN:.*]] = plan.buffer grad "n.grad" : memref<4xf32>
// CHECK-NEXT: %[[DY:.*]] = plan.buffer input "dy" : memref<3x10xf32>
// CHECK-NEXT: %[[H:.*]] = plan.buffer input "h" : memref<3x4xf32>
// CHECK-NEXT: %[[IDS:.*]] = plan.buffer input "ids" : memref<3xi64>
// CHECK-NEXT: %[[DH:.*]] = plan.buffer input "dh" : memref<3x4xf32>
// CHECK-NEXT: %[[DYW:.*]] = plan.buffer input "dyw" : memref<3x5xf32>
// CHECK-NEXT: %[[WX:.*]] = plan.buffer input "wx" : memref<5x4xf32>
// CHECK-NEXT: %[[DYB:.*]] = plan.buffer input "dyb" : memref<3x5xbf16>
// CHECK-NEXT: %[[XB:.*]] = plan.buffer input "xb" : memref<3x4xbf16>
// CHECK-NEXT: %[[A:.*]] = plan.buffer input "a" : memref<4xf32>
// CHECK-NEXT: %[[B:.*]] = plan.buffer input "b" : memref<4xf32>
// CHECK-NEXT: %[[C:.*]] = plan.buffer input "c" : memref<4xf32>
// The embedding gradient's workspaces, the silu results; no activation for
// the marked producers.
// CHECK-NEXT: %[[PART:.*]] = plan.buffer activation "embedding_partial.0" : memref<256x4xf32>
// CHECK-NEXT: %[[RUNIDS:.*]] = plan.buffer activation "embedding_run_ids.1" : memref<256xi64>
// CHECK-NEXT: %[[RUNS:.*]] = plan.buffer activation "embedding_run_count.2" : memref<1xi64>
// CHECK-NEXT: %[[EXTRA:.*]] = plan.buffer activation "%3" : memref<5x4xf32>
// CHECK-NEXT: %[[X1:.*]] = plan.buffer activation "%4" : memref<4xf32>
// CHECK-NEXT: %[[X2:.*]] = plan.buffer activation "%5" : memref<4xf32>
// CHECK-NEXT: %[[X3:.*]] = plan.buffer activation "%6" : memref<4xf32>
// The tied embedding: both producers add into embed.grad (no memset).
// CHECK-NEXT: plan.gemm %[[DY]], %[[H]] -> %[[GE]] {beta = 1.000000e+00 : f32, k = 3 : i64, m = 10 : i64, n = 4 : i64, source = "mind.matmul", trans_a}
// CHECK-NEXT: plan.kernel "mind::embedding_grad_runs<float>"(%[[DH]], %[[IDS]], %[[PART]], %[[RUNIDS]], %[[RUNS]], 3 : i64, 4 : i64, 10 : i64)
// CHECK-NEXT: plan.kernel "mind::embedding_grad_reduce"(%[[PART]], %[[RUNIDS]], %[[RUNS]], %[[GE]], 1 : i64, 4 : i64, 10 : i64)
// w: the GEMM adds into w.grad, the silu result waits for the end.
// CHECK-NEXT: plan.gemm %[[DYW]], %[[H]] -> %[[GW]] {beta = 1.000000e+00 : f32, k = 3 : i64, m = 5 : i64, n = 4 : i64, source = "mind.matmul", trans_a}
// CHECK-NEXT: plan.emitted_kernel @[[SILU:mind_ew_silu_[0-9a-f]+]]
// CHECK-NEXT: plan.kernel "[[SILU]]"(%[[WX]], %[[EXTRA]], 20 : i64)
// wb: the bf16 GEMM writes f32 into wb.grad; its cast is skipped.
// CHECK-NEXT: plan.gemm %[[DYB]], %[[XB]] -> %[[GWB]] {beta = 1.000000e+00 : f32, k = 3 : i64, m = 5 : i64, n = 4 : i64, source = "mind.matmul", trans_a} : memref<3x5xbf16>, memref<3x4xbf16> -> memref<5x4xf32>{{$}}
// n: a sum of three silu results, both adds skipped.
// CHECK-NEXT: plan.kernel "[[SILU]]"(%[[A]], %[[X1]], 4 : i64)
// CHECK-NEXT: plan.kernel "[[SILU]]"(%[[B]], %[[X2]], 4 : i64)
// CHECK-NEXT: plan.kernel "[[SILU]]"(%[[C]], %[[X3]], 4 : i64)
// CHECK-NEXT: plan.kernel "mind::accumulate_f32<float>"(%[[GW]], %[[EXTRA]], 20 : i64) grid [1, 1, 1] block [256, 1, 1] {source = "mind.silu"}
// CHECK-NEXT: plan.kernel "mind::accumulate_f32<float>"(%[[GN]], %[[X1]], 4 : i64)
// CHECK-NEXT: plan.kernel "mind::accumulate_f32<float>"(%[[GN]], %[[X2]], 4 : i64)
// CHECK-NEXT: plan.kernel "mind::accumulate_f32<float>"(%[[GN]], %[[X3]], 4 : i64)
// CHECK-NEXT: {{^ *}$}}
func.func @train_step(%e: tensor<10x4xf32> {mind.param = "embed"}, %w: tensor<5x4xf32> {mind.param = "w"},
                      %wb: tensor<5x4xf32> {mind.param = "wb"}, %n: tensor<4xf32> {mind.param = "n"},
                      %dy: tensor<3x10xf32> {mind.input = "dy"}, %h: tensor<3x4xf32> {mind.input = "h"},
                      %ids: tensor<3xi64> {mind.input = "ids"}, %dh: tensor<3x4xf32> {mind.input = "dh"},
                      %dyw: tensor<3x5xf32> {mind.input = "dyw"}, %wx: tensor<5x4xf32> {mind.input = "wx"},
                      %dyb: tensor<3x5xbf16> {mind.input = "dyb"}, %xb: tensor<3x4xbf16> {mind.input = "xb"},
                      %a: tensor<4xf32> {mind.input = "a"}, %b: tensor<4xf32> {mind.input = "b"},
                      %c: tensor<4xf32> {mind.input = "c"})
    -> (tensor<10x4xf32> {mind.grad = "embed"}, tensor<5x4xf32> {mind.grad = "w"},
        tensor<5x4xf32> {mind.grad = "wb"}, tensor<4xf32> {mind.grad = "n"}) {
  %de1 = mind.matmul %dy, %h {transpose_lhs = true, mind.accumulate_into = ["embed"]}
      : (tensor<3x10xf32>, tensor<3x4xf32>) -> tensor<10x4xf32>
  %de2 = mind.embedding_grad %dh, %ids {vocab_size = 10 : i64, mind.accumulate_into = ["embed"]}
      : (tensor<3x4xf32>, tensor<3xi64>) -> tensor<10x4xf32>
  %ge = mind.add %de1, %de2 {mind.gradient_sink = "embed"} : (tensor<10x4xf32>, tensor<10x4xf32>) -> tensor<10x4xf32>
  %dw1 = mind.matmul %dyw, %h {transpose_lhs = true, mind.accumulate_into = ["w"]}
      : (tensor<3x5xf32>, tensor<3x4xf32>) -> tensor<5x4xf32>
  %extra = mind.silu %wx : (tensor<5x4xf32>) -> tensor<5x4xf32>
  %gw = mind.add %dw1, %extra {mind.gradient_sink = "w"} : (tensor<5x4xf32>, tensor<5x4xf32>) -> tensor<5x4xf32>
  %dwb = mind.matmul %dyb, %xb {transpose_lhs = true, mind.accumulate_into = ["wb"]}
      : (tensor<3x5xbf16>, tensor<3x4xbf16>) -> tensor<5x4xbf16>
  %gwb = mind.cast %dwb {mind.gradient_sink = "wb"} : (tensor<5x4xbf16>) -> tensor<5x4xf32>
  %x1 = mind.silu %a : (tensor<4xf32>) -> tensor<4xf32>
  %x2 = mind.silu %b : (tensor<4xf32>) -> tensor<4xf32>
  %x3 = mind.silu %c : (tensor<4xf32>) -> tensor<4xf32>
  %s = mind.add %x1, %x2 {mind.gradient_sink = "n"} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %gn = mind.add %s, %x3 {mind.gradient_sink = "n"} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %ge, %gw, %gwb, %gn : tensor<10x4xf32>, tensor<5x4xf32>, tensor<5x4xf32>, tensor<4xf32>
}

// -----

// Gradient results are matched to parameters by their mind.grad name, in any
// order and between the losses: the accumulators follow the parameters (w,
// then v), so do the accumulate launches, and the losses are named in order
// among the other results (loss, aux_loss, loss2).
// CHECK-LABEL: plan.micro_step @train_step {
// CHECK-NEXT: %[[W:.*]] = plan.buffer param "w" : memref<4xf32>
// CHECK-NEXT: %[[V:.*]] = plan.buffer param "v" : memref<2x4xf32>
// CHECK-NEXT: %[[GW:.*]] = plan.buffer grad "w.grad" : memref<4xf32>
// CHECK-NEXT: %[[GV:.*]] = plan.buffer grad "v.grad" : memref<2x4xf32>
// CHECK-NEXT: %[[X:.*]] = plan.buffer input "x" : memref<4xf32>
// CHECK-NEXT: %[[Y:.*]] = plan.buffer input "y" : memref<2x4xf32>
// CHECK-NEXT: %[[A:.*]] = plan.buffer output "loss" : memref<4xf32>
// CHECK-NEXT: %[[B:.*]] = plan.buffer output "aux_loss" : memref<2x4xf32>
// CHECK-NEXT: %[[C:.*]] = plan.buffer output "loss2" : memref<4xf32>
// CHECK-NEXT: %[[DV:.*]] = plan.buffer activation "%0" : memref<2x4xf32>
// CHECK-NEXT: %[[DW:.*]] = plan.buffer activation "%1" : memref<4xf32>
// CHECK-NEXT: plan.emitted_kernel @[[SILU:mind_ew_silu_[0-9a-f]+]]
// CHECK-NEXT: plan.kernel "[[SILU]]"(%[[X]], %[[A]], 4 : i64)
// CHECK-NEXT: plan.kernel "[[SILU]]"(%[[Y]], %[[B]], 8 : i64)
// CHECK-NEXT: plan.kernel "[[SILU]]"(%[[A]], %[[C]], 4 : i64)
// CHECK-NEXT: plan.kernel "[[SILU]]"(%[[B]], %[[DV]], 8 : i64)
// CHECK-NEXT: plan.kernel "[[SILU]]"(%[[C]], %[[DW]], 4 : i64)
// CHECK-NEXT: plan.kernel "mind::accumulate_f32<float>"(%[[GW]], %[[DW]], 4 : i64) grid [1, 1, 1] block [256, 1, 1] {source = "mind.silu"} : memref<4xf32>, memref<4xf32>{{$}}
// CHECK-NEXT: plan.kernel "mind::accumulate_f32<float>"(%[[GV]], %[[DV]], 8 : i64) grid [1, 1, 1] block [256, 1, 1] {source = "mind.silu"} : memref<2x4xf32>, memref<2x4xf32>{{$}}
// CHECK-NEXT: {{^ *}$}}
func.func @train_step(%w: tensor<4xf32> {mind.param = "w"}, %v: tensor<2x4xf32> {mind.param = "v"},
                      %x: tensor<4xf32> {mind.input = "x"}, %y: tensor<2x4xf32> {mind.input = "y"})
    -> (tensor<2x4xf32> {mind.grad = "v"}, tensor<4xf32>, tensor<4xf32> {mind.grad = "w"}, tensor<2x4xf32>,
        tensor<4xf32>) {
  %a = mind.silu %x : (tensor<4xf32>) -> tensor<4xf32>
  %b = mind.silu %y : (tensor<2x4xf32>) -> tensor<2x4xf32>
  %c = mind.silu %a : (tensor<4xf32>) -> tensor<4xf32>
  %gv = mind.silu %b : (tensor<2x4xf32>) -> tensor<2x4xf32>
  %gw = mind.silu %c : (tensor<4xf32>) -> tensor<4xf32>
  return %gv, %a, %gw, %b, %c : tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<2x4xf32>, tensor<4xf32>
}

// -----

// A returned reshape has the output's buffer: the value it reshapes is
// computed straight into it (the silu writing "aux_loss"), through a chain
// of reshapes too; where that value lives elsewhere (an input, another
// output) its bytes are copied by an identity mind::transpose_fwd.
// CHECK-LABEL: plan.micro_step @train_step {
// CHECK-NEXT: %[[X:.*]] = plan.buffer input "x" : memref<2x3xf32>
// CHECK-NEXT: %[[Y:.*]] = plan.buffer input "y" : memref<2x2xbf16>
// CHECK-NEXT: %[[R1:.*]] = plan.buffer output "loss" : memref<6xf32>
// CHECK-NEXT: %[[R2:.*]] = plan.buffer output "aux_loss" : memref<3x2xf32>
// CHECK-NEXT: %[[R3:.*]] = plan.buffer output "loss2" : memref<4xbf16>
// CHECK-NEXT: %[[T:.*]] = plan.buffer output "loss3" : memref<2x3xf32>
// CHECK-NEXT: %[[R4:.*]] = plan.buffer output "loss4" : memref<6xf32>
// CHECK-NEXT: plan.kernel "mind::transpose_fwd<float>"(%[[X]], %[[R1]], 6 : i64, 1 : i64, 1 : i64, 2 : i64, 3 : i64, 0 : i64, 0 : i64, 3 : i64, 1 : i64) grid [1, 1, 1] block [256, 1, 1] {source = "mind.reshape"} : memref<2x3xf32>, memref<6xf32>{{$}}
// CHECK-NEXT: plan.emitted_kernel @[[SILU:mind_ew_silu_[0-9a-f]+]]
// CHECK-NEXT: plan.kernel "[[SILU]]"(%[[X]], %[[R2]], 6 : i64) grid [1, 1, 1] block [256, 1, 1] {source = "mind.silu"} : memref<2x3xf32>, memref<3x2xf32>{{$}}
// CHECK-NEXT: plan.kernel "mind::transpose_fwd<__nv_bfloat16>"(%[[Y]], %[[R3]], 4 : i64, 1 : i64, 1 : i64, 2 : i64, 2 : i64, 0 : i64, 0 : i64, 2 : i64, 1 : i64) grid [1, 1, 1] block [256, 1, 1] {source = "mind.reshape"} : memref<2x2xbf16>, memref<4xbf16>{{$}}
// CHECK-NEXT: plan.kernel "[[SILU]]"(%[[X]], %[[T]], 6 : i64)
// CHECK-NEXT: plan.kernel "mind::transpose_fwd<float>"(%[[T]], %[[R4]], 6 : i64, 1 : i64, 1 : i64, 2 : i64, 3 : i64, 0 : i64, 0 : i64, 3 : i64, 1 : i64) grid [1, 1, 1] block [256, 1, 1] {source = "mind.reshape"} : memref<2x3xf32>, memref<6xf32>{{$}}
// CHECK-NEXT: {{^ *}$}}
func.func @train_step(%x: tensor<2x3xf32> {mind.input = "x"}, %y: tensor<2x2xbf16> {mind.input = "y"})
    -> (tensor<6xf32>, tensor<3x2xf32>, tensor<4xbf16>, tensor<2x3xf32>, tensor<6xf32>) {
  %r1 = mind.reshape %x : (tensor<2x3xf32>) -> tensor<6xf32>
  %s = mind.silu %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %r2 = mind.reshape %s : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %a = mind.reshape %y : (tensor<2x2xbf16>) -> tensor<1x4xbf16>
  %r3 = mind.reshape %a : (tensor<1x4xbf16>) -> tensor<4xbf16>
  %t = mind.silu %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %r4 = mind.reshape %t : (tensor<2x3xf32>) -> tensor<6xf32>
  return %r1, %r2, %r3, %t, %r4 : tensor<6xf32>, tensor<3x2xf32>, tensor<4xbf16>, tensor<2x3xf32>, tensor<6xf32>
}

// -----

// Weight copies (mind.param_copy, from mind-weight-copies): every parameter
// gets a param_copy buffer "<param>.copy" of the copies' type, in parameter
// order after the accumulators ("w" has no copy argument: its buffer is
// written by the optimizer and read by nobody); the GEMM reads the copy.
// CHECK-LABEL: plan.micro_step @train_step {
// CHECK-NEXT: %[[E:.*]] = plan.buffer param "e" : memref<10x4xf32>
// CHECK-NEXT: plan.buffer param "w" : memref<4xf32>
// CHECK-NEXT: plan.buffer grad "e.grad" : memref<10x4xf32>
// CHECK-NEXT: plan.buffer grad "w.grad" : memref<4xf32>
// CHECK-NEXT: %[[EC:.*]] = plan.buffer param_copy "e.copy" : memref<10x4xbf16>
// CHECK-NEXT: plan.buffer param_copy "w.copy" : memref<4xbf16>
// CHECK-NEXT: %[[X:.*]] = plan.buffer input "x" : memref<3x4xbf16>
// CHECK: plan.gemm %[[X]], %[[EC]] -> %{{.*}} {k = 4 : i64, m = 3 : i64, n = 10 : i64, source = "mind.linear", trans_b}
func.func @train_step(%e: tensor<10x4xf32> {mind.param = "e"},
                      %w: tensor<4xf32> {mind.param = "w"},
                      %x: tensor<3x4xbf16> {mind.input = "x"},
                      %ec: tensor<10x4xbf16> {mind.param_copy = "e"})
    -> (tensor<3x10xbf16>, tensor<10x4xf32> {mind.grad = "e"}, tensor<4xf32> {mind.grad = "w"}) {
  %y = mind.linear %x, %ec : (tensor<3x4xbf16>, tensor<10x4xbf16>) -> tensor<3x10xbf16>
  %de = mind.fill {value = 0.0 : f64} : () -> tensor<10x4xf32>
  %dw = mind.fill {value = 0.0 : f64} : () -> tensor<4xf32>
  return %y, %de, %dw : tensor<3x10xbf16>, tensor<10x4xf32>, tensor<4xf32>
}

// -----

// Other functions are left alone; @train_step is replaced by a micro-step of
// the same name.
// CHECK-LABEL: func.func @forward(
// CHECK-NEXT: return
// CHECK-NEXT: }
// CHECK-NEXT: plan.micro_step @train_step {
// CHECK-NOT: func.func
func.func @forward(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
func.func @train_step(%x: tensor<4xf32> {mind.input = "x"}) -> tensor<4xf32> {
  %y = mind.silu %x : (tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}
