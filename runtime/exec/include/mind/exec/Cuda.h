//===- Cuda.h - checked CUDA helpers of the runtime -------------*- C++ -*-===//
//
// Thin RAII wrappers over the CUDA runtime API (linked statically, so
// binaries start on machines without a driver and report "no device"):
// error checking that names the failed call and what it was for, device
// buffers, and modules loaded from a cubin with launchable kernels.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_EXEC_CUDA_H
#define MIND_EXEC_CUDA_H

#include "mind/abi/Plan.h"

#include <cuda_runtime.h>

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace mind::runtime {

class CudaError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// Throws CudaError("<what>: <call> failed: <cuda message>").
void cudaCheck(cudaError_t err, const char *call, const std::string &what);
#define MIND_CUDA_CHECK(call, what)                                           \
  ::mind::runtime::cudaCheck((call), #call, (what))

/// True when a CUDA device can be used (driver present, >= 1 device).
bool cudaDeviceAvailable();
/// "sm_90a" for compute capability 9.0, "sm_80" for 8.0, ... of device 0.
std::string deviceArch();

/// Records what `enqueue` launches on `stream` into `graph` and instantiates
/// it into `exec`; on failure ends the capture, drops the partial graph and
/// rethrows. `what` names the graph in errors ("micro-step", "optimizer").
void captureGraph(cudaStream_t stream, const std::function<void()> &enqueue,
                  cudaGraph_t &graph, cudaGraphExec_t &exec,
                  const std::string &what);

/// Owning device allocation.
class DeviceBuffer {
public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t bytes);
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer &&other) noexcept;
  DeviceBuffer &operator=(DeviceBuffer &&other) noexcept;
  DeviceBuffer(const DeviceBuffer &) = delete;
  DeviceBuffer &operator=(const DeviceBuffer &) = delete;

  void *data() const { return ptr; }
  size_t size() const { return bytes; }
  void upload(const void *host, size_t n, size_t offset = 0);
  void download(void *host, size_t n, size_t offset = 0) const;
  /// Fills every byte with `byte` (0xFF makes every float a NaN: poison).
  void fill(uint8_t byte);

private:
  void *ptr = nullptr;
  size_t bytes = 0;
};

/// A cubin loaded into the current context, with its kernels.
class CudaModule {
public:
  CudaModule(const std::vector<uint8_t> &cubin,
             const std::vector<std::string> &loweredNames);
  ~CudaModule();
  CudaModule(const CudaModule &) = delete;
  CudaModule &operator=(const CudaModule &) = delete;

  size_t numKernels() const { return kernels.size(); }
  /// Launches kernel `index` with `args` (each a pointer to the argument's
  /// value, as cudaLaunchKernel takes them) on `stream`; `what` names the
  /// launch in errors. Raises the kernel's dynamic shared-memory limit when
  /// the launch needs more than 48 KB.
  void launch(size_t index, const std::array<uint32_t, 3> &grid,
              const std::array<uint32_t, 3> &block, uint32_t sharedBytes,
              void **args, cudaStream_t stream, const std::string &what);

private:
  cudaLibrary_t library = nullptr;
  std::vector<cudaKernel_t> kernels;
  std::vector<uint32_t> sharedLimit;
};

} // namespace mind::runtime

#endif // MIND_EXEC_CUDA_H
