//===- Executor.cpp - run a bundle's plan on the GPU ----------------------===//

#include "ExecutorImpl.h"

#include "mind/abi/DenseKernelSpecs.h"

#include <cstring>

using namespace mind::runtime;

//===----------------------------------------------------------------------===//
// Loading
//===----------------------------------------------------------------------===//

namespace {

std::string stepLabel(const Step &s) {
  if (auto *k = std::get_if<KernelStep>(&s))
    return k->label;
  if (auto *g = std::get_if<GemmStep>(&s))
    return g->label;
  return std::get<MemsetStep>(s).label;
}

std::unique_ptr<CudaModule> loadModule(const Bundle &b) {
  std::vector<std::string> lowered;
  for (const KernelEntry &k : b.plan.kernels)
    lowered.push_back(k.loweredName);
  std::string arch = deviceArch();
  std::string built = b.plan.meta.is_object() && b.plan.meta.contains("arch") &&
                              b.plan.meta["arch"].is_string()
                          ? b.plan.meta["arch"].get<std::string>()
                          : "unknown";
  if (!b.cubin.empty()) {
    try {
      return std::make_unique<CudaModule>(b.cubin, lowered);
    } catch (const CudaError &e) {
      if (b.ptx.empty())
        throw CudaError(std::string(e.what()) + " (bundle compiled for " +
                        built + ", this device is " + arch +
                        "; the bundle carries no PTX to JIT)");
    }
  }
  // PTX is loaded as text: NUL-terminated.
  std::vector<uint8_t> ptx(b.ptx.begin(), b.ptx.end());
  ptx.push_back(0);
  return std::make_unique<CudaModule>(ptx, lowered);
}

/// The device pointer arrays of a plan's array arguments, one table for the
/// whole plan (filled once: buffers never move).
struct PointerTables {
  std::vector<void *> host;
  std::vector<size_t> start; // per (step, argument) with an array, in order
};

PointerTables pointerTables(const Plan &plan, char *arena) {
  PointerTables t;
  for (const Step &s : plan.steps)
    if (auto *k = std::get_if<KernelStep>(&s))
      for (const KernelArg &a : k->args)
        if (a.kind == KernelArg::Kind::Buffers) {
          t.start.push_back(t.host.size());
          for (int64_t id : a.buffers)
            t.host.push_back(arena +
                             plan.buffers[static_cast<size_t>(id)].offset);
        }
  return t;
}

} // namespace

Executor::Executor(const Bundle &bundle, ExecutorOptions options)
    : impl(std::make_unique<Impl>()) {
  Impl &x = *impl;
  x.bundle = bundle;
  x.options = options;
  const Plan &plan = x.bundle.plan;
  validatePlan(plan); // hand-built bundles (tests, mindc) get checked too
  if (!cudaDeviceAvailable())
    throw CudaError("no CUDA device: the GPU trainer needs one (the CPU "
                    "reference trainer is `mind-train --device=cpu`)");
  MIND_CUDA_CHECK(cudaSetDevice(options.device),
                  "select device " + std::to_string(options.device));
  // A blocking stream: ordered with the legacy default stream, so helpers
  // such as DeviceBuffer::upload/fill need no extra synchronization.
  MIND_CUDA_CHECK(cudaStreamCreate(&x.stream), "create the stream");
  x.arena = DeviceBuffer(plan.arenaBytes);
  // Zeroed once: gradient accumulators and region padding start at 0.
  if (plan.arenaBytes) {
    MIND_CUDA_CHECK(
        cudaMemsetAsync(x.arena.data(), 0, plan.arenaBytes, x.stream),
        "zero the arena");
    MIND_CUDA_CHECK(cudaStreamSynchronize(x.stream), "zero the arena");
  }
  if (!plan.kernels.empty())
    x.module = loadModule(x.bundle);

  bool hasParams = false;
  for (const BufferDesc &b : plan.buffers)
    hasParams |= b.kind == BufferKind::Param;
  if (hasParams)
    x.params = paramLayout(plan);

  char *arena = static_cast<char *>(x.arena.data());
  PointerTables tables = pointerTables(plan, arena);
  if (!tables.host.empty()) {
    x.pointerTables = DeviceBuffer(tables.host.size() * sizeof(void *));
    x.pointerTables.upload(tables.host.data(),
                           tables.host.size() * sizeof(void *));
  }
  size_t nextTable = 0;
  x.gemms.resize(plan.steps.size());
  x.launchArgs.resize(plan.steps.size());
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    const Step &s = plan.steps[i];
    std::string label = stepLabel(s);
    std::string name =
        "step " + std::to_string(i) + (label.empty() ? "" : " (" + label + ")");
    if (auto *k = std::get_if<KernelStep>(&s)) {
      name +=
          " kernel " + plan.kernels[static_cast<size_t>(k->kernel)].nameExpr;
      const KernelEntry &entry = plan.kernels[static_cast<size_t>(k->kernel)];
      x.launchArgs[i] = kabi::marshalArguments<int64_t>(
          entry.params, k->args,
          [&](const int64_t &id) -> void * {
            return arena + plan.buffers[static_cast<size_t>(id)].offset;
          },
          [&](size_t) -> void * {
            return static_cast<void **>(x.pointerTables.data()) +
                   tables.start[nextTable++];
          });
    } else if (auto *g = std::get_if<GemmStep>(&s)) {
      if (!x.cublas) {
        x.cublas = std::make_unique<CublasLtHandle>();
        x.workspace = DeviceBuffer(options.gemmWorkspaceBytes);
      }
      name += " gemm";
      x.gemms[i] = std::make_unique<PreparedGemm>(
          x.cublas->get(), *g, x.buf(g->a).dtype, x.buf(g->c).dtype,
          options.gemmWorkspaceBytes, name);
    } else {
      name += " memset";
    }
    x.stepNames.push_back(std::move(name));
  }
}

