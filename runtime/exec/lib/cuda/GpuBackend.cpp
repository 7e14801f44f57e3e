//===- GpuBackend.cpp - a compiled bundle as a training backend -----------===//

#include "mind/exec/GpuBackend.h"

#include "mind/exec/Cuda.h"

#include <cstdio>

using namespace mind::runtime;

PeakMemory::PeakMemory() {
  if (!cudaDeviceAvailable())
    return; // the Executor reports the missing device
  enabled = true;
  MIND_CUDA_CHECK(cudaFree(nullptr), "initialise the device");
  size_t total = 0;
  MIND_CUDA_CHECK(cudaMemGetInfo(&freeAtStart, &total),
                  "query free device memory");
}

void PeakMemory::sample() {
  if (!enabled)
    return;
  size_t freeNow = 0, total = 0;
  MIND_CUDA_CHECK(cudaMemGetInfo(&freeNow, &total), "query free device memory");
  if (freeNow < freeAtStart)
    peak = std::max(peak, freeAtStart - freeNow);
}

GpuBackend::GpuBackend(const Bundle &bundle, const GpuBackendOptions &o,
                       const DistEnv &dist)
    : options(o), dist(dist) {
  if (dist.distributed())
    MIND_CUDA_CHECK(cudaSetDevice(dist.localRank),
                    "select device " + std::to_string(dist.localRank) +
                        " (LOCAL_RANK)");
  options.executor.device = dist.localRank;
  peak = std::make_unique<PeakMemory>(); // before anything of ours is there
  ex = std::make_unique<Executor>(bundle, options.executor);
  ti = trainingInterface(ex->plan());
  // Data parallel: gradients are averaged before every optimizer step, so
  // all ranks apply the same update to the same weights.
  if (dist.distributed())
    comm = NcclComm::create(dist);
  for (int64_t id : ex->layout().params) {
    const BufferDesc &b = ex->plan().buffers[static_cast<size_t>(id)];
    specs.push_back({b.name, b.shape});
  }
  ex->initOptimizer(options.optimizer); // also sets grad_scale
  stager = std::make_unique<PinnedBatchStager>(
      *ex, options.batchSize, options.seqLen,
      static_cast<size_t>(options.prefetch));
}

std::string GpuBackend::deviceDescription() const {
  cudaDeviceProp prop{};
  MIND_CUDA_CHECK(cudaGetDeviceProperties(&prop, options.executor.device),
                  "query device " + std::to_string(options.executor.device));
  return std::string("device ") + prop.name + " (" + deviceArch() +
         "), dtype " + options.dtype;
}

std::string GpuBackend::startSuffix() const {
  return options.executor.cudaGraph && !options.executor.syncEachStep
             ? ", CUDA graph"
             : "";
}

std::vector<TensorSpec> GpuBackend::parameters() const { return specs; }

void GpuBackend::setWeights(const TensorList &weights) {
  for (size_t i = 0; i < specs.size(); ++i)
    ex->uploadParam(specs[i].name, weights.at(i));
}

TensorList GpuBackend::weights() {
  TensorList out;
  for (const TensorSpec &t : specs)
    out.push_back(ex->downloadParam(t.name));
  return out;
}

std::function<void(TokenBatch &)> GpuBackend::batchStager() {
  // The stager outlives the loader that calls it (both live for the run).
  PinnedBatchStager *s = stager.get();
  return [s](TokenBatch &b) { s->stage(b); };
}

MicroStepLosses GpuBackend::microStep(const TokenBatch &batch) {
  stager->upload(batch);
  ex->runMicroStep();
  MicroStepLosses l;
  l.loss = ex->readOutput("loss");
  l.aux = ti.auxLoss >= 0 ? ex->readOutput("aux_loss") : 0.0;
  return l;
}

void GpuBackend::optimizerStep(double lr) {
  if (comm)
    comm->allReduceMean(ex->gradRegion(), ex->layout().numElements(),
                        ex->stream());
  ex->optimizerStep(lr);
}

OptimizerSnapshot GpuBackend::optimizerState() {
  OptimizerState os = ex->optimizerState();
  OptimizerSnapshot s;
  s.step = os.step;
  s.skippedSteps = os.skippedSteps;
  s.lossScaling = options.optimizer.dynamicLossScale;
  s.lossScale = static_cast<double>(os.scale);
  s.growthTracker = os.goodSteps;
  for (const TensorSpec &t : specs) {
    s.expAvg.push_back(ex->downloadExpAvg(t.name));
    s.expAvgSq.push_back(ex->downloadExpAvgSq(t.name));
  }
  return s;
}

void GpuBackend::restoreOptimizer(const OptimizerSnapshot &s) {
  for (size_t i = 0; i < specs.size(); ++i) {
    ex->uploadExpAvg(specs[i].name, s.expAvg.at(i));
    ex->uploadExpAvgSq(specs[i].name, s.expAvgSq.at(i));
  }
  OptimizerState os = ex->optimizerState(); // initOptimizer's
  os.step = s.step;
  os.skippedSteps = s.skippedSteps;
  if (options.optimizer.dynamicLossScale && s.lossScaling) {
    os.scale = static_cast<float>(s.lossScale);
    os.goodSteps = s.growthTracker;
  }
  ex->setOptimizerState(os); // grad_scale follows the restored scale
}

void GpuBackend::writeMetrics(std::ostream &line) {
  line << ",\"peak_device_memory_mib\":" << peak->mib();
  if (options.optimizer.dynamicLossScale) {
    OptimizerState st = ex->optimizerState();
    line << ",\"loss_scale\":" << st.scale
         << ",\"skipped_steps\":" << st.skippedSteps;
  }
}

void GpuBackend::finish() {
  ex->synchronize();
  peak->sample();
  if (dist.rank == 0)
    std::printf("mind-trainer: peak device memory: %.1f MiB\n", peak->mib());
}
