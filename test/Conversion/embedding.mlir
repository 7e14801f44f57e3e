// RUN: mind-opt %s -split-input-file -mind-lower-to-plan | FileCheck %s

// The embedding family (LowerEmbedding.cpp): the gather is one launch of
// mind::embedding_fwd<T>(table, ids, out, tokens, hidden, vocab), a block per
// token; the gradient is a deterministic scatter-add in two launches,
// embedding_grad_runs<T> (per chunk of 256 tokens, into the workspaces
// partial f32 [chunks * 256, H], run_ids i64 [chunks * 256], run_count i64
// [chunks]) then embedding_grad_reduce, which ADDS into the f32 table
// gradient (a block per vocabulary row, at most 65536).

// bf16 rows of 64 elements (128 bytes: 8 chunks of 16 bytes, one warp), 48
// tokens.
// CHECK-LABEL: plan.micro_step @train_step
// CHECK-NEXT: %[[T:.*]] = plan.buffer input "table" : memref<6400x64xbf16>
// CHECK-NEXT: %[[IDS:.*]] = plan.buffer input "ids" : memref<2x24xi64>
// CHECK-NEXT: %[[H:.*]] = plan.buffer output "loss" : memref<2x24x64xbf16>
// CHECK-NEXT: plan.kernel "mind::embedding_fwd<__nv_bfloat16>"(%[[T]], %[[IDS]], %[[H]], 48 : i64, 64 : i64, 6400 : i64) grid [48, 1, 1] block [32, 1, 1] {source = "mind.embedding"} : memref<6400x64xbf16>, memref<2x24xi64>, memref<2x24x64xbf16>{{$}}
// CHECK-NEXT: {{^ *}$}}
func.func @train_step(%table: tensor<6400x64xbf16> {mind.input = "table"}, %ids: tensor<2x24xi64> {mind.input = "ids"})
    -> tensor<2x24x64xbf16> {
  %h = mind.embedding %table, %ids : (tensor<6400x64xbf16>, tensor<2x24xi64>) -> tensor<2x24x64xbf16>
  return %h : tensor<2x24x64xbf16>
}

// -----

// An f32 table and a rank-0 id: one token; rows of 2048 bytes take 128
// threads.
// CHECK-LABEL: plan.micro_step @train_step
// CHECK-NEXT: %[[T:.*]] = plan.buffer input "table" : memref<100x512xf32>
// CHECK-NEXT: %[[ID:.*]] = plan.buffer input "id" : memref<i64>
// CHECK-NEXT: %[[H:.*]] = plan.buffer output "loss" : memref<512xf32>
// CHECK-NEXT: plan.kernel "mind::embedding_fwd<float>"(%[[T]], %[[ID]], %[[H]], 1 : i64, 512 : i64, 100 : i64) grid [1, 1, 1] block [128, 1, 1] {source = "mind.embedding"} : memref<100x512xf32>, memref<i64>, memref<512xf32>{{$}}
// CHECK-NEXT: {{^ *}$}}
func.func @train_step(%table: tensor<100x512xf32> {mind.input = "table"}, %id: tensor<i64> {mind.input = "id"})
    -> tensor<512xf32> {
  %h = mind.embedding %table, %id : (tensor<100x512xf32>, tensor<i64>) -> tensor<512xf32>
  return %h : tensor<512xf32>
}

// -----

// The gradient of a table parameter, unmarked: zeroed activation, 600 tokens
// in 3 chunks, then added to the accumulator (409600 elements, 400 blocks).
// CHECK-LABEL: plan.micro_step @train_step
// CHECK-NEXT: %[[E:.*]] = plan.buffer param "embed" : memref<6400x64xf32>
// CHECK-NEXT: %[[G:.*]] = plan.buffer grad "embed.grad" : memref<6400x64xf32>
// CHECK-NEXT: %[[DH:.*]] = plan.buffer input "dh" : memref<2x300x64xf32>
// CHECK-NEXT: %[[IDS:.*]] = plan.buffer input "ids" : memref<2x300xi64>
// CHECK-NEXT: %[[DT:.*]] = plan.buffer activation "%0" : memref<6400x64xf32>
// CHECK-NEXT: %[[PART:.*]] = plan.buffer activation "embedding_partial.1" : memref<768x64xf32>
// CHECK-NEXT: %[[RUNIDS:.*]] = plan.buffer activation "embedding_run_ids.2" : memref<768xi64>
// CHECK-NEXT: %[[RUNS:.*]] = plan.buffer activation "embedding_run_count.3" : memref<3xi64>
// CHECK-NEXT: plan.memset %[[DT]] {source = "mind.embedding_grad"} : memref<6400x64xf32>{{$}}
// CHECK-NEXT: plan.kernel "mind::embedding_grad_runs<float>"(%[[DH]], %[[IDS]], %[[PART]], %[[RUNIDS]], %[[RUNS]], 600 : i64, 64 : i64, 6400 : i64) grid [3, 1, 1] block [256, 1, 1] {source = "mind.embedding_grad"} : memref<2x300x64xf32>, memref<2x300xi64>, memref<768x64xf32>, memref<768xi64>, memref<3xi64>{{$}}
// CHECK-NEXT: plan.kernel "mind::embedding_grad_reduce"(%[[PART]], %[[RUNIDS]], %[[RUNS]], %[[DT]], 3 : i64, 64 : i64, 6400 : i64) grid [6400, 1, 1] block [128, 1, 1] {source = "mind.embedding_grad"} : memref<768x64xf32>, memref<768xi64>, memref<3xi64>, memref<6400x64xf32>{{$}}
// CHECK-NEXT: plan.kernel "mind::accumulate_f32<float>"(%[[G]], %[[DT]], 409600 : i64) grid [400, 1, 1] block [256, 1, 1] {source = "mind.embedding_grad"}
// CHECK-NEXT: {{^ *}$}}
func.func @train_step(%e: tensor<6400x64xf32> {mind.param = "embed"}, %dh: tensor<2x300x64xf32> {mind.input = "dh"},
                      %ids: tensor<2x300xi64> {mind.input = "ids"}) -> (tensor<6400x64xf32> {mind.grad = "embed"}) {
  %dt = mind.embedding_grad %dh, %ids {vocab_size = 6400 : i64}
      : (tensor<2x300x64xf32>, tensor<2x300xi64>) -> tensor<6400x64xf32>
  return %dt : tensor<6400x64xf32>
}

