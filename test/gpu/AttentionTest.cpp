//===- AttentionTest.cpp - attention kernels vs ref::attention(Grad) ------===//
//
// Forward (out, lse) and backward (dq, dk, dv) of runtime/kernels/
// attention.cuh against the double-precision reference, on inputs already
// rounded to the storage type (so only the kernels' own rounding is
// measured). Shapes cover GQA groups of 1, 2, 3 and 4, every head dim, and
// sequence lengths that are not multiples of the 32/64-row tiles.
//
// Tolerances are |got - want| <= atol * max|want| + rtol * |want|:
//  - f32 (fp32 FMA products, fp32 softmax): rtol 1e-4, atol 1e-5. Errors
//    are fp32 rounding of sums of at most S * Hq/Hkv terms (~1e-6 of the
//    largest element in practice).
//  - bf16 / f16 (tensor cores, fp32 accumulation): rtol and atol 2e-2. The
//    results are rounded to the storage type (2^-9 relative for bf16) and P
//    and dS are rounded to it before their products (FlashAttention-2 does
//    the same); observed errors stay near 4e-3 of the largest element.
//
//===----------------------------------------------------------------------===//

#include "GpuTest.h"

#include "mind/abi/KernelSpecs.h"

#include <algorithm>
#include <cmath>
#include <sstream>

using namespace mind;
using namespace mind::gputest;
using runtime::DType;
namespace rk = mind::runtime::kernels;

namespace {
struct Case {
  DType dtype;
  int64_t b, s, hq, hkv, d;
  bool causal;
  double scaleMul = 1.0; // scale = scaleMul / sqrt(D)
};

std::string describe(const Case &c) {
  std::ostringstream os;
  os << runtime::dtypeName(c.dtype) << "_B" << c.b << "_S" << c.s << "_Hq"
     << c.hq << "_Hkv" << c.hkv << "_D" << c.d
     << (c.causal ? "_causal" : "_full");
  if (c.scaleMul != 1.0)
    os << "_sharp";
  return os.str();
}
std::string caseName(const ::testing::TestParamInfo<Case> &info) {
  return describe(info.param);
}
// gtest prints parameters with this instead of a byte dump.
void PrintTo(const Case &c, std::ostream *os) { *os << describe(c); }

double maxAbs(const ref::Tensor &t) {
  double m = 0;
  for (double v : t.data)
    m = std::max(m, std::abs(v));
  return m;
}

// Compares against `want` with the tolerances of the file comment.
void expectNear(const ref::Tensor &got, const ref::Tensor &want, DType dtype,
                const std::string &what) {
  bool wide = dtype == DType::F32;
  double atol = (wide ? 1e-5 : 2e-2) * maxAbs(want);
  double rtol = wide ? 1e-4 : 2e-2;
  expectClose(got, want, atol, rtol, what);
}

// Uploads `t` as `dtype` and replaces it by the values the device holds.
DevTensor uploadRounded(ref::Tensor &t, DType dtype) {
  DevTensor d = upload(t, dtype);
  t = download(d);
  return d;
}

class AttentionTest : public ::testing::TestWithParam<Case> {
protected:
  // Random inputs, rounded to the storage type. q spans [-2, 2) so that the
  // softmax is not nearly uniform.
  void makeInputs(std::mt19937 &rng) {
    const Case &c = GetParam();
    q = randomTensor({c.b, c.s, c.hq, c.d}, rng, -2.0, 2.0);
    k = randomTensor({c.b, c.s, c.hkv, c.d}, rng);
    v = randomTensor({c.b, c.s, c.hkv, c.d}, rng);
    qDev = uploadRounded(q, c.dtype);
    kDev = uploadRounded(k, c.dtype);
    vDev = uploadRounded(v, c.dtype);
    // The kernels take the scale as a float.
    scale = static_cast<float>(c.scaleMul / std::sqrt(double(c.d)));
  }

  // makeInputs, then dO (random) and out and lse from the reference,
  // rounded as the forward stores them.
  void makeBackwardInputs(std::mt19937 &rng) {
    makeInputs(rng);
    const Case &c = GetParam();
    dout = randomTensor(q.shape, rng);
    dDout = uploadRounded(dout, c.dtype);
    fwd = ref::attention(q, k, v, scale, c.causal);
    dOut = uploadRounded(fwd.out, c.dtype);
    dLse = uploadRounded(fwd.lse, DType::F32);
  }

