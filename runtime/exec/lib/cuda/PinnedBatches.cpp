//===- PinnedBatches.cpp - token batches staged in pinned memory ----------===//

#include "mind/exec/PinnedBatches.h"

#include "mind/exec/Cuda.h"

#include <algorithm>
#include <stdexcept>

using namespace mind::runtime;

PinnedBatchStager::PinnedBatchStager(Executor &ex, int64_t batch, int64_t seq,
                                     size_t prefetch)
    : ex(ex), batch(batch), seq(seq) {
  const char *names[] = {"ids", "targets", "mask"};
  size_t bytes = static_cast<size_t>(batch * seq) * sizeof(int64_t);
  for (int i = 0; i < 3; ++i) {
    inputs[i] = ex.bufferId(names[i]);
    const BufferDesc &b = ex.plan().buffers[static_cast<size_t>(inputs[i])];
    if (b.kind != BufferKind::Input || b.dtype != DType::I64 || b.bytes != bytes)
      throw std::invalid_argument(
          std::string("pinned batches: input '") + names[i] + "' is not an "
          "i64 buffer of " + std::to_string(batch) + " x " +
          std::to_string(seq) + " tokens");
  }
  size_t n = prefetch + 2;
  slots.assign(n, nullptr);
  copied.assign(n, nullptr);
  for (size_t s = 0; s < n; ++s) {
    MIND_CUDA_CHECK(cudaMallocHost(reinterpret_cast<void **>(&slots[s]),
                                   3 * bytes),
                    "allocate pinned batch slots");
    MIND_CUDA_CHECK(
        cudaEventCreateWithFlags(&copied[s], cudaEventDisableTiming),
        "create the batch-upload events");
  }
}

PinnedBatchStager::~PinnedBatchStager() {
  // Uploads still queued read the slots: wait for them before freeing.
  for (size_t s = 0; s < slots.size(); ++s) {
    if (copied[s]) {
      cudaEventSynchronize(copied[s]);
      cudaEventDestroy(copied[s]);
    }
    if (slots[s])
      cudaFreeHost(slots[s]);
  }
}

void PinnedBatchStager::stage(TokenBatch &b) {
  if (b.batch != batch || b.seq != seq)
    throw std::invalid_argument(
        "pinned batches: a batch of " + std::to_string(b.batch) + " x " +
        std::to_string(b.seq) + " tokens, the plan takes " +
        std::to_string(batch) + " x " + std::to_string(seq));
  size_t s = nextSlot;
  nextSlot = (nextSlot + 1) % slots.size();
  // Never recorded: returns at once. Otherwise the slot's last upload.
  MIND_CUDA_CHECK(cudaEventSynchronize(copied[s]),
                  "wait for a batch upload (an earlier micro-step failed)");
  int64_t n = batch * seq;
  int64_t *dst = slots[s];
  std::copy(b.ids.begin(), b.ids.end(), dst);
  std::copy(b.targets.begin(), b.targets.end(), dst + n);
  std::copy(b.mask.begin(), b.mask.end(), dst + 2 * n);
  b.stagedSlot = static_cast<int64_t>(s);
}

void PinnedBatchStager::upload(const TokenBatch &b) {
  if (b.stagedSlot < 0) {
    ex.setInput("ids", b.ids);
    ex.setInput("targets", b.targets);
    ex.setInput("mask", b.mask);
    return;
  }
  size_t s = static_cast<size_t>(b.stagedSlot);
  size_t bytes = static_cast<size_t>(batch * seq) * sizeof(int64_t);
  const char *src = reinterpret_cast<const char *>(slots.at(s));
  for (int i = 0; i < 3; ++i)
    MIND_CUDA_CHECK(cudaMemcpyAsync(ex.bufferPointer(inputs[i]), src + i * bytes,
                                    bytes, cudaMemcpyHostToDevice,
                                    ex.stream()),
                    "upload a batch");
  MIND_CUDA_CHECK(cudaEventRecord(copied[s], ex.stream()),
                  "record a batch upload");
}
