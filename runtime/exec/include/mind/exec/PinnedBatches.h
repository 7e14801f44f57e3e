//===- PinnedBatches.h - token batches staged in pinned memory --*- C++ -*-===//
//
// The host side of the input pipeline: the DataLoader's prefetch thread
// copies each batch (ids, targets, mask) into one slot of a ring of pinned
// host buffers (stage, the LoaderOptions::stage hook), and the training
// thread queues that slot's upload into the executor's input buffers on its
// stream (upload): a DMA that needs no host wait and overlaps the GPU's work
// on the previous micro-step. A slot is refilled only after its upload ran
// (one CUDA event per slot).
//
// Ring size: the loader queues at most `prefetch` batches and builds one
// more; the training thread uploads each batch before it asks for the next.
// With prefetch + 2 slots a slot being refilled therefore always belongs to
// an upload already queued, and waiting on its event is enough.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_EXEC_PINNEDBATCHES_H
#define MIND_EXEC_PINNEDBATCHES_H

#include "mind/exec/Executor.h"
#include "mind/data/TokenData.h"

#include <cstdint>
#include <vector>

namespace mind::runtime {

class PinnedBatchStager {
public:
  /// Batches of `batch` x `seq` tokens into `ex`'s Input buffers "ids",
  /// "targets" and "mask" (I64, batch * seq each; checked here), through
  /// `prefetch + 2` pinned slots.
  PinnedBatchStager(Executor &ex, int64_t batch, int64_t seq, size_t prefetch);
  ~PinnedBatchStager();
  PinnedBatchStager(const PinnedBatchStager &) = delete;
  PinnedBatchStager &operator=(const PinnedBatchStager &) = delete;

  /// Prefetch thread: copies `b` into the next slot and records it in
  /// b.stagedSlot. Throws std::invalid_argument on a batch of another shape.
  void stage(TokenBatch &b);
  /// Training thread, in loader order: queues the upload of a staged batch
  /// (an unstaged one is uploaded from its vectors through setInput).
  void upload(const TokenBatch &b);

private:
  Executor &ex;
  int64_t batch, seq;
  int64_t inputs[3]; // buffer ids of ids, targets, mask
  std::vector<int64_t *> slots;    // pinned, 3 * batch * seq each
  std::vector<cudaEvent_t> copied; // the last upload from each slot
  size_t nextSlot = 0;
};

} // namespace mind::runtime

#endif // MIND_EXEC_PINNEDBATCHES_H