Executor::~Executor() = default;

Executor::Impl::~Impl() {
  if (stream)
    cudaStreamSynchronize(stream); // before freeing what queued work uses
  if (graphExec)
    cudaGraphExecDestroy(graphExec);
  if (graph)
    cudaGraphDestroy(graph);
  if (optGraphExec)
    cudaGraphExecDestroy(optGraphExec);
  if (optGraph)
    cudaGraphDestroy(optGraph);
  for (cudaEvent_t e : lrCopied)
    if (e)
      cudaEventDestroy(e);
  if (lrHost)
    cudaFreeHost(lrHost);
  if (stream)
    cudaStreamDestroy(stream);
}

int64_t Executor::Impl::id(const std::string &name) const {
  int64_t i = findBuffer(bundle.plan, name);
  if (i < 0)
    throw std::invalid_argument("the plan has no buffer named '" + name + "'");
  return i;
}

int64_t Executor::Impl::kernelIndex(const std::string &nameExpr) const {
  const auto &ks = bundle.plan.kernels;
  for (size_t i = 0; i < ks.size(); ++i)
    if (ks[i].nameExpr == nameExpr)
      return static_cast<int64_t>(i);
  return -1;
}

const ParamLayout &Executor::Impl::layout() const {
  if (!params)
    throw BundleError("plan: no param buffers");
  return *params;
}

int64_t Executor::Impl::paramId(const std::string &name) const {
  int64_t i = id(name);
  if (buf(i).kind != BufferKind::Param)
    throw std::invalid_argument("'" + name + "' is a " +
                                bufferKindName(buf(i).kind) +
                                " buffer, not a param");
  return i;
}

//===----------------------------------------------------------------------===//
// The micro-step
//===----------------------------------------------------------------------===//

void Executor::Impl::enqueueSteps(
    const std::function<void(size_t)> &afterStep) {
  const Plan &plan = bundle.plan;
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    const Step &s = plan.steps[i];
    const std::string &what = stepNames[i];
    if (auto *k = std::get_if<KernelStep>(&s)) {
      module->launch(static_cast<size_t>(k->kernel), k->grid, k->block,
                     k->sharedBytes, launchArgs[i].argv.data(), stream, what);
    } else if (auto *g = std::get_if<GemmStep>(&s)) {
      gemms[i]->run(ptr(g->a), ptr(g->b), ptr(g->c), workspace.data(), stream);
    } else {
      int64_t b = std::get<MemsetStep>(s).buffer;
      MIND_CUDA_CHECK(cudaMemsetAsync(ptr(b), 0, buf(b).bytes, stream), what);
    }
    if (options.syncEachStep)
      MIND_CUDA_CHECK(cudaStreamSynchronize(stream), what);
    if (afterStep)
      afterStep(i);
  }
}

void Executor::Impl::capture() {
  captureGraph(
      stream, [&] { enqueueSteps(); }, graph, graphExec, "micro-step");
}

void Executor::Impl::refreshCopies() {
  if (!copiesStale || !params || !params->hasCopies())
    return;
  const ParamLayout &l = *params;
  int64_t n = static_cast<int64_t>(l.numElements());
  auto cfg = kernels::cast(DType::F32, l.copyDtype, n);
  int64_t k = kernelIndex(cfg.nameExpr);
  if (k < 0)
    throw BundleError("plan: the bundle has param copies but lacks '" +
                      cfg.nameExpr + "' to fill them");
  char *base = static_cast<char *>(arena.data());
  launchLibrary(k, cfg,
                kabi::Builder<sig::cast_fwd, void *>::args(
                    kabi::Buffer<void *>(base + l.paramBase),
                    kabi::Buffer<void *>(base + l.copyBase), kabi::I64(n)),
                "fill the param copies");
  copiesStale = false;
}

