//===- ExecutorTest.cpp - plans run by the Executor -----------------------===//
//
// Hand-built plans over test kernels (compiled with the kernel library):
// memset + GEMM + kernel steps eagerly, as a captured CUDA graph, and with
// per-step synchronization; launch errors naming the step; and a miniature
// training loop (inputs, outputs, accumulated grads, device optimizer).
// Tolerance 1e-5: an fp32 GEMM (k = 19) plus an exact affine map.
//
//===----------------------------------------------------------------------===//

#include "GpuTest.h"
#include "PlanTestUtil.h"

#include "mind/exec/Executor.h"
#include "mind/exec/Optimizer.h"

using namespace mind;
using namespace mind::gputest;
using runtime::BufferKind;
using runtime::DType;
using runtime::KernelArg;

namespace {

const char *kTestKernels = R"(
namespace mindtest {
// y[i] = a * x[i] + b: every scalar argument kind of a plan.
__global__ void axpb(float *y, const float *x, long long n, float a,
                     double b) {
  long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n)
    y[i] = a * x[i] + (float)b;
}
// Cannot launch with more than 128 threads.
__global__ void __launch_bounds__(128) narrow(float *y) { y[threadIdx.x] = 0; }
// A stand-in for a train step: loss = sum(ids * mask) / 2,
// aux = targets[0], grad += grad_scale * param.
__global__ void fake_step(const long long *ids, const long long *targets,
                          const long long *mask, const float *gradScale,
                          const float *param, float *grad, float *loss,
                          float *aux, long long n, long long tokens) {
  if (threadIdx.x == 0) {
    long long s = 0;
    for (long long t = 0; t < tokens; ++t)
      s += ids[t] * mask[t];
    *loss = (float)s / 2;
    *aux = (float)targets[0];
  }
  for (long long i = threadIdx.x; i < n; i += blockDim.x)
    grad[i] += *gradScale * param[i];
}
}
)";

// The test kernels' parameters, as the plan records them.
using runtime::kabi::ParamKind;
using runtime::kabi::ResolvedParam;
const std::vector<ResolvedParam> kAxpbParams = {
    {"y", ParamKind::Out, DType::F32}, {"x", ParamKind::In, DType::F32},
    {"n", ParamKind::I64, std::nullopt}, {"a", ParamKind::F32, std::nullopt},
    {"b", ParamKind::F64, std::nullopt}};
const std::vector<ResolvedParam> kNarrowParams = {
    {"y", ParamKind::Out, DType::F32}};
const std::vector<ResolvedParam> kFakeStepParams = {
    {"ids", ParamKind::In, DType::I64},
    {"targets", ParamKind::In, DType::I64},
    {"mask", ParamKind::In, DType::I64},
    {"gradScale", ParamKind::In, DType::F32},
    {"param", ParamKind::In, DType::F32},
    {"grad", ParamKind::Out, DType::F32},
    {"loss", ParamKind::Out, DType::F32},
    {"aux", ParamKind::Out, DType::F32},
    {"n", ParamKind::I64, std::nullopt},
    {"tokens", ParamKind::I64, std::nullopt}};

std::vector<float> randomVec(size_t n, std::mt19937 &rng) {
  std::uniform_real_distribution<float> d(-1, 1);
  std::vector<float> v(n);
  for (float &x : v)
    x = d(rng);
  return v;
}

struct GemmPlan {
  int64_t m = 23, n = 17, k = 19;
  int64_t a, b, c, y;
  runtime::Bundle bundle;

