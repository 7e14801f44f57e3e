//===- Nvrtc.cpp - compile the kernel templates with NVRTC ----------------===//

#include "mind/kernels/Nvrtc.h"

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

namespace {
/// One NVRTC compilation for `arch` (sm_XX gives a cubin, compute_XX PTX).
CompiledKernels compileFor(const std::string &source,
                           const std::vector<std::string> &nameExprs,
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

  if (arch.rfind("sm_", 0) == 0) {
    size_t cubinSize = 0;
    check(nvrtcGetCUBINSize(*prog, &cubinSize), "cubin size");
    out.cubin.resize(cubinSize);
    check(nvrtcGetCUBIN(*prog, reinterpret_cast<char *>(out.cubin.data())),
          "cubin");
  } else {
    size_t ptxSize = 0;
    check(nvrtcGetPTXSize(*prog, &ptxSize), "ptx size");
    out.ptx.resize(ptxSize);
    check(nvrtcGetPTX(*prog, out.ptx.data()), "ptx");
    if (!out.ptx.empty() && out.ptx.back() == '\0')
      out.ptx.pop_back();
  }
  for (const std::string &e : nameExprs) {
    const char *lowered = nullptr;
    check(nvrtcGetLoweredName(*prog, e.c_str(), &lowered), "lowered name");
    out.loweredNames.emplace_back(lowered);
  }
  return out;
}
} // namespace

CompiledKernels mind::runtime::compileKernels(
    const std::string &source, const std::vector<std::string> &nameExprs,
    const std::string &arch) {
  CompiledKernels out = compileFor(source, nameExprs, arch);
  // Keep PTX beside the cubin (a second compile for the virtual
  // architecture), so a driver can JIT the kernels for a GPU the cubin does
  // not cover.
  if (arch.rfind("sm_", 0) == 0) {
    CompiledKernels virt = compileFor(source, nameExprs, "compute_" + arch.substr(3));
    out.ptx = std::move(virt.ptx);
  }
  return out;
}