  ref::Tensor q, k, v;
  DevTensor qDev, kDev, vDev;
  float scale = 0;
  ref::Tensor dout;
  ref::AttentionResult fwd;
  DevTensor dDout, dOut, dLse;
};

TEST_P(AttentionTest, Forward) {
  MIND_REQUIRE_GPU();
  const Case &c = GetParam();
  std::mt19937 rng(1234 + c.s * 7 + c.d);
  makeInputs(rng);
  ref::AttentionResult want = ref::attention(q, k, v, scale, c.causal);

  DevTensor out = poisoned(q.shape, c.dtype);
  DevTensor lse = poisoned({c.b, c.hq, c.s}, DType::F32);
  launchOnce(rk::attentionForward(c.dtype, c.b, c.s, c.hq, c.hkv, c.d),
             {&qDev, &kDev, &vDev, &out, &lse, c.s, c.hq, c.hkv, scale,
              int64_t(c.causal)});
  expectNear(download(out), want.out, c.dtype, "out");
  expectNear(download(lse), want.lse, c.dtype, "lse");
}

TEST_P(AttentionTest, Backward) {
  MIND_REQUIRE_GPU();
  const Case &c = GetParam();
  std::mt19937 rng(4321 + c.s * 7 + c.d);
  makeBackwardInputs(rng);
  ref::AttentionGrads want =
      ref::attentionGrad(q, k, v, fwd.out, fwd.lse, dout, scale, c.causal);

  rk::AttentionBackward plan =
      rk::attentionBackward(c.dtype, c.b, c.s, c.hq, c.hkv, c.d);
  ASSERT_EQ(plan.workspaces.size(), 1u);
  KernelRunner runner({plan.prep, plan.main, plan.dq});
  // Workspaces and outputs start poisoned: the kernels must not rely on
  // their contents.
  auto runBackward = [&] {
    DevTensor delta =
        poisoned(plan.workspaces[0].shape, plan.workspaces[0].dtype);
    std::vector<DevTensor> g; // dq, dk, dv
    for (const ref::Tensor *t : {&q, &k, &v})
      g.push_back(poisoned(t->shape, c.dtype));
    runner.run(0, {&dOut, &dDout, &delta, c.b, c.s, c.hq, c.d});
    runner.run(1, {&qDev, &kDev, &vDev, &dDout, &dLse, &delta, &g[1], &g[2],
                   c.s, c.hq, c.hkv, scale, int64_t(c.causal)});
    runner.run(2, {&qDev, &kDev, &vDev, &dDout, &dLse, &delta, &g[0], c.s,
                   c.hq, c.hkv, scale, int64_t(c.causal)});
    return std::vector<ref::Tensor>{download(g[0]), download(g[1]),
                                    download(g[2])};
  };
  std::vector<ref::Tensor> got = runBackward();
  expectNear(got[0], want.dq, c.dtype, "dq");
  expectNear(got[1], want.dk, c.dtype, "dk");
  expectNear(got[2], want.dv, c.dtype, "dv");
  // No float atomics: a second run gives the same bits (exact resume relies
  // on it).
  std::vector<ref::Tensor> again = runBackward();
  const char *names[] = {"dq", "dk", "dv"};
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_TRUE(got[i].data == again[i].data)
        << names[i] << " differs between two identical runs";
}

// The RoPE-fused backward (mind.attention_grad_rope) is the backward
// followed by the inverse RoPE of dq and dk (rope_fwd), bit for bit. Random
// tables with different halves: each column pairs with the right entries.
TEST_P(AttentionTest, BackwardRopeIsBackwardThenInverseRope) {
  MIND_REQUIRE_GPU();
  const Case &c = GetParam();
  if (c.dtype == DType::F32)
    GTEST_SKIP() << "the RoPE-fused backward serves 16-bit types only";
  std::mt19937 rng(777 + c.s * 7 + c.d);
  makeBackwardInputs(rng);
  ref::Tensor cos = randomTensor({c.s, c.d}, rng, -1.5, 1.5);
  ref::Tensor sin = randomTensor({c.s, c.d}, rng, -1.5, 1.5);
  DevTensor dCos = uploadRounded(cos, DType::F32);
  DevTensor dSin = uploadRounded(sin, DType::F32);

  rk::AttentionBackward plain =
      rk::attentionBackward(c.dtype, c.b, c.s, c.hq, c.hkv, c.d);
  rk::AttentionBackwardRope fused =
      rk::attentionBackwardRope(c.dtype, c.b, c.s, c.hq, c.hkv, c.d);
  KernelRunner runner({plain.prep, plain.main, plain.dq, fused.main, fused.dq,
                       rk::rope(c.dtype, c.b, c.s, c.hq, c.d),
                       rk::rope(c.dtype, c.b, c.s, c.hkv, c.d)});
  DevTensor delta = poisoned(plain.workspaces[0].shape, DType::F32);
  runner.run(0, {&dOut, &dDout, &delta, c.b, c.s, c.hq, c.d});
  // Unfused: dq, dk, dv, then dq and dk rotated back in place.
  std::vector<DevTensor> want, got;
  for (const ref::Tensor *t : {&q, &k, &v}) {
    want.push_back(poisoned(t->shape, c.dtype));
    got.push_back(poisoned(t->shape, c.dtype));
  }
  int64_t causal = c.causal;
  runner.run(1, {&qDev, &kDev, &vDev, &dDout, &dLse, &delta, &want[1], &want[2],
                 c.s, c.hq, c.hkv, scale, causal});
  runner.run(2, {&qDev, &kDev, &vDev, &dDout, &dLse, &delta, &want[0], c.s,
                 c.hq, c.hkv, scale, causal});
  runner.run(
      5, {&want[0], &dCos, &dSin, &want[0], c.b, c.s, c.hq, c.d, int64_t{1}});
  runner.run(
      6, {&want[1], &dCos, &dSin, &want[1], c.b, c.s, c.hkv, c.d, int64_t{1}});
  runner.run(3, {&qDev, &kDev, &vDev, &dDout, &dLse, &delta, &dCos, &dSin,
                 &got[1], &got[2], c.s, c.hq, c.hkv, scale, causal});
  runner.run(4, {&qDev, &kDev, &vDev, &dDout, &dLse, &delta, &dCos, &dSin,
                 &got[0], c.s, c.hq, c.hkv, scale, causal});
  const char *names[] = {"dq", "dk", "dv"};
  for (size_t i = 0; i < 3; ++i) {
    ref::Tensor w = download(want[i]), g = download(got[i]);
    size_t differ = 0;
    for (size_t j = 0; j < w.data.size(); ++j)
      differ += !(w.data[j] == g.data[j]); // NaN (poison left) differs too
    EXPECT_EQ(differ, 0u) << names[i] << ": " << differ << " of "
                          << w.data.size() << " elements differ";
  }
  // And the rotation is not a no-op: dq differs from the unrotated one.
  ref::AttentionGrads raw =
      ref::attentionGrad(q, k, v, fwd.out, fwd.lse, dout, scale, c.causal);
  ref::Tensor rotated = ref::rope(raw.dq, cos, sin, true);
  expectNear(download(got[0]), rotated, c.dtype, "dq rotated back");
}

std::vector<Case> cases() {
  std::vector<Case> cs;
  for (DType t : {DType::F32, DType::BF16})
    for (bool causal : {false, true}) {
      cs.push_back({t, 1, 24, 4, 2, 16, causal});
      cs.push_back({t, 2, 24, 4, 2, 64, causal});
      cs.push_back({t, 2, 100, 8, 2, 16, causal});
      cs.push_back({t, 2, 100, 8, 2, 64, causal});
    }
  // MiniMind-sized: 8 query heads over 2 KV heads, D = 64.
  cs.push_back({DType::F32, 2, 511, 8, 2, 64, true});
  cs.push_back({DType::BF16, 2, 511, 8, 2, 64, true});
  // MiniMind-104M: hidden 768 over 8 heads gives D = 96.
  cs.push_back({DType::F32, 2, 511, 8, 2, 96, true});
  cs.push_back({DType::BF16, 2, 511, 8, 2, 96, true});
  // The other head dims, f16, plain multi-head and a group of 3.
  cs.push_back({DType::F32, 1, 70, 2, 1, 128, true});
  cs.push_back({DType::BF16, 1, 70, 4, 2, 128, false});
  cs.push_back({DType::F16, 1, 70, 2, 2, 128, true});
  cs.push_back({DType::F16, 1, 33, 3, 1, 32, false});
  cs.push_back({DType::F32, 1, 33, 3, 3, 32, true});
  // Sharp softmax (scores up to ~+-100): the running max must keep exp()
  // finite.
  cs.push_back({DType::F32, 1, 100, 2, 1, 16, true, 16.0});
  cs.push_back({DType::BF16, 1, 100, 2, 1, 64, false, 16.0});
  return cs;
}

INSTANTIATE_TEST_SUITE_P(Gpu, AttentionTest, ::testing::ValuesIn(cases()),
                         caseName);

// Every instantiation compiles for Hopper and for sm_80 (NVRTC needs no GPU).
TEST(AttentionKernels, CompileForSm90aAndSm80) {
  std::vector<std::string> names;
  for (DType t : {DType::F32, DType::BF16, DType::F16})
    for (int64_t d : {16, 32, 64, 96, 128})
      for (const std::string &n : rk::attentionKernelNames(t, d))
        if (std::find(names.begin(), names.end(), n) == names.end())
          names.push_back(n);
  for (const char *arch : {"sm_90a", "sm_80"}) {
    auto out =
        runtime::compileKernels(runtime::kernelLibrarySource(), names, arch);
    EXPECT_FALSE(out.cubin.empty()) << arch;
    EXPECT_EQ(out.loweredNames.size(), names.size()) << arch;
  }
}

// Launch rules: shared memory fits an A100 block (163 KB), bad problems are
// refused, workspaces are as documented.
TEST(AttentionKernels, LaunchRules) {
  for (DType t : {DType::F32, DType::BF16, DType::F16})
    for (int64_t d : {16, 32, 64, 96, 128}) {
      auto f = rk::attentionForward(t, 2, 511, 8, 2, d);
      auto b = rk::attentionBackward(t, 2, 511, 8, 2, d);
      EXPECT_LE(f.sharedBytes, 163u * 1024) << f.nameExpr;
      EXPECT_LE(b.main.sharedBytes, 163u * 1024) << b.main.nameExpr;
      EXPECT_LE(b.dq.sharedBytes, 163u * 1024) << b.dq.nameExpr;
      EXPECT_EQ(f.grid[1], 8u);
      EXPECT_EQ(f.grid[2], 2u);
      EXPECT_EQ(b.main.grid[1], 2u);
    }
  auto b = rk::attentionBackward(DType::BF16, 2, 100, 8, 2, 64);
  ASSERT_EQ(b.workspaces.size(), 1u);
  EXPECT_EQ(std::string(b.workspaces[0].name), "delta");
  EXPECT_EQ(b.workspaces[0].dtype, DType::F32);
  EXPECT_EQ(b.workspaces[0].shape, (std::vector<int64_t>{2, 8, 100}));
  // dQ: one block per (64-query tile, query head, batch) for 16-bit storage.
  EXPECT_EQ(b.dq.grid[0], 2u);
  EXPECT_EQ(b.dq.grid[1], 8u);
  EXPECT_THROW(rk::attentionForward(DType::F32, 1, 8, 4, 2, 48),
               std::invalid_argument);
  EXPECT_THROW(rk::attentionForward(DType::F32, 1, 8, 3, 2, 64),
               std::invalid_argument);
  EXPECT_THROW(rk::attentionBackward(DType::I64, 1, 8, 4, 2, 64),
               std::invalid_argument);
  // The RoPE-fused backward: the same launches under the _rope_ names, for
  // 16-bit types only.
  auto r = rk::attentionBackwardRope(DType::F16, 2, 100, 8, 2, 96);
  auto p = rk::attentionBackward(DType::F16, 2, 100, 8, 2, 96);
  EXPECT_EQ(r.main.nameExpr, "mind::attention_bwd_dkdv_rope_mma<__half, 96>");
  EXPECT_EQ(r.dq.nameExpr, "mind::attention_bwd_dq_rope_mma<__half, 96>");
  EXPECT_EQ(r.main.sharedBytes, p.main.sharedBytes);
  EXPECT_EQ(r.dq.grid, p.dq.grid);
  EXPECT_THROW(rk::attentionBackwardRope(DType::F32, 1, 8, 4, 2, 64),
               std::invalid_argument);
}
} // namespace