// -----

// Marked (mind.accumulate_into): the reduce adds into the accumulator
// itself, with no memset and no accumulate launch.
// CHECK-LABEL: plan.micro_step @train_step
// CHECK-NEXT: %[[E:.*]] = plan.buffer param "embed" : memref<6400x64xf32>
// CHECK-NEXT: %[[G:.*]] = plan.buffer grad "embed.grad" : memref<6400x64xf32>
// CHECK-NEXT: %[[DH:.*]] = plan.buffer input "dh" : memref<2x300x64xf32>
// CHECK-NEXT: %[[IDS:.*]] = plan.buffer input "ids" : memref<2x300xi64>
// CHECK-NEXT: %[[PART:.*]] = plan.buffer activation "embedding_partial.0" : memref<768x64xf32>
// CHECK-NEXT: %[[RUNIDS:.*]] = plan.buffer activation "embedding_run_ids.1" : memref<768xi64>
// CHECK-NEXT: %[[RUNS:.*]] = plan.buffer activation "embedding_run_count.2" : memref<3xi64>
// CHECK-NEXT: plan.kernel "mind::embedding_grad_runs<float>"(%[[DH]], %[[IDS]], %[[PART]], %[[RUNIDS]], %[[RUNS]], 600 : i64, 64 : i64, 6400 : i64) grid [3, 1, 1] block [256, 1, 1]
// CHECK-NEXT: plan.kernel "mind::embedding_grad_reduce"(%[[PART]], %[[RUNIDS]], %[[RUNS]], %[[G]], 3 : i64, 64 : i64, 6400 : i64) grid [6400, 1, 1] block [128, 1, 1] {source = "mind.embedding_grad"} : memref<768x64xf32>, memref<768xi64>, memref<3xi64>, memref<6400x64xf32>{{$}}
// CHECK-NEXT: {{^ *}$}}
func.func @train_step(%e: tensor<6400x64xf32> {mind.param = "embed"}, %dh: tensor<2x300x64xf32> {mind.input = "dh"},
                      %ids: tensor<2x300xi64> {mind.input = "ids"}) -> (tensor<6400x64xf32> {mind.grad = "embed"}) {
  %dt = mind.embedding_grad %dh, %ids {vocab_size = 6400 : i64, mind.accumulate_into = ["embed"]}
      : (tensor<2x300x64xf32>, tensor<2x300xi64>) -> tensor<6400x64xf32>
  return %dt : tensor<6400x64xf32>
}

// -----

// A vocabulary above 65536 rows caps the reduce grid; 5 tokens still make
// one chunk.
// CHECK-LABEL: plan.micro_step @train_step
// CHECK: plan.kernel "mind::embedding_grad_runs<float>"({{.*}}, 5 : i64, 8 : i64, 100000 : i64) grid [1, 1, 1] block [256, 1, 1]
// CHECK-NEXT: plan.kernel "mind::embedding_grad_reduce"({{.*}}, 1 : i64, 8 : i64, 100000 : i64) grid [65536, 1, 1] block [128, 1, 1]
func.func @train_step(%dh: tensor<5x8xf32> {mind.input = "dh"}, %ids: tensor<5xi64> {mind.input = "ids"})
    -> tensor<100000x8xf32> {
  %dt = mind.embedding_grad %dh, %ids {vocab_size = 100000 : i64}
      : (tensor<5x8xf32>, tensor<5xi64>) -> tensor<100000x8xf32>
  return %dt : tensor<100000x8xf32>
}
