//===- ExecutorOptimizer.cpp - clip + AdamW (+ loss scaling) on device ----===//
//
// Three launches per optimizer step over the flat regions of the plan's
// ParamLayout (see OptimizerSpecs.h); the state (norm, step count, loss
// scale) and the learning rate stay on the device, so nothing here waits for
// the GPU, and after one eager step the launches are captured as a CUDA
// graph (their arguments never change; the lr is copied in before each
// launch).
//
//===----------------------------------------------------------------------===//

#include "ExecutorImpl.h"

using namespace mind::runtime;

void Executor::initOptimizer(const DeviceOptimizerConfig &config) {
  Impl &x = *impl;
  const ParamLayout &l = x.layout();
  if (config.accumulationSteps < 1)
    throw std::invalid_argument("accumulation steps must be positive");
  if (config.dynamicLossScale &&
      (!(config.initialScale > 0) || config.growthInterval < 1))
    throw std::invalid_argument("loss scaling needs a positive initial scale "
                                "and growth interval");
  x.kNorm = x.kernelIndex("mind::grad_sqnorm_partial");
  x.kPrepare = x.kernelIndex("mind::optimizer_prepare");
  x.kAdamw = x.kernelIndex(
      l.hasCopies() ? kernels::adamwFusedCopy(l.copyDtype, 1).nameExpr
                    : kernels::adamwFused(1).nameExpr);
  if (x.kNorm < 0 || x.kPrepare < 0 || x.kAdamw < 0)
    throw BundleError("plan: the bundle lacks the optimizer kernels (mindc "
                      "must add kernels::optimizerKernelNames() to the plan)");
  // The graph (if any) captured the old buffers and scalars.
  MIND_CUDA_CHECK(cudaStreamSynchronize(x.stream),
                  "finish the work of the previous optimizer");
  x.resetOptimizerGraph();
  x.optimizerReady = false;
  x.optConfig = config;
  int64_t n = static_cast<int64_t>(l.numElements());
  if (!x.lrHost) {
    x.lrDevice = DeviceBuffer(sizeof(double));
    MIND_CUDA_CHECK(cudaMallocHost(reinterpret_cast<void **>(&x.lrHost),
                                   Impl::kLrSlots * sizeof(double)),
                    "allocate the pinned learning-rate slots");
    for (cudaEvent_t &e : x.lrCopied)
      MIND_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming),
                      "create a learning-rate event");
    x.lrNext = 0;
  }
  x.expAvg = DeviceBuffer(l.regionBytes);
  x.expAvgSq = DeviceBuffer(l.regionBytes);
  x.partials = DeviceBuffer(kernels::gradNormPartials(n) * sizeof(double));
  x.optState = DeviceBuffer(sizeof(OptimizerState));
  MIND_CUDA_CHECK(cudaMemsetAsync(x.expAvg.data(), 0, l.regionBytes, x.stream),
                  "zero exp_avg");
  MIND_CUDA_CHECK(
      cudaMemsetAsync(x.expAvgSq.data(), 0, l.regionBytes, x.stream),
      "zero exp_avg_sq");
  OptimizerState st;
  st.scale = config.dynamicLossScale ? config.initialScale : 1.0f;
  st.invScale = static_cast<float>(1.0 / st.scale);
  st.stepInvScale = st.invScale;
  MIND_CUDA_CHECK(cudaMemcpyAsync(x.optState.data(), &st, sizeof(st),
                                  cudaMemcpyHostToDevice, x.stream),
                  "initialize the optimizer state");
  if (findBuffer(x.bundle.plan, "grad_scale") < 0)
    x.gradScaleFallback = DeviceBuffer(4);
  x.setGradScale(st.scale);
  MIND_CUDA_CHECK(cudaStreamSynchronize(x.stream), "initialize the optimizer");
  x.optimizerReady = true;
}

void Executor::Impl::setGradScale(float scale) {
  // The backward seed of the next window, as optimizer_prepare computes it.
  float gradScale =
      static_cast<float>(static_cast<double>(scale) /
                         static_cast<double>(optConfig.accumulationSteps));
  int64_t gs = findBuffer(bundle.plan, "grad_scale");
  if (gs >= 0)
    MIND_CUDA_CHECK(
        cudaMemcpyAsync(ptr(gs), &gradScale, 4, cudaMemcpyHostToDevice, stream),
        "set grad_scale");
  MIND_CUDA_CHECK(cudaStreamSynchronize(stream), "set grad_scale");
}

