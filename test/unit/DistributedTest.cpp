//===- DistributedTest.cpp - launch environment and rendezvous ------------===//

#include "mind/exec/Distributed.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <future>
#include <map>
#include <string>
#include <vector>

using namespace mind::runtime;

namespace {
DistEnv envOf(std::map<std::string, std::string> vars) {
  return distEnvFromEnvironment([vars](const char *name) -> const char * {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

std::string errorOf(std::map<std::string, std::string> vars) {
  try {
    envOf(std::move(vars));
  } catch (const DistError &e) {
    return e.what();
  }
  return "";
}
} // namespace

TEST(Distributed, NoLauncherMeansOneProcess) {
  DistEnv e = envOf({});
  EXPECT_FALSE(e.distributed());
  EXPECT_EQ(e.rank, 0);
  EXPECT_EQ(e.worldSize, 1);
}

// torchrun's variables; the rendezvous sits beside torchrun's own store.
TEST(Distributed, ReadsTorchrunVariables) {
  DistEnv e = envOf({{"WORLD_SIZE", "4"},
                     {"RANK", "3"},
                     {"LOCAL_RANK", "1"},
                     {"MASTER_ADDR", "10.0.0.7"},
                     {"MASTER_PORT", "29600"}});
  EXPECT_TRUE(e.distributed());
  EXPECT_EQ(e.rank, 3);
  EXPECT_EQ(e.localRank, 1);
  EXPECT_EQ(e.worldSize, 4);
  EXPECT_EQ(e.masterAddr, "10.0.0.7");
  EXPECT_EQ(e.masterPort, 29600);
  EXPECT_EQ(e.rendezvousPort, 29601);
  EXPECT_EQ(envOf({{"WORLD_SIZE", "2"},
                   {"RANK", "1"},
                   {"MIND_RENDEZVOUS_PORT", "40000"}})
                .rendezvousPort,
            40000);
  EXPECT_EQ(envOf({{"WORLD_SIZE", "2"}, {"RANK", "1"}}).localRank, 1);
}

TEST(Distributed, BadVariablesAreNamed) {
  EXPECT_EQ(errorOf({{"WORLD_SIZE", "2"}}),
            "WORLD_SIZE is set but RANK is not (launch with torchrun or set "
            "both)");
  EXPECT_EQ(errorOf({{"WORLD_SIZE", "2"}, {"RANK", "2"}}),
            "RANK=2: expected an integer in [0, 1]");
  EXPECT_EQ(errorOf({{"WORLD_SIZE", "two"}, {"RANK", "0"}}),
            "WORLD_SIZE=two: expected an integer in [1, 65536]");
  EXPECT_EQ(errorOf({{"WORLD_SIZE", "2"}, {"RANK", "0"}, {"MASTER_PORT", "0"}}),
            "MASTER_PORT=0: expected an integer in [1, 65534]");
}

// Four ranks as threads on localhost: every rank gets rank 0's bytes,
// including zeros (NCCL's id is binary).
TEST(Distributed, RankZeroSharesItsPayloadWithEveryRank) {
  const int world = 4;
  std::string payload("mind\0nccl-id\xff", 13);
  std::vector<std::future<std::string>> got;
  for (int r = 0; r < world; ++r) {
    DistEnv e;
    e.rank = r;
    e.worldSize = world;
    e.rendezvousPort = 29000 + (::getpid() % 1000) * 3;
    got.push_back(std::async(std::launch::async, [e, r, payload] {
      return shareFromRankZero(e, r == 0 ? payload : std::string("other"), 20);
    }));
  }
  for (int r = 0; r < world; ++r)
    EXPECT_EQ(got[r].get(), payload) << "rank " << r;
}

TEST(Distributed, ARankWithoutRankZeroTimesOutSayingSo) {
  DistEnv e;
  e.rank = 1;
  e.worldSize = 2;
  e.rendezvousPort = 29000 + (::getpid() % 1000) * 3 + 1;
  try {
    shareFromRankZero(e, "", 1);
    FAIL() << "no error";
  } catch (const DistError &err) {
    EXPECT_NE(std::string(err.what()).find("could not reach rank 0"),
              std::string::npos)
        << err.what();
  }
}
