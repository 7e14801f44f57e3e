//===- MemoryPlannerTest.cpp - arena offsets never overlap when live ------===//

#include "mind/Conversion/MemoryPlanner.h"

#include <gtest/gtest.h>

#include <random>

using namespace mind;

namespace {
bool overlapInTime(const PlannedBuffer &a, const PlannedBuffer &b) {
  return a.persistent || b.persistent ||
         !(a.last < b.first || b.last < a.first);
}
bool overlapInMemory(const PlannedBuffer &a, const PlannedBuffer &b) {
  return a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes;
}

TEST(MemoryPlanner, PersistentBuffersComeFirstInOrder) {
  std::vector<PlannedBuffer> bufs = {{100, true}, {300, true}, {50, true}};
  MemoryPlan plan = planMemory(bufs);
  EXPECT_EQ(bufs[0].offset, 0u);
  EXPECT_EQ(bufs[1].offset, 256u);
  EXPECT_EQ(bufs[2].offset, 768u);
  EXPECT_EQ(plan.persistentBytes, 1024u);
  EXPECT_EQ(plan.arenaBytes, 1024u);
}

TEST(MemoryPlanner, DeadBuffersAreReused) {
  // a: steps 0-1, b: 1-2, c: 2-3. a and c can share memory; b cannot share
  // with either.
  std::vector<PlannedBuffer> bufs = {
      {1024, false, 0, 1}, {1024, false, 1, 2}, {1024, false, 2, 3}};
  MemoryPlan plan = planMemory(bufs);
  EXPECT_EQ(bufs[0].offset, bufs[2].offset);
  EXPECT_NE(bufs[0].offset, bufs[1].offset);
  EXPECT_EQ(plan.arenaBytes, 2048u);
}

TEST(MemoryPlanner, OutputsNeverAliasInputsOfTheSameStep) {
  // a is last read at step 1, where b is written: they must not share.
  std::vector<PlannedBuffer> bufs = {{512, false, 0, 1}, {512, false, 1, 1}};
  planMemory(bufs);
  EXPECT_FALSE(overlapInMemory(bufs[0], bufs[1]));
}

TEST(MemoryPlanner, RandomLifetimesNeverCollide) {
  std::mt19937 rng(3);
  for (int round = 0; round < 50; ++round) {
    std::vector<PlannedBuffer> bufs;
    for (int i = 0; i < 200; ++i) {
      PlannedBuffer b;
      b.bytes = 1 + rng() % 100000;
      b.persistent = rng() % 10 == 0;
      b.first = rng() % 100;
      b.last = b.first + rng() % 20;
      bufs.push_back(b);
    }
    MemoryPlan plan = planMemory(bufs);
    uint64_t liveMax = 0;
    for (size_t i = 0; i < bufs.size(); ++i) {
      EXPECT_EQ(bufs[i].offset % kArenaAlignment, 0u);
      EXPECT_LE(bufs[i].offset + bufs[i].bytes, plan.arenaBytes);
      for (size_t j = i + 1; j < bufs.size(); ++j)
        if (overlapInTime(bufs[i], bufs[j]))
          ASSERT_FALSE(overlapInMemory(bufs[i], bufs[j]))
              << "buffers " << i << " and " << j << " collide";
    }
    // The plan is never worse than keeping everything alive at once.
    for (const auto &b : bufs)
      liveMax += (b.bytes + 255) / 256 * 256;
    EXPECT_LE(plan.arenaBytes, liveMax);
  }
}
} // namespace