void Executor::Impl::launchLibrary(int64_t kernel, const LaunchConfig &cfg,
                                   const std::vector<kabi::Arg<void *>> &args,
                                   const char *what) {
  using Ptr = void *;
  const KernelEntry &entry = bundle.plan.kernels[static_cast<size_t>(kernel)];
  kabi::LaunchArgs la = kabi::marshalArguments<Ptr>(
      entry.params, args, [](const Ptr &p) { return p; },
      [](size_t) -> void * {
        throw std::logic_error("library launches here take no arrays");
      });
  module->launch(static_cast<size_t>(kernel), cfg.grid, cfg.block,
                 cfg.sharedBytes, la.argv.data(), stream, what);
  if (options.syncEachStep)
    MIND_CUDA_CHECK(cudaStreamSynchronize(stream), what);
}

void Executor::runMicroStep() {
  Impl &x = *impl;
  x.refreshCopies(); // outside the graph: only after the host wrote params
  bool graphs = x.options.cudaGraph && !x.options.syncEachStep;
  if (!graphs || !x.warmedUp) {
    x.enqueueSteps();
    x.warmedUp = true;
    return;
  }
  if (!x.graphExec)
    x.capture();
  MIND_CUDA_CHECK(cudaGraphLaunch(x.graphExec, x.stream),
                  "launch the micro-step graph");
}

std::vector<double> Executor::profileMicroStep() {
  Impl &x = *impl;
  x.refreshCopies();
  size_t n = x.bundle.plan.steps.size();
  std::vector<cudaEvent_t> events(n + 1);
  for (auto &e : events)
    MIND_CUDA_CHECK(cudaEventCreate(&e), "create a profiling event");
  std::vector<double> ms(n, 0.0);
  try {
    MIND_CUDA_CHECK(cudaEventRecord(events[0], x.stream), "profile");
    x.enqueueSteps([&](size_t i) {
      MIND_CUDA_CHECK(cudaEventRecord(events[i + 1], x.stream), "profile");
    });
    MIND_CUDA_CHECK(cudaEventSynchronize(events[n]), "profile");
    for (size_t i = 0; i < n; ++i) {
      float t = 0;
      MIND_CUDA_CHECK(cudaEventElapsedTime(&t, events[i], events[i + 1]),
                      "profile");
      ms[i] = t;
    }
  } catch (...) {
    for (auto &e : events)
      cudaEventDestroy(e);
    throw;
  }
  for (auto &e : events)
    cudaEventDestroy(e);
  return ms;
}

std::string Executor::stepKind(size_t i) const {
  const Plan &plan = impl->bundle.plan;
  const Step &s = plan.steps.at(i);
  if (auto *k = std::get_if<KernelStep>(&s))
    return plan.kernels.at(static_cast<size_t>(k->kernel)).nameExpr;
  if (auto *g = std::get_if<GemmStep>(&s))
    return std::string("gemm ") + dtypeName(plan.buffers.at(g->a).dtype) +
           "->" + dtypeName(plan.buffers.at(g->c).dtype) +
           (g->transA ? " A^T" : "") + (g->transB ? " B^T" : "") +
           (g->beta != 0.0f ? " +=" : "");
  return "memset";
}

bool Executor::usingGraph() const { return impl->graphExec != nullptr; }

void Executor::synchronize() {
  MIND_CUDA_CHECK(cudaStreamSynchronize(impl->stream),
                  "run the micro-step (a device fault in some step; "
                  "ExecutorOptions::syncEachStep / --sync_each_step names it)");
}

void Executor::setInput(const std::string &name,
                        const std::vector<int64_t> &values) {
  Impl &x = *impl;
  int64_t i = x.id(name);
  const BufferDesc &b = x.buf(i);
  if (b.kind != BufferKind::Input || b.dtype != DType::I64 ||
      b.bytes != values.size() * sizeof(int64_t))
    throw std::invalid_argument(
        "setInput('" + name + "'): the buffer is a " + bufferKindName(b.kind) +
        " " + dtypeName(b.dtype) + " of " + std::to_string(b.bytes) +
        " bytes, given " + std::to_string(values.size()) + " int64 values");
  // Pageable H2D copies return once the source has been staged: `values`
  // may die right after; stream order keeps it behind the previous step.
  MIND_CUDA_CHECK(cudaMemcpyAsync(x.ptr(i), values.data(), b.bytes,
                                  cudaMemcpyHostToDevice, x.stream),
                  "set input '" + name + "'");
}

