//===- GpuTest.h - harness of the GPU kernel tests --------------*- C++ -*-===//
//
// Every GPU test compiles kernels through the same NVRTC path and launch
// rules (KernelSpecs) as mindc, runs them on random inputs (never zeros)
// with outputs poisoned first (0xFF bytes: NaN floats), and compares with the
// reference kernels of the interpreter. Without a CUDA device the tests skip
// and say so.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_TEST_GPU_GPUTEST_H
#define MIND_TEST_GPU_GPUTEST_H

#include "mind/Interpreter/RefKernels.h"
#include "mind/abi/KernelAbi.h"
#include "mind/exec/Cuda.h"
#include "mind/kernels/Nvrtc.h"

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <variant>

namespace mind::gputest {

#define MIND_REQUIRE_GPU()                                                    \
  do {                                                                        \
    if (!::mind::runtime::cudaDeviceAvailable())                              \
      GTEST_SKIP() << "no CUDA device: GPU test skipped";                     \
  } while (0)

/// A device tensor of a given storage dtype (F32, BF16, F16, I64, I32).
struct DevTensor {
  runtime::DType dtype = runtime::DType::F32;
  std::vector<int64_t> shape;
  runtime::DeviceBuffer buf;
  void *ptr() const { return buf.data(); }
};

/// Uploads `t` converted to `dtype` (floats round to nearest even).
DevTensor upload(const ref::Tensor &t, runtime::DType dtype);
/// An output tensor filled with 0xFF bytes (NaN for floats).
DevTensor poisoned(const std::vector<int64_t> &shape, runtime::DType dtype);
/// Downloads to doubles.
ref::Tensor download(const DevTensor &t);

/// Uniform random values in [lo, hi), never all zero.
ref::Tensor randomTensor(std::vector<int64_t> shape, std::mt19937 &rng,
                         double lo = -1.0, double hi = 1.0);
/// Random integers in [0, n).
ref::Tensor randomInts(std::vector<int64_t> shape, int64_t n,
                       std::mt19937 &rng);

/// A kernel argument: a device tensor's pointer, an array of them, an int64,
/// a float or a double.
using Arg = std::variant<const DevTensor *, std::vector<const DevTensor *>,
                         int64_t, float, double>;

/// Compiles `launches`' name expressions in one NVRTC program for the
/// device's architecture and launches them in order, synchronizing after each
/// (so an error names its kernel). Every argument list is checked against
/// the kernel's signature (KernelSignatures.h) and packed by it, as the
/// executor packs a plan's: a wrong count, kind or dtype fails the test.
class KernelRunner {
public:
  explicit KernelRunner(const std::vector<runtime::LaunchConfig> &launches);
  void run(size_t i, const std::vector<Arg> &args);

private:
  std::vector<runtime::LaunchConfig> launches;
  std::vector<std::vector<runtime::kabi::ResolvedParam>> params;
  std::unique_ptr<runtime::CudaModule> module;
};

/// Compiles and runs one launch.
void launchOnce(const runtime::LaunchConfig &cfg, const std::vector<Arg> &args);

/// Asserts |got - want| <= atol + rtol * |want| elementwise (and no NaN left
/// from the poison), reporting the worst element.
void expectClose(const ref::Tensor &got, const ref::Tensor &want, double atol,
                 double rtol, const std::string &what);

} // namespace mind::gputest

#endif // MIND_TEST_GPU_GPUTEST_H