void Executor::setOptimizerState(const OptimizerState &state) {
  Impl &x = *impl;
  if (!x.optimizerReady)
    throw std::logic_error("setOptimizerState before initOptimizer");
  if (!(state.scale > 0) || state.step < 0)
    throw std::invalid_argument("setOptimizerState: bad scale or step");
  OptimizerState st = state;
  st.invScale = static_cast<float>(1.0 / st.scale);
  st.stepInvScale = st.invScale;
  st.skipped = 0;
  x.resetOptimizerGraph();
  MIND_CUDA_CHECK(cudaMemcpyAsync(x.optState.data(), &st, sizeof(st),
                                  cudaMemcpyHostToDevice, x.stream),
                  "restore the optimizer state");
  x.setGradScale(st.scale);
}

void Executor::Impl::setLr(double lr) {
  size_t slot = lrNext;
  lrNext = (lrNext + 1) % kLrSlots;
  // Waits only if the slot's previous copy (kLrSlots steps ago) is still
  // queued; an event never recorded returns at once.
  MIND_CUDA_CHECK(cudaEventSynchronize(lrCopied[slot]),
                  "reuse a learning-rate slot");
  lrHost[slot] = lr;
  MIND_CUDA_CHECK(cudaMemcpyAsync(lrDevice.data(), &lrHost[slot],
                                  sizeof(double), cudaMemcpyHostToDevice,
                                  stream),
                  "optimizer: copy the learning rate");
  MIND_CUDA_CHECK(cudaEventRecord(lrCopied[slot], stream),
                  "optimizer: copy the learning rate");
}

void Executor::Impl::enqueueOptimizer() {
  Impl &x = *this;
  const ParamLayout &l = x.layout();
  const DeviceOptimizerConfig &c = x.optConfig;
  int64_t n = static_cast<int64_t>(l.numElements());
  void *param = x.ptr(l.params[0]);
  void *grad = x.ptr(l.grads[0]);
  void *state = x.optState.data();
  void *partials = x.partials.data();
  void *lr = x.lrDevice.data();
  int64_t gs = findBuffer(x.bundle.plan, "grad_scale");
  void *gradScale =
      gs >= 0 ? static_cast<void *>(x.ptr(gs)) : x.gradScaleFallback.data();
  void *expAvg = x.expAvg.data(), *expAvgSq = x.expAvgSq.data();
  bool sync = x.options.syncEachStep;

  using Ptr = void *;
  using kabi::Buffer;
  auto B = [](void *p) { return Buffer<Ptr>(p); };
  auto launch = [&](int64_t kernel, const LaunchConfig &cfg,
                    const std::vector<kabi::Arg<Ptr>> &args, const char *what) {
    x.launchLibrary(kernel, cfg, args, what);
  };

  launch(x.kNorm, kernels::gradSqNormPartial(n),
         kabi::Builder<sig::grad_sqnorm_partial, Ptr>::args(
             B(grad), kabi::I64(n), B(state), B(partials)),
         "optimizer: gradient norm");

  const double beta1 = c.adamw.beta1, beta2 = c.adamw.beta2;
  launch(x.kPrepare, kernels::optimizerPrepare(),
         kabi::Builder<sig::optimizer_prepare, Ptr>::args(
             B(partials), kabi::I64(kernels::gradNormPartials(n)), B(state),
             B(gradScale), B(lr), kabi::F64(c.maxGradNorm), kabi::F64(beta1),
             kabi::F64(beta2), kabi::F64(c.adamw.weightDecay),
             kabi::F64(1.0 / static_cast<double>(c.accumulationSteps)),
             kabi::I64(c.dynamicLossScale ? 1 : 0),
             kabi::I64(c.growthInterval)),
         "optimizer: clip and step scalars");

  if (l.hasCopies()) {
    void *copy = static_cast<char *>(x.arena.data()) + l.copyBase;
    launch(x.kAdamw, kernels::adamwFusedCopy(l.copyDtype, n),
           kabi::Builder<sig::adamw_fused_copy, Ptr>::args(
               B(param), B(grad), B(expAvg), B(expAvgSq), B(copy),
               kabi::I64(n), B(state), kabi::F64(beta1), kabi::F64(beta2),
               kabi::F64(c.adamw.eps)),
           "optimizer: AdamW (and the weight copies)");
    return;
  }
  launch(x.kAdamw, kernels::adamwFused(n),
         kabi::Builder<sig::adamw_fused, Ptr>::args(
             B(param), B(grad), B(expAvg), B(expAvgSq), kabi::I64(n), B(state),
             kabi::F64(beta1), kabi::F64(beta2), kabi::F64(c.adamw.eps)),
         "optimizer: AdamW");
}