  explicit GemmPlan(const std::string &arch = "") {
    PlanBuilder pb;
    a = pb.add("a", BufferKind::Activation, DType::F32, {m, k});
    b = pb.add("b", BufferKind::Activation, DType::F32, {k, n});
    c = pb.add("c", BufferKind::Activation, DType::F32, {m, n});
    y = pb.add("y", BufferKind::Output, DType::F32, {m * n});
    int64_t axpb = pb.kernel("mindtest::axpb", kAxpbParams);
    runtime::GemmStep g;
    g.a = a;
    g.b = b;
    g.c = c;
    g.m = m;
    g.n = n;
    g.k = k;
    g.beta = 1.0f; // accumulates onto the memset's zeros
    g.label = "linear";
    runtime::KernelStep ks;
    ks.kernel = axpb;
    ks.grid = {static_cast<uint32_t>((m * n + 127) / 128), 1, 1};
    ks.block = {128, 1, 1};
    ks.args = {KernelArg::buf(y), KernelArg::buf(c), KernelArg::int64(m * n),
               KernelArg::f32(2.0), KernelArg::f64(0.5)};
    ks.label = "affine";
    pb.plan.steps = {runtime::MemsetStep{c, "zero c"}, g, ks};
    bundle = pb.build(kTestKernels, arch);
  }

  // Uploads fresh A and B, runs one micro-step, checks y = 2 * A B + 0.5.
  void runAndCheck(runtime::Executor &ex, std::mt19937 &rng,
                   const std::string &what) {
    ref::Tensor ta = randomTensor({m, k}, rng), tb = randomTensor({k, n}, rng);
    std::vector<float> va(ta.data.begin(), ta.data.end()),
        vb(tb.data.begin(), tb.data.end());
    // The executor's stream is blocking: these copies wait for it.
    MIND_CUDA_CHECK(cudaMemcpy(ex.bufferPointer(a), va.data(), va.size() * 4,
                               cudaMemcpyHostToDevice),
                    what);
    MIND_CUDA_CHECK(cudaMemcpy(ex.bufferPointer(b), vb.data(), vb.size() * 4,
                               cudaMemcpyHostToDevice),
                    what);
    MIND_CUDA_CHECK(cudaMemset(ex.bufferPointer(y), 0xFF, m * n * 4), what);
    ex.runMicroStep();
    ex.synchronize();
    std::vector<float> got(m * n);
    MIND_CUDA_CHECK(cudaMemcpy(got.data(), ex.bufferPointer(y), got.size() * 4,
                               cudaMemcpyDeviceToHost),
                    what);
    ref::Tensor want = ref::matmul(ta, tb, false, false);
    for (double &v : want.data)
      v = 2 * static_cast<float>(v) + 0.5;
    want.shape = {m * n};
    expectClose(ref::Tensor::fromData({m * n}, {got.begin(), got.end()}), want,
                1e-5, 1e-5, what);
  }
};

// Without a GPU too: the test kernels compile and the test plan is valid.
TEST(ExecutorPlans, TestKernelsCompileAndPlanValidates) {
  GemmPlan p("sm_90a");
  EXPECT_EQ(p.bundle.plan.kernels.size(), 4u);
  auto out = runtime::compileKernels(
      runtime::kernelLibrarySource() + kTestKernels,
      {"mindtest::narrow", "mindtest::fake_step"}, "sm_90a");
  EXPECT_EQ(out.loweredNames.size(), 2u);
}

TEST(Executor, RunsEagerlyThenAsACudaGraph) {
  MIND_REQUIRE_GPU();
  GemmPlan p;
  std::mt19937 rng(31);
  runtime::Executor ex(p.bundle);
  p.runAndCheck(ex, rng, "warm-up (eager)");
  EXPECT_FALSE(ex.usingGraph());
  for (int i = 0; i < 3; ++i) {
    p.runAndCheck(ex, rng, "graph replay " + std::to_string(i));
    EXPECT_TRUE(ex.usingGraph());
  }
}

