//===- Nvrtc.h - compile the kernel templates with NVRTC --------*- C++ -*-===//
//
// mindc compiles every kernel of a plan with NVRTC (no GPU needed) into one
// cubin; test/gpu compiles through the same function. The kernel templates
// of runtime/kernels/*.cuh are embedded into the library at build time.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_KERNELS_NVRTC_H
#define MIND_KERNELS_NVRTC_H

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace mind::runtime {

class NvrtcError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

struct CompiledKernels {
  std::vector<uint8_t> cubin;
  std::string ptx;
  std::vector<std::string> loweredNames; // one per name expression
  std::string log;                       // NVRTC's compile log
};

/// The embedded kernel library: every runtime/kernels/*.cuh, in dependency
/// order, as one translation unit.
const std::string &kernelLibrarySource();

/// Compiles `source` for `arch` ("sm_90a" by default, "sm_80" also works)
/// and instantiates every name expression (template kernels such as
/// "mind::silu_fwd<float>"). Throws NvrtcError with the compile log.
CompiledKernels compileKernels(const std::string &source,
                               const std::vector<std::string> &nameExprs,
                               const std::string &arch = "sm_90a");

} // namespace mind::runtime

#endif // MIND_KERNELS_NVRTC_H