void Executor::setInput(const std::string &name, float value) {
  Impl &x = *impl;
  int64_t i = x.id(name);
  const BufferDesc &b = x.buf(i);
  if (b.kind != BufferKind::Input || b.dtype != DType::F32 || b.bytes != 4)
    throw std::invalid_argument("setInput('" + name +
                                "'): not an F32 scalar input");
  MIND_CUDA_CHECK(
      cudaMemcpyAsync(x.ptr(i), &value, 4, cudaMemcpyHostToDevice, x.stream),
      "set input '" + name + "'");
  MIND_CUDA_CHECK(cudaStreamSynchronize(x.stream), "set input '" + name + "'");
}

float Executor::readOutput(const std::string &name) {
  Impl &x = *impl;
  int64_t i = x.id(name);
  const BufferDesc &b = x.buf(i);
  if (b.dtype != DType::F32 || b.bytes != 4)
    throw std::invalid_argument("readOutput('" + name +
                                "'): not an F32 scalar");
  float v = 0;
  MIND_CUDA_CHECK(
      cudaMemcpyAsync(&v, x.ptr(i), 4, cudaMemcpyDeviceToHost, x.stream),
      "read output '" + name + "'");
  synchronize();
  return v;
}

//===----------------------------------------------------------------------===//
// Buffers
//===----------------------------------------------------------------------===//

const Plan &Executor::plan() const { return impl->bundle.plan; }
cudaStream_t Executor::stream() const { return impl->stream; }
void *Executor::bufferPointer(int64_t id) const {
  if (id < 0 || id >= static_cast<int64_t>(impl->bundle.plan.buffers.size()))
    throw std::invalid_argument("buffer id " + std::to_string(id) +
                                " out of range");
  return impl->ptr(id);
}
int64_t Executor::bufferId(const std::string &name) const {
  return impl->id(name);
}
const ParamLayout &Executor::layout() const { return impl->layout(); }

namespace {
void copyIn(cudaStream_t s, void *dst, const std::vector<float> &v,
            uint64_t bytes, const std::string &what) {
  if (v.size() * 4 != bytes)
    throw std::invalid_argument(what + ": " + std::to_string(v.size()) +
                                " values for " + std::to_string(bytes / 4) +
                                " elements");
  MIND_CUDA_CHECK(
      cudaMemcpyAsync(dst, v.data(), bytes, cudaMemcpyHostToDevice, s), what);
  MIND_CUDA_CHECK(cudaStreamSynchronize(s), what);
}
std::vector<float> copyOut(cudaStream_t s, const void *src, uint64_t bytes,
                           const std::string &what) {
  std::vector<float> v(bytes / 4);
  MIND_CUDA_CHECK(
      cudaMemcpyAsync(v.data(), src, bytes, cudaMemcpyDeviceToHost, s), what);
  MIND_CUDA_CHECK(cudaStreamSynchronize(s), what);
  return v;
}
} // namespace

void Executor::uploadParam(const std::string &name,
                           const std::vector<float> &values) {
  int64_t i = impl->paramId(name);
  copyIn(impl->stream, impl->ptr(i), values, impl->buf(i).bytes,
         "upload param '" + name + "'");
  impl->copiesStale = true;
}

std::vector<float> Executor::downloadParam(const std::string &name) {
  int64_t i = impl->paramId(name);
  return copyOut(impl->stream, impl->ptr(i), impl->buf(i).bytes,
                 "download param '" + name + "'");
}

void Executor::uploadGrad(const std::string &name,
                          const std::vector<float> &values) {
  int64_t i =
      impl->id(impl->bundle.plan.buffers[impl->paramId(name)].name + ".grad");
  copyIn(impl->stream, impl->ptr(i), values, impl->buf(i).bytes,
         "upload grad of '" + name + "'");
}

std::vector<float> Executor::downloadGrad(const std::string &name) {
  int64_t i =
      impl->id(impl->bundle.plan.buffers[impl->paramId(name)].name + ".grad");
  return copyOut(impl->stream, impl->ptr(i), impl->buf(i).bytes,
                 "download grad of '" + name + "'");
}

void Executor::zeroGrads() {
  const ParamLayout &l = layout();
  MIND_CUDA_CHECK(
      cudaMemsetAsync(static_cast<char *>(impl->arena.data()) + l.gradBase, 0,
                      l.regionBytes, impl->stream),
      "zero the gradients");
}

float *Executor::paramRegion() const {
  impl->copiesStale = true; // the caller may write the params
  return reinterpret_cast<float *>(static_cast<char *>(impl->arena.data()) +
                                   layout().paramBase);
}

float *Executor::gradRegion() const {
  return reinterpret_cast<float *>(static_cast<char *>(impl->arena.data()) +
                                   layout().gradBase);
}