// Views (plan.view) are bytes of their source: the GEMM of GemmPlan split
// into two chunks of rows, each reading a view of A's rows and writing a
// view of C's rows (the second chunk starts at row 16: 16 * 19 * 4 bytes,
// a multiple of 16), gives the same y as the whole GEMM.
TEST(Executor, ViewsAreBytesOfTheirSource) {
  MIND_REQUIRE_GPU();
  GemmPlan p;
  PlanBuilder pb;
  int64_t a = pb.add("a", BufferKind::Activation, DType::F32, {p.m, p.k});
  int64_t b = pb.add("b", BufferKind::Activation, DType::F32, {p.k, p.n});
  int64_t c = pb.add("c", BufferKind::Activation, DType::F32, {p.m, p.n});
  int64_t y = pb.add("y", BufferKind::Output, DType::F32, {p.m * p.n});
  ASSERT_EQ(a, p.a);
  ASSERT_EQ(b, p.b);
  ASSERT_EQ(y, p.y);
  const int64_t split = 16;
  int64_t a0 = pb.view(a, 0, DType::F32, {split, p.k});
  int64_t a1 = pb.view(a, split * p.k * 4, DType::F32, {p.m - split, p.k});
  int64_t c0 = pb.view(c, 0, DType::F32, {split, p.n});
  int64_t c1 = pb.view(c, split * p.n * 4, DType::F32, {p.m - split, p.n});
  int64_t axpb = pb.kernel("mindtest::axpb", kAxpbParams);
  auto gemm = [&](int64_t av, int64_t cv, int64_t rows) {
    runtime::GemmStep g;
    g.a = av;
    g.b = b;
    g.c = cv;
    g.m = rows;
    g.n = p.n;
    g.k = p.k;
    g.label = "rows";
    return g;
  };
  runtime::KernelStep ks;
  ks.kernel = axpb;
  ks.grid = {static_cast<uint32_t>((p.m * p.n + 127) / 128), 1, 1};
  ks.block = {128, 1, 1};
  ks.args = {KernelArg::buf(y), KernelArg::buf(c), KernelArg::int64(p.m * p.n),
             KernelArg::f32(2.0), KernelArg::f64(0.5)};
  ks.label = "affine";
  pb.plan.steps = {gemm(a0, c0, split), gemm(a1, c1, p.m - split), ks};
  p.bundle = pb.build(kTestKernels);
  std::mt19937 rng(33);
  runtime::Executor ex(p.bundle);
  for (int i = 0; i < 3; ++i) // eager, then graph replays
    p.runAndCheck(ex, rng, "chunked rows " + std::to_string(i));
}

TEST(Executor, RunsWithoutGraphsAndSyncingEachStep) {
  MIND_REQUIRE_GPU();
  GemmPlan p;
  std::mt19937 rng(32);
  runtime::ExecutorOptions noGraph;
  noGraph.cudaGraph = false;
  runtime::Executor ex(p.bundle, noGraph);
  runtime::ExecutorOptions sync;
  sync.syncEachStep = true;
  runtime::Executor ex2(p.bundle, sync);
  for (int i = 0; i < 3; ++i) {
    p.runAndCheck(ex, rng, "no graph " + std::to_string(i));
    p.runAndCheck(ex2, rng, "sync each step " + std::to_string(i));
  }
  EXPECT_FALSE(ex.usingGraph());
  EXPECT_FALSE(ex2.usingGraph());
}

TEST(Executor, LaunchErrorNamesTheStep) {
  MIND_REQUIRE_GPU();
  PlanBuilder pb;
  int64_t y = pb.add("y", BufferKind::Activation, DType::F32, {1024});
  runtime::KernelStep ks;
  ks.kernel = pb.kernel("mindtest::narrow", kNarrowParams);
  ks.block = {1024, 1, 1};
  ks.args = {KernelArg::buf(y)};
  ks.label = "too wide";
  pb.plan.steps = {ks};
  runtime::Executor ex(pb.build(kTestKernels));
  try {
    ex.runMicroStep();
    ex.synchronize();
    ADD_FAILURE() << "launching 1024 threads of a 128-thread kernel worked";
  } catch (const runtime::CudaError &e) {
    cudaGetLastError(); // not sticky: clear it for the next tests
    EXPECT_NE(std::string(e.what()).find("step 0 (too wide) kernel "
                                         "mindtest::narrow"),
              std::string::npos)
        << e.what();
  }
}