void Executor::Impl::captureOptimizer() {
  captureGraph(
      stream, [&] { enqueueOptimizer(); }, optGraph, optGraphExec,
      "optimizer");
}

void Executor::Impl::resetOptimizerGraph() {
  // An in-flight launch of the executable graph completes; CUDA frees it
  // afterwards.
  if (optGraphExec)
    cudaGraphExecDestroy(optGraphExec);
  if (optGraph)
    cudaGraphDestroy(optGraph);
  optGraphExec = nullptr;
  optGraph = nullptr;
  optWarmedUp = false;
}

void Executor::optimizerStep(double lr) {
  Impl &x = *impl;
  if (!x.optimizerReady)
    throw std::logic_error("optimizerStep before initOptimizer");
  x.setLr(lr); // before the launches, outside any capture
  x.refreshCopies(); // likewise (a skipped step leaves the copies as they are)
  bool graphs = x.options.cudaGraph && !x.options.syncEachStep;
  if (!graphs || !x.optWarmedUp) {
    x.enqueueOptimizer();
    x.optWarmedUp = true;
    return;
  }
  if (!x.optGraphExec)
    x.captureOptimizer();
  MIND_CUDA_CHECK(cudaGraphLaunch(x.optGraphExec, x.stream),
                  "launch the optimizer graph");
}

bool Executor::optimizerUsingGraph() const {
  return impl->optGraphExec != nullptr;
}

OptimizerState Executor::optimizerState() {
  Impl &x = *impl;
  if (!x.optimizerReady)
    throw std::logic_error("optimizerState before initOptimizer");
  OptimizerState st;
  MIND_CUDA_CHECK(cudaMemcpyAsync(&st, x.optState.data(), sizeof(st),
                                  cudaMemcpyDeviceToHost, x.stream),
                  "read the optimizer state");
  synchronize();
  return st;
}

std::vector<float> Executor::Impl::moment(const DeviceBuffer &m,
                                          const std::string &name,
                                          const char *which) {
  Impl &x = *this;
  if (!x.optimizerReady)
    throw std::logic_error("optimizer moments before initOptimizer");
  int64_t i = x.paramId(name);
  const BufferDesc &b = x.buf(i);
  std::vector<float> v(b.bytes / 4);
  MIND_CUDA_CHECK(cudaMemcpyAsync(v.data(),
                                  static_cast<const char *>(m.data()) +
                                      (b.offset - x.layout().paramBase),
                                  b.bytes, cudaMemcpyDeviceToHost, x.stream),
                  std::string("download ") + which + " of '" + name + "'");
  MIND_CUDA_CHECK(cudaStreamSynchronize(x.stream), "download moments");
  return v;
}

std::vector<float> Executor::downloadExpAvg(const std::string &name) {
  return impl->moment(impl->expAvg, name, "exp_avg");
}

std::vector<float> Executor::downloadExpAvgSq(const std::string &name) {
  return impl->moment(impl->expAvgSq, name, "exp_avg_sq");
}

void Executor::Impl::setMoment(DeviceBuffer &m, const std::string &name,
                               const std::vector<float> &values,
                               const char *which) {
  if (!optimizerReady)
    throw std::logic_error("optimizer moments before initOptimizer");
  int64_t i = paramId(name);
  const BufferDesc &b = buf(i);
  if (values.size() * 4 != b.bytes)
    throw std::invalid_argument(std::string("upload ") + which + " of '" +
                                name + "': " + std::to_string(values.size()) +
                                " values for " + std::to_string(b.bytes / 4));
  resetOptimizerGraph(); // resuming: recapture from the restored state
  MIND_CUDA_CHECK(cudaMemcpyAsync(static_cast<char *>(m.data()) +
                                      (b.offset - layout().paramBase),
                                  values.data(), b.bytes,
                                  cudaMemcpyHostToDevice, stream),
                  std::string("upload ") + which + " of '" + name + "'");
  MIND_CUDA_CHECK(cudaStreamSynchronize(stream), "upload moments");
}

void Executor::uploadExpAvg(const std::string &name,
                            const std::vector<float> &values) {
  impl->setMoment(impl->expAvg, name, values, "exp_avg");
}

void Executor::uploadExpAvgSq(const std::string &name,
                              const std::vector<float> &values) {
  impl->setMoment(impl->expAvgSq, name, values, "exp_avg_sq");
}
