//===- Distributed.h - data-parallel launch environment ---------*- C++ -*-===//
//
// The trainer runs one process per GPU, launched the standard ways
// (`torchrun --no-python`, or anything that sets the same variables):
// RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT (MINIMIND-SPEC §7).
// Rank 0 shares NCCL's unique id with the others over one TCP connection
// each (shareFromRankZero); NCCL itself (Nccl.h) does the rest. Pure POSIX:
// the rendezvous is tested without a GPU.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_EXEC_DISTRIBUTED_H
#define MIND_EXEC_DISTRIBUTED_H

#include <functional>
#include <stdexcept>
#include <string>

namespace mind::runtime {

class DistError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

struct DistEnv {
  int rank = 0, localRank = 0, worldSize = 1;
  std::string masterAddr = "127.0.0.1";
  int masterPort = 29500;
  /// The port of the rendezvous: MIND_RENDEZVOUS_PORT if set, else
  /// MASTER_PORT + 1 (a torchrun agent keeps its own store on MASTER_PORT).
  int rendezvousPort = 29501;
  bool distributed() const { return worldSize > 1; }
};

/// Reads the launch variables through `get` (getenv by default). Without
/// WORLD_SIZE the run is one process; otherwise RANK and WORLD_SIZE are
/// required, LOCAL_RANK defaults to RANK, MASTER_ADDR to 127.0.0.1 and
/// MASTER_PORT to 29500. Throws DistError naming the variable on a value
/// that is not a number in range.
DistEnv distEnvFromEnvironment(
    const std::function<const char *(const char *)> &get = ::getenv);

/// Rank 0 listens on env.rendezvousPort and sends `payload` to each of the
/// other ranks, which connect to MASTER_ADDR (retrying until
/// `timeoutSeconds`); every rank returns rank 0's payload. Throws DistError
/// on timeout or a broken connection, saying which rank waited for what.
std::string shareFromRankZero(const DistEnv &env, const std::string &payload,
                              int timeoutSeconds = 120);

} // namespace mind::runtime

#endif // MIND_EXEC_DISTRIBUTED_H