TEST(Executor, MiniatureTrainingLoop) {
  MIND_REQUIRE_GPU();
  PlanBuilder pb;
  pb.addParams({5});
  int64_t ids = pb.add("ids", BufferKind::Input, DType::I64, {2, 3});
  int64_t targets = pb.add("targets", BufferKind::Input, DType::I64, {2, 3});
  int64_t mask = pb.add("mask", BufferKind::Input, DType::I64, {2, 3});
  int64_t gs = pb.add("grad_scale", BufferKind::Input, DType::F32, {});
  int64_t loss = pb.add("loss", BufferKind::Output, DType::F32, {});
  int64_t aux = pb.add("aux_loss", BufferKind::Output, DType::F32, {});
  runtime::KernelStep ks;
  ks.kernel = pb.kernel("mindtest::fake_step", kFakeStepParams);
  ks.block = {32, 1, 1};
  ks.args = {KernelArg::buf(ids),  KernelArg::buf(targets),
             KernelArg::buf(mask), KernelArg::buf(gs),
             KernelArg::buf(0),    KernelArg::buf(1),
             KernelArg::buf(loss), KernelArg::buf(aux),
             KernelArg::int64(5),  KernelArg::int64(6)};
  ks.label = "train_step";
  pb.plan.steps = {ks};
  pb.plan.meta = {{"batch_size", 2}, {"seq_len", 3}, {"dtype", "float32"}};
  runtime::Bundle bundle = pb.build(kTestKernels);
  ASSERT_NO_THROW(runtime::trainingInterface(bundle.plan));

  std::mt19937 rng(33);
  runtime::Executor ex(bundle);
  std::vector<float> cpuParam = randomVec(5, rng);
  ex.uploadParam("p0", cpuParam);
  runtime::DeviceOptimizerConfig cfg;
  cfg.accumulationSteps = 2;
  ex.initOptimizer(cfg);
  runtime::AdamW adamw;
  std::uniform_int_distribution<int64_t> tok(0, 99), bit(0, 1);
  for (int micro = 0; micro < 8; ++micro) {
    std::vector<int64_t> vi(6), vt(6), vm(6);
    int64_t want = 0;
    for (int t = 0; t < 6; ++t) {
      vi[t] = tok(rng);
      vt[t] = tok(rng);
      vm[t] = bit(rng);
      want += vi[t] * vm[t];
    }
    ex.setInput("ids", vi);
    ex.setInput("targets", vt);
    ex.setInput("mask", vm);
    ex.runMicroStep();
    EXPECT_EQ(ex.readOutput("loss"), static_cast<float>(want) / 2)
        << "micro-step " << micro;
    EXPECT_EQ(ex.readOutput("aux_loss"), static_cast<float>(vt[0]));
    if (micro % 2 == 1) {
      // Two micro-steps of grad += 0.5 * p: exactly p. The reference starts
      // from the device's params, so ulp differences do not accumulate.
      cpuParam = ex.downloadParam("p0");
      std::vector<float> g = ex.downloadGrad("p0");
      for (size_t i = 0; i < g.size(); ++i)
        ASSERT_EQ(g[i], cpuParam[i]) << "micro-step " << micro;
      std::vector<std::vector<float> *> gp = {&g}, pp = {&cpuParam};
      runtime::clipGradNorm(gp, cfg.maxGradNorm);
      adamw.step(pp, {gp.begin(), gp.end()}, 1e-2);
      ex.optimizerStep(1e-2);
      std::vector<float> got = ex.downloadParam("p0");
      for (size_t i = 0; i < got.size(); ++i)
        EXPECT_NEAR(got[i], cpuParam[i], 1e-6) << "micro-step " << micro;
    }
  }
  EXPECT_TRUE(ex.usingGraph());
  EXPECT_EQ(ex.optimizerState().step, 4);
}

} // namespace
