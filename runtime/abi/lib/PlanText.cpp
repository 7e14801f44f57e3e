//===- PlanText.cpp - a plan as text for people ---------------------------===//

#include "mind/abi/Plan.h"
#include "mind/abi/DType.h"

#include <cstdio>
#include <sstream>

using namespace mind::runtime;

namespace {
std::string bufferRef(int64_t id) { return "%" + std::to_string(id); }

std::string argText(const KernelArg &a) {
  switch (a.kind) {
  case KernelArg::Kind::Buffer:
    return bufferRef(a.buffer);
  case KernelArg::Kind::I64:
    return std::to_string(a.i64);
  case KernelArg::Kind::F32:
  case KernelArg::Kind::F64: {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", a.f);
    return buf;
  }
  }
  return "?";
}

std::string dims(const std::array<uint32_t, 3> &d) {
  return std::to_string(d[0]) + "x" + std::to_string(d[1]) + "x" +
         std::to_string(d[2]);
}
} // namespace

std::string mind::runtime::describePlan(const Plan &plan) {
  std::ostringstream os;
  char mib[32];
  std::snprintf(mib, sizeof mib, "%.1f", plan.arenaBytes / 1048576.0);
  os << "// plan: " << plan.steps.size() << " steps, " << plan.kernels.size()
     << " kernels, " << plan.buffers.size() << " buffers, arena " << mib
     << " MiB\n// buffers: id kind dtype shape @offset bytes name\n";
  for (size_t i = 0; i < plan.buffers.size(); ++i) {
    const BufferDesc &b = plan.buffers[i];
    os << bufferRef(static_cast<int64_t>(i)) << " " << bufferKindName(b.kind)
       << " " << dtypeName(b.dtype) << " " << shapeText(b.shape, "x") << " @"
       << b.offset << " " << b.bytes << " " << b.name << "\n";
  }
  os << "// steps (one micro-step, in order)\n";
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    os << "#" << i << " ";
    const Step &step = plan.steps[i];
    if (const auto *k = std::get_if<KernelStep>(&step)) {
      os << "kernel " << plan.kernels.at(static_cast<size_t>(k->kernel)).nameExpr
         << " grid " << dims(k->grid) << " block " << dims(k->block);
      if (k->sharedBytes)
        os << " smem " << k->sharedBytes;
      os << " (";
      for (size_t j = 0; j < k->args.size(); ++j)
        os << (j ? ", " : "") << argText(k->args[j]);
      os << ") ; " << k->label << "\n";
    } else if (const auto *g = std::get_if<GemmStep>(&step)) {
      os << "gemm " << g->m << "x" << g->n << "x" << g->k << " "
         << bufferRef(g->c) << " = " << (g->beta != 0.0f ? "beta * C + " : "")
         << bufferRef(g->a) << (g->transA ? "^T" : "") << " * "
         << bufferRef(g->b) << (g->transB ? "^T" : "");
      if (g->alpha != 1.0f)
        os << " * " << g->alpha;
      os << " ; " << g->label << "\n";
    } else if (const auto *m = std::get_if<MemsetStep>(&step)) {
      os << "memset " << bufferRef(m->buffer) << " ; " << m->label << "\n";
    }
  }
  return os.str();
}
