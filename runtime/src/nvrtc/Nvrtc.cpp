//===- Nvrtc.cpp - compile the kernel templates with NVRTC ----------------===//

#include "mind/runtime/Nvrtc.h"

#include <nvrtc.h>

#include <memory>

using namespace mind::runtime;

// Generated at build time from runtime/kernels/*.cuh (see CMakeLists.txt).
extern const char *const kMindKernelSources[];
extern const unsigned kMindKernelSourceCount;

const std::string &mind::runtime::kernelLibrarySource() {
  static const std::string source = [] {
    std::string s;
    for (unsigned i = 0; i < kMindKernelSourceCount; ++i)
      s += kMindKernelSources[i];
    return s;
  }();
  return source;
}

namespace {
void check(nvrtcResult r, const char *what, const std::string &log = "") {
  if (r != NVRTC_SUCCESS)
    throw NvrtcError(std::string("NVRTC ") + what + ": " +
                     nvrtcGetErrorString(r) + (log.empty() ? "" : "\n" + log));
}

struct ProgramDeleter {
  void operator()(nvrtcProgram *p) const {
    nvrtcDestroyProgram(p);
    delete p;
  }
};
} // namespace

CompiledKernels mind::runtime::compileKernels(
    const std::string &source, const std::vector<std::string> &nameExprs,
    const std::string &arch) {
  std::unique_ptr<nvrtcProgram, ProgramDeleter> prog(new nvrtcProgram);
  check(nvrtcCreateProgram(prog.get(), source.c_str(), "mind_kernels.cu", 0,
                           nullptr, nullptr),
        "create");
  for (const std::string &e : nameExprs)
    check(nvrtcAddNameExpression(*prog, e.c_str()), "add name expression");

  std::string archOpt = "--gpu-architecture=" + arch;
  std::vector<const char *> opts = {archOpt.c_str(), "--std=c++17",
                                    "-default-device",
                                    "-I/usr/local/cuda/include"};
  nvrtcResult r = nvrtcCompileProgram(*prog, static_cast<int>(opts.size()),
                                      opts.data());
  CompiledKernels out;
  size_t logSize = 0;
  nvrtcGetProgramLogSize(*prog, &logSize);
  out.log.resize(logSize);
  if (logSize)
    nvrtcGetProgramLog(*prog, out.log.data());
  check(r, "compile", out.log);

  size_t cubinSize = 0;
  check(nvrtcGetCUBINSize(*prog, &cubinSize), "cubin size");
  out.cubin.resize(cubinSize);
  check(nvrtcGetCUBIN(*prog, reinterpret_cast<char *>(out.cubin.data())),
        "cubin");
  // PTX exists only for virtual architectures; keep it for compute_XX so a
  // newer driver can JIT it, and leave it empty for sm_XX.
  size_t ptxSize = 0;
  if (nvrtcGetPTXSize(*prog, &ptxSize) == NVRTC_SUCCESS && ptxSize > 1) {
    out.ptx.resize(ptxSize);
    nvrtcGetPTX(*prog, out.ptx.data());
  }
  for (const std::string &e : nameExprs) {
    const char *lowered = nullptr;
    check(nvrtcGetLoweredName(*prog, e.c_str(), &lowered), "lowered name");
    out.loweredNames.emplace_back(lowered);
  }
  return out;
}
