//===- MemoryPlanner.h - liveness-based arena offsets -----------*- C++ -*-===//
//
// Assigns every buffer of a micro-step an offset in one arena. Persistent
// buffers (parameters, gradient accumulators, inputs, outputs) are laid out
// first, in the order given, back to back; every other buffer lives from the
// step that first writes it to the step that last reads it, and buffers whose
// lifetimes overlap never overlap in memory. Free space is reused best-fit.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_CONVERSION_MEMORYPLANNER_H
#define MIND_CONVERSION_MEMORYPLANNER_H

#include <cstdint>
#include <vector>

namespace mind {

struct PlannedBuffer {
  uint64_t bytes = 0;
  bool persistent = false;
  /// Live range in step indices, inclusive: written at `first`, last read at
  /// `last`. Ignored for persistent buffers.
  int64_t first = 0, last = 0;
  uint64_t offset = 0; // the result
};

struct MemoryPlan {
  uint64_t persistentBytes = 0;
  uint64_t arenaBytes = 0; // peak: persistent + the largest transient need
};

constexpr uint64_t kArenaAlignment = 256;

/// Fills in `offset` of every buffer and returns the totals.
MemoryPlan planMemory(std::vector<PlannedBuffer> &buffers);

} // namespace mind

#endif // MIND_CONVERSION_MEMORYPLANNER_H
