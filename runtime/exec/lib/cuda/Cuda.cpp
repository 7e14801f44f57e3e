//===- Cuda.cpp - checked CUDA helpers of the runtime ---------------------===//

#include "mind/exec/Cuda.h"

#include <utility>

using namespace mind::runtime;

void mind::runtime::cudaCheck(cudaError_t err, const char *call,
                              const std::string &what) {
  if (err != cudaSuccess)
    throw CudaError(what + ": " + call + " failed: " +
                    cudaGetErrorName(err) + " (" + cudaGetErrorString(err) +
                    ")");
}

bool mind::runtime::cudaDeviceAvailable() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError(); // Clear the sticky "no driver" error.
    return false;
  }
  return count > 0;
}

std::string mind::runtime::deviceArch() {
  cudaDeviceProp prop{};
  MIND_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0), "query device 0");
  std::string arch = "sm_" + std::to_string(prop.major * 10 + prop.minor);
  // Hopper's wgmma/setmaxnreg need the architecture-specific target.
  if (prop.major == 9)
    arch += "a";
  return arch;
}

void mind::runtime::captureGraph(cudaStream_t stream,
                                 const std::function<void()> &enqueue,
                                 cudaGraph_t &graph, cudaGraphExec_t &exec,
                                 const std::string &what) {
  MIND_CUDA_CHECK(
      cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal),
      "begin capturing the " + what + " graph");
  try {
    enqueue();
  } catch (...) {
    cudaGraph_t partial = nullptr;
    cudaStreamEndCapture(stream, &partial);
    if (partial)
      cudaGraphDestroy(partial);
    cudaGetLastError();
    throw;
  }
  MIND_CUDA_CHECK(cudaStreamEndCapture(stream, &graph),
                  "end capturing the " + what + " graph");
  MIND_CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0),
                  "instantiate the " + what + " graph");
}

DeviceBuffer::DeviceBuffer(size_t n) : bytes(n) {
  if (n)
    MIND_CUDA_CHECK(cudaMalloc(&ptr, n),
                    "allocate " + std::to_string(n) + " device bytes");
}

DeviceBuffer::~DeviceBuffer() {
  if (ptr)
    cudaFree(ptr);
}

DeviceBuffer::DeviceBuffer(DeviceBuffer &&o) noexcept
    : ptr(std::exchange(o.ptr, nullptr)), bytes(std::exchange(o.bytes, 0)) {}

DeviceBuffer &DeviceBuffer::operator=(DeviceBuffer &&o) noexcept {
  if (this != &o) {
    if (ptr)
      cudaFree(ptr);
    ptr = std::exchange(o.ptr, nullptr);
    bytes = std::exchange(o.bytes, 0);
  }
  return *this;
}

void DeviceBuffer::upload(const void *host, size_t n, size_t offset) {
  if (offset + n > bytes)
    throw CudaError("upload of " + std::to_string(n) +
                    " bytes overruns a buffer of " + std::to_string(bytes));
  MIND_CUDA_CHECK(cudaMemcpy(static_cast<char *>(ptr) + offset, host, n,
                             cudaMemcpyHostToDevice),
                  "upload");
}

void DeviceBuffer::download(void *host, size_t n, size_t offset) const {
  if (offset + n > bytes)
    throw CudaError("download of " + std::to_string(n) +
                    " bytes overruns a buffer of " + std::to_string(bytes));
  MIND_CUDA_CHECK(cudaMemcpy(host, static_cast<const char *>(ptr) + offset, n,
                             cudaMemcpyDeviceToHost),
                  "download");
}

void DeviceBuffer::fill(uint8_t byte) {
  MIND_CUDA_CHECK(cudaMemset(ptr, byte, bytes), "fill");
}

CudaModule::CudaModule(const std::vector<uint8_t> &cubin,
                       const std::vector<std::string> &loweredNames) {
  MIND_CUDA_CHECK(cudaLibraryLoadData(&library, cubin.data(), nullptr,
                                      nullptr, 0, nullptr, nullptr, 0),
                  "load the kernel cubin");
  for (const std::string &name : loweredNames) {
    cudaKernel_t k = nullptr;
    MIND_CUDA_CHECK(cudaLibraryGetKernel(&k, library, name.c_str()),
                    "find kernel " + name);
    kernels.push_back(k);
    sharedLimit.push_back(48 * 1024);
  }
}

CudaModule::~CudaModule() {
  if (library)
    cudaLibraryUnload(library);
}

void CudaModule::launch(size_t index, const std::array<uint32_t, 3> &grid,
                        const std::array<uint32_t, 3> &block,
                        uint32_t sharedBytes, void **args,
                        cudaStream_t stream, const std::string &what) {
  cudaKernel_t k = kernels.at(index);
  auto func = reinterpret_cast<const void *>(k);
  if (sharedBytes > sharedLimit[index]) {
    MIND_CUDA_CHECK(
        cudaFuncSetAttribute(func, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             static_cast<int>(sharedBytes)),
        what + ": raise the shared-memory limit");
    sharedLimit[index] = sharedBytes;
  }
  MIND_CUDA_CHECK(cudaLaunchKernel(func, dim3(grid[0], grid[1], grid[2]),
                                   dim3(block[0], block[1], block[2]), args,
                                   sharedBytes, stream),
                  what);
}
