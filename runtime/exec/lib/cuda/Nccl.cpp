//===- Nccl.cpp - gradient averaging across data-parallel ranks -----------===//

#include "mind/exec/Nccl.h"

#include <nccl.h>

#include <dlfcn.h>

#include <cstring>
#include <type_traits>

#include <string>

using namespace mind::runtime;

namespace {
/// The NCCL entry points the trainer uses, resolved from libnccl.so.2.
struct NcclApi {
  decltype(&ncclGetUniqueId) getUniqueId = nullptr;
  decltype(&ncclCommInitRank) commInitRank = nullptr;
  decltype(&ncclAllReduce) allReduce = nullptr;
  decltype(&ncclCommDestroy) commDestroy = nullptr;
  decltype(&ncclGetErrorString) errorString = nullptr;
};

const NcclApi &loadNccl() {
  static NcclApi api = [] {
    void *lib = dlopen("libnccl.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!lib)
      lib = dlopen("libnccl.so", RTLD_NOW | RTLD_LOCAL);
    if (!lib)
      throw DistError(std::string("a run with WORLD_SIZE > 1 needs NCCL, but "
                                  "libnccl.so.2 cannot be loaded (") +
                      dlerror() + "); add its directory to LD_LIBRARY_PATH");
    NcclApi a;
    auto sym = [&](auto &fn, const char *name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(
          dlsym(lib, name));
      if (!fn)
        throw DistError(std::string("libnccl.so.2 lacks ") + name);
    };
    sym(a.getUniqueId, "ncclGetUniqueId");
    sym(a.commInitRank, "ncclCommInitRank");
    sym(a.allReduce, "ncclAllReduce");
    sym(a.commDestroy, "ncclCommDestroy");
    sym(a.errorString, "ncclGetErrorString");
    return a;
  }();
  return api;
}

void check(ncclResult_t rc, const char *what) {
  if (rc != ncclSuccess)
    throw DistError(std::string("NCCL: ") + what + ": " +
                    loadNccl().errorString(rc));
}
} // namespace

struct NcclComm::Impl {
  ncclComm_t comm = nullptr;
};

NcclComm::NcclComm(std::unique_ptr<Impl> impl) : impl(std::move(impl)) {}

NcclComm::~NcclComm() {
  if (impl && impl->comm)
    loadNccl().commDestroy(impl->comm);
}

std::unique_ptr<NcclComm> NcclComm::create(const DistEnv &env) {
  const NcclApi &api = loadNccl();
  ncclUniqueId id{};
  if (env.rank == 0)
    check(api.getUniqueId(&id), "get a unique id");
  std::string shared = shareFromRankZero(
      env, std::string(reinterpret_cast<const char *>(&id), sizeof id));
  if (shared.size() != sizeof id)
    throw DistError("rendezvous: NCCL id of the wrong size from rank 0");
  std::memcpy(&id, shared.data(), sizeof id);
  auto impl = std::make_unique<Impl>();
  check(api.commInitRank(&impl->comm, env.worldSize, id, env.rank),
        "create the communicator");
  return std::unique_ptr<NcclComm>(new NcclComm(std::move(impl)));
}

void NcclComm::allReduceMean(float *buf, size_t count, cudaStream_t stream) {
  check(loadNccl().allReduce(buf, buf, count, ncclFloat32, ncclAvg,
                             impl->comm, stream),
        "average the gradients");
}
