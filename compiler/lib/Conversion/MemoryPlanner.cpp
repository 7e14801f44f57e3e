//===- MemoryPlanner.cpp - liveness-based arena offsets -------------------===//

#include "mind/Conversion/MemoryPlanner.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <numeric>

using namespace mind;

namespace {
uint64_t alignUp(uint64_t v) {
  return (v + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
}

/// Free intervals [offset, offset+size) above the persistent region; the
/// arena grows at the top when nothing fits.
class FreeList {
public:
  explicit FreeList(uint64_t base) : top(base) {}

  uint64_t allocate(uint64_t size) {
    // Best fit: the smallest free interval that holds `size`.
    auto best = free.end();
    for (auto it = free.begin(); it != free.end(); ++it)
      if (it->second >= size &&
          (best == free.end() || it->second < best->second))
        best = it;
    if (best == free.end()) {
      // Extend the topmost free interval if it touches the top.
      if (!free.empty()) {
        auto last = std::prev(free.end());
        if (last->first + last->second == top) {
          uint64_t offset = last->first;
          top = offset + size;
          free.erase(last);
          return offset;
        }
      }
      uint64_t offset = top;
      top += size;
      return offset;
    }
    uint64_t offset = best->first, remaining = best->second - size;
    free.erase(best);
    if (remaining)
      free[offset + size] = remaining;
    return offset;
  }

  void release(uint64_t offset, uint64_t size) {
    auto it = free.emplace(offset, size).first;
    // Merge with the following and the preceding interval.
    auto next = std::next(it);
    if (next != free.end() && it->first + it->second == next->first) {
      it->second += next->second;
      free.erase(next);
    }
    if (it != free.begin()) {
      auto prev = std::prev(it);
      if (prev->first + prev->second == it->first) {
        prev->second += it->second;
        free.erase(it);
      }
    }
  }

  uint64_t peak() const { return top; }

private:
  std::map<uint64_t, uint64_t> free;
  uint64_t top;
};
} // namespace

MemoryPlan mind::planMemory(std::vector<PlannedBuffer> &buffers) {
  MemoryPlan plan;
  for (PlannedBuffer &b : buffers)
    if (b.persistent) {
      b.offset = plan.persistentBytes;
      plan.persistentBytes += alignUp(b.bytes);
    }

  // Sweep the steps: allocate a buffer at its first step, release it after
  // its last one. Allocations of a step come before its releases, so a
  // step's outputs never share memory with its inputs.
  std::vector<size_t> order;
  for (size_t i = 0; i < buffers.size(); ++i)
    if (!buffers[i].persistent)
      order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return buffers[a].first < buffers[b].first;
  });
  std::multimap<int64_t, size_t> releases; // last step -> buffer
  FreeList freeList(plan.persistentBytes);
  size_t next = 0;
  while (next < order.size() || !releases.empty()) {
    int64_t step = next < order.size() ? buffers[order[next]].first
                                       : releases.begin()->first;
    // Release everything whose last read was before this step.
    while (!releases.empty() && releases.begin()->first < step) {
      PlannedBuffer &b = buffers[releases.begin()->second];
      freeList.release(b.offset, alignUp(b.bytes));
      releases.erase(releases.begin());
    }
    if (next >= order.size()) {
      // Only releases remain.
      while (!releases.empty()) {
        PlannedBuffer &b = buffers[releases.begin()->second];
        freeList.release(b.offset, alignUp(b.bytes));
        releases.erase(releases.begin());
      }
      break;
    }
    while (next < order.size() && buffers[order[next]].first == step) {
      PlannedBuffer &b = buffers[order[next++]];
      b.offset = freeList.allocate(alignUp(std::max<uint64_t>(b.bytes, 1)));
      releases.emplace(std::max(b.last, b.first), &b - buffers.data());
    }
  }
  plan.arenaBytes = freeList.peak();
  return plan;
}
