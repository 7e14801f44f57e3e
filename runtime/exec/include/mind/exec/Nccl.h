//===- Nccl.h - gradient averaging across data-parallel ranks ---*- C++ -*-===//
//
// One NCCL communicator over the ranks of a DistEnv, on the current CUDA
// device. libnccl.so.2 is loaded at run time (dlopen) when a run has more
// than one rank, so single-GPU training needs no NCCL installed; a missing
// library is a clear error, not a failure to start.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_EXEC_NCCL_H
#define MIND_EXEC_NCCL_H

#include "mind/exec/Distributed.h"

#include <cuda_runtime.h>

#include <cstddef>
#include <memory>

namespace mind::runtime {

class NcclComm {
public:
  /// Rendezvous (shareFromRankZero) and ncclCommInitRank. Throws DistError
  /// with NCCL's message on failure.
  static std::unique_ptr<NcclComm> create(const DistEnv &env);
  ~NcclComm();
  NcclComm(const NcclComm &) = delete;
  NcclComm &operator=(const NcclComm &) = delete;

  /// In place, ordered on `stream`: buf[i] = the mean over ranks of buf[i]
  /// (DDP's gradient averaging).
  void allReduceMean(float *buf, size_t count, cudaStream_t stream);

private:
  struct Impl;
  explicit NcclComm(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl;
};

} // namespace mind::runtime

#endif // MIND_EXEC_NCCL_H
