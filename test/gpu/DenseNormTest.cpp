//===- DenseNormTest.cpp - RMSNorm forward and backward on the GPU --------===//

#include "DenseTestUtil.h"

#include <cstring>

using namespace mind;
using namespace mind::gputest;
using namespace mind::gputest::dense;
namespace k = mind::runtime::kernels;

namespace {
struct NormCase {
  int64_t rows, hidden;
  DType x, w;
};

// MiniMind's hidden 512 over 4096 rows; ragged rows with a hidden size that
// is a multiple of 4 but not of a warp's 128-element stride; and a hidden
// size that is not a multiple of 4 (scalar accesses). w as f32 and as T.
std::vector<NormCase> normCases() {
  std::vector<NormCase> cases;
  for (DType t : {DType::F32, DType::BF16})
    for (DType w : {DType::F32, t}) {
      cases.push_back({4096, 512, t, w});
      cases.push_back({37, 300, t, w});
    }
  cases.push_back({37, 301, DType::F16, DType::F16});
  cases.push_back({5, 301, DType::BF16, DType::F32});
  // Wide rows: each lane walks several packs (and a ragged last one).
  cases.push_back({64, 2048, DType::BF16, DType::F32});
  cases.push_back({7, 1030, DType::F32, DType::F32});
  return cases;
}

std::string caseName(const NormCase &c) {
  return "rows " + std::to_string(c.rows) + " H " + std::to_string(c.hidden) +
         " w " + label(c.w);
}

ref::Tensor absOf(ref::Tensor t) {
  for (double &v : t.data)
    v = std::abs(v);
  return t;
}

constexpr float kEps = 1e-5f;
} // namespace

TEST(DenseNorm, RmsnormForwardMatchesReference) {
  MIND_REQUIRE_GPU();
  std::mt19937 rng(201);
  auto cases = normCases();
  std::vector<runtime::LaunchConfig> cfgs;
  for (const NormCase &c : cases)
    cfgs.push_back(k::rmsnorm(c.x, c.w, c.rows, c.hidden));
  KernelRunner run(cfgs);
  for (size_t i = 0; i < cases.size(); ++i) {
    const NormCase &c = cases[i];
    auto x = rounded(randomTensor({c.rows, c.hidden}, rng, -2, 2), c.x);
    auto w = rounded(randomTensor({c.hidden}, rng, 0.5, 1.5), c.w);
    DevTensor dX = upload(x, c.x), dW = upload(w, c.w);
    DevTensor y = poisoned({c.rows, c.hidden}, c.x);
    run.run(i, {&dX, &dW, &y, c.rows, c.hidden, kEps});
    expectStorageClose(download(y), ref::rmsnorm(x, w, kEps), c.x,
                       "rmsnorm " + caseName(c));
  }
}

// RMSNorm fused with the cast of its output (mind-fuse-rmsnorm-cast): the
// bf16/f16 store of rmsnorm_fwd_cast is bit for bit rmsnorm_fwd's f32
// output rounded, for vector and scalar row layouts.
TEST(DenseNorm, RmsnormCastIsTheNormThenTheCastBitForBit) {
  MIND_REQUIRE_GPU();
  std::mt19937 rng(202);
  struct Case {
    int64_t rows, hidden;
    DType y;
  };
  const std::vector<Case> cases = {{4096, 512, DType::BF16},
                                   {37, 300, DType::F16},
                                   {5, 301, DType::BF16}};
  std::vector<runtime::LaunchConfig> cfgs;
  for (const Case &c : cases) {
    cfgs.push_back(k::rmsnorm(DType::F32, DType::F32, c.rows, c.hidden));
    cfgs.push_back(
        k::rmsnormCast(DType::F32, DType::F32, c.y, c.rows, c.hidden));
  }
  KernelRunner run(cfgs);
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case &c = cases[i];
    auto x = randomTensor({c.rows, c.hidden}, rng, -2, 2);
    auto w = randomTensor({c.hidden}, rng, 0.5, 1.5);
    DevTensor dX = upload(x, DType::F32), dW = upload(w, DType::F32);
    DevTensor y32 = poisoned({c.rows, c.hidden}, DType::F32);
    DevTensor yNarrow = poisoned({c.rows, c.hidden}, c.y);
    run.run(2 * i, {&dX, &dW, &y32, c.rows, c.hidden, kEps});
    run.run(2 * i + 1, {&dX, &dW, &yNarrow, c.rows, c.hidden, kEps});
    ref::Tensor want = rounded(download(y32), c.y), got = download(yNarrow);
    ASSERT_EQ(got.data.size(), want.data.size());
    size_t differ = 0;
    for (size_t j = 0; j < got.data.size(); ++j)
      differ += !(got.data[j] == want.data[j]); // NaN (unwritten) differs
    EXPECT_EQ(differ, 0u) << "rows " << c.rows << " H " << c.hidden << " "
                          << label(c.y);
  }
}

// dx against the reference; dw (f32, two-stage reduction) both overwriting
// and accumulating, and bitwise identical across runs (deterministic).
TEST(DenseNorm, RmsnormGradMatchesReferenceDeterministically) {
  MIND_REQUIRE_GPU();
  std::mt19937 rng(202);
  auto cases = normCases();
  std::vector<runtime::LaunchConfig> cfgs;
  for (const NormCase &c : cases) {
    cfgs.push_back(k::rmsnormGrad(c.x, c.w, c.rows, c.hidden));
    cfgs.push_back(k::rmsnormGradDw(c.hidden));
  }
  KernelRunner run(cfgs);
  for (size_t i = 0; i < cases.size(); ++i) {
    const NormCase &c = cases[i];
    int64_t h = c.hidden, parts = k::rmsnormGradPartials(c.rows, h);
    auto x = rounded(randomTensor({c.rows, h}, rng, -2, 2), c.x);
    auto w = rounded(randomTensor({h}, rng, 0.5, 1.5), c.w);
    auto dy = rounded(randomTensor({c.rows, h}, rng), c.x);
    auto dw0 = rounded(randomTensor({h}, rng), DType::F32);
    DevTensor dX = upload(x, c.x), dW = upload(w, c.w), dDy = upload(dy, c.x);
    DevTensor dx = poisoned({c.rows, h}, c.x);
    DevTensor partial = poisoned({parts, h}, DType::F32);
    DevTensor dw = poisoned({h}, DType::F32), dwAcc = upload(dw0, DType::F32);
    run.run(2 * i, {&dX, &dW, &dDy, &dx, &partial, c.rows, h, kEps});
    run.run(2 * i + 1, {&partial, &dw, parts, h, int64_t{0}});
    run.run(2 * i + 1, {&partial, &dwAcc, parts, h, int64_t{1}});

    auto want = ref::rmsnormGrad(x, w, dy, kEps);
    // dx = r*dy*w - x*r^3*mean(dy*w*x) cancels: atol follows its scale.
    expectStorageClose(download(dx), want.dx, c.x, "rmsnorm_grad dx " +
                                                        caseName(c), 1e-5);
    // dw sums rows of dy*x*r in f32: error relative to the sum of |terms|.
    double dwScale = maxAbs(ref::rmsnormGrad(absOf(x), w, absOf(dy), kEps).dw);
    expectClose(download(dw), want.dw, 1e-5 * dwScale, 1e-5,
                "rmsnorm_grad dw " + caseName(c) + " " + label(c.x));
    expectClose(download(dwAcc), ref::add(dw0, want.dw), 1e-5 * dwScale, 1e-5,
                "rmsnorm_grad dw accumulate " + caseName(c) + " " +
                    label(c.x));

    // Run again: the same bits.
    DevTensor dx2 = poisoned({c.rows, h}, c.x),
              dw2 = poisoned({h}, DType::F32);
    run.run(2 * i, {&dX, &dW, &dDy, &dx2, &partial, c.rows, h, kEps});
    run.run(2 * i + 1, {&partial, &dw2, parts, h, int64_t{0}});
    std::vector<float> a(h), b(h);
    dw.buf.download(a.data(), h * sizeof(float));
    dw2.buf.download(b.data(), h * sizeof(float));
    EXPECT_EQ(0, std::memcmp(a.data(), b.data(), h * sizeof(float)))
        << "rmsnorm_grad dw not deterministic " << caseName(c);
  }
}

// The gradient reading a narrower dy (mind-fuse-rmsnorm-cast): dx and the dw
// partials of rmsnorm_grad_dy are rmsnorm_grad's on the widened dy, to the
// bit.
TEST(DenseNorm, RmsnormGradDyIsTheCastThenTheGradientBitForBit) {
  MIND_REQUIRE_GPU();
  std::mt19937 rng(203);
  struct Case {
    int64_t rows, hidden;
    DType dy;
  };
  const std::vector<Case> cases = {{4096, 512, DType::BF16},
                                   {37, 300, DType::F16},
                                   {5, 301, DType::BF16}};
  std::vector<runtime::LaunchConfig> cfgs;
  for (const Case &c : cases) {
    cfgs.push_back(k::rmsnormGrad(DType::F32, DType::F32, c.rows, c.hidden));
    cfgs.push_back(
        k::rmsnormGradDy(DType::F32, DType::F32, c.dy, c.rows, c.hidden));
  }
  KernelRunner run(cfgs);
  auto same = [](const DevTensor &a, const DevTensor &b, size_t n) {
    std::vector<float> x(n), y(n);
    a.buf.download(x.data(), n * sizeof(float));
    b.buf.download(y.data(), n * sizeof(float));
    return std::memcmp(x.data(), y.data(), n * sizeof(float)) == 0;
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case &c = cases[i];
    int64_t h = c.hidden, parts = k::rmsnormGradPartials(c.rows, h);
    auto x = randomTensor({c.rows, h}, rng, -2, 2);
    auto w = randomTensor({h}, rng, 0.5, 1.5);
    auto dy = rounded(randomTensor({c.rows, h}, rng), c.dy);
    DevTensor dX = upload(x, DType::F32), dW = upload(w, DType::F32);
    DevTensor dyWide = upload(dy, DType::F32), dyNarrow = upload(dy, c.dy);
    DevTensor dx1 = poisoned({c.rows, h}, DType::F32),
              dx2 = poisoned({c.rows, h}, DType::F32);
    DevTensor p1 = poisoned({parts, h}, DType::F32),
              p2 = poisoned({parts, h}, DType::F32);
    run.run(2 * i, {&dX, &dW, &dyWide, &dx1, &p1, c.rows, h, kEps});
    run.run(2 * i + 1, {&dX, &dW, &dyNarrow, &dx2, &p2, c.rows, h, kEps});
    EXPECT_TRUE(same(dx1, dx2, static_cast<size_t>(c.rows * h)))
        << "dx, rows " << c.rows << " H " << h << " " << label(c.dy);
    EXPECT_TRUE(same(p1, p2, static_cast<size_t>(parts * h)))
        << "dw partials, rows " << c.rows << " H " << h << " " << label(c.dy);
  }
}

namespace {
/// Element count of `a` whose stored value differs from `b`'s (NaN, e.g.
/// an unwritten poisoned element, differs).
size_t countDiffering(const ref::Tensor &a, const ref::Tensor &b) {
  EXPECT_EQ(a.data.size(), b.data.size());
  size_t differ = 0;
  for (size_t j = 0; j < a.data.size() && j < b.data.size(); ++j)
    differ += !(a.data[j] == b.data[j]);
  return differ;
}

/// a + b as one f32 addition per element (what the unfused add kernel does).
ref::Tensor addF32(const ref::Tensor &a, const ref::Tensor &b) {
  ref::Tensor s = a;
  for (size_t j = 0; j < s.data.size(); ++j)
    s.data[j] = static_cast<double>(static_cast<float>(a.data[j]) +
                                    static_cast<float>(b.data[j]));
  return s;
}

struct NarrowCase {
  int64_t rows, hidden;
  DType narrow;
};
const std::vector<NarrowCase> kNarrowCases = {
    {4096, 768, DType::BF16}, {37, 300, DType::F16}, {5, 301, DType::BF16},
    {33, 2048, DType::BF16}}; // the last: several packs per lane
} // namespace

// The residual add fused into the norm (mind-fuse-add-rmsnorm): the sum is
// the f32 add of the residual and the widened delta, the normalised output
// rmsnorm_fwd_cast's of that sum, both to the bit.
TEST(DenseNorm, AddRmsnormIsTheAddThenTheNormBitForBit) {
  MIND_REQUIRE_GPU();
  std::mt19937 rng(204);
  std::vector<runtime::LaunchConfig> cfgs;
  for (const NarrowCase &c : kNarrowCases) {
    cfgs.push_back(k::addRmsnorm(DType::F32, c.narrow, DType::F32, c.narrow,
                                 c.rows, c.hidden));
    cfgs.push_back(
        k::rmsnormCast(DType::F32, DType::F32, c.narrow, c.rows, c.hidden));
  }
  KernelRunner run(cfgs);
  for (size_t i = 0; i < kNarrowCases.size(); ++i) {
    const NarrowCase &c = kNarrowCases[i];
    auto res = rounded(randomTensor({c.rows, c.hidden}, rng, -2, 2), DType::F32);
    auto delta = rounded(randomTensor({c.rows, c.hidden}, rng, -1, 1), c.narrow);
    auto w = randomTensor({c.hidden}, rng, 0.5, 1.5);
    ref::Tensor sumWant = addF32(res, delta);
    DevTensor dRes = upload(res, DType::F32), dDelta = upload(delta, c.narrow);
    DevTensor dW = upload(w, DType::F32), dSumWant = upload(sumWant, DType::F32);
    DevTensor sum = poisoned({c.rows, c.hidden}, DType::F32);
    DevTensor y = poisoned({c.rows, c.hidden}, c.narrow);
    DevTensor yWant = poisoned({c.rows, c.hidden}, c.narrow);
    run.run(2 * i, {&dRes, &dDelta, &dW, &sum, &y, c.rows, c.hidden, kEps});
    run.run(2 * i + 1, {&dSumWant, &dW, &yWant, c.rows, c.hidden, kEps});
    EXPECT_EQ(countDiffering(download(sum), sumWant), 0u)
        << "sum, rows " << c.rows << " H " << c.hidden;
    EXPECT_EQ(countDiffering(download(y), download(yWant)), 0u)
        << "y, rows " << c.rows << " H " << c.hidden << " " << label(c.narrow);
  }
}

// The norm gradient fused with the residual gradient's add and the sum's
// cast: the sum is the f32 add of the residual gradient and
// rmsnorm_grad_dy's dx, the narrow copy that sum rounded, the dw partials
// rmsnorm_grad_dy's, all to the bit, with and without the narrow copy.
TEST(DenseNorm, RmsnormGradResidualIsTheGradThenTheAddBitForBit) {
  MIND_REQUIRE_GPU();
  std::mt19937 rng(205);
  std::vector<runtime::LaunchConfig> cfgs;
  for (const NarrowCase &c : kNarrowCases) {
    cfgs.push_back(
        k::rmsnormGradDy(DType::F32, DType::F32, c.narrow, c.rows, c.hidden));
    cfgs.push_back(k::rmsnormGradResidualCast(DType::F32, DType::F32, c.narrow,
                                              c.narrow, c.rows, c.hidden));
    cfgs.push_back(k::rmsnormGradResidual(DType::F32, DType::F32, c.narrow,
                                          c.rows, c.hidden));
  }
  KernelRunner run(cfgs);
  for (size_t i = 0; i < kNarrowCases.size(); ++i) {
    const NarrowCase &c = kNarrowCases[i];
    int64_t h = c.hidden, parts = k::rmsnormGradPartials(c.rows, h);
    auto x = rounded(randomTensor({c.rows, h}, rng, -2, 2), DType::F32);
    auto w = randomTensor({h}, rng, 0.5, 1.5);
    auto dy = rounded(randomTensor({c.rows, h}, rng), c.narrow);
    auto dr = rounded(randomTensor({c.rows, h}, rng), DType::F32);
    DevTensor dX = upload(x, DType::F32), dW = upload(w, DType::F32);
    DevTensor dDy = upload(dy, c.narrow), dDr = upload(dr, DType::F32);
    DevTensor dx = poisoned({c.rows, h}, DType::F32);
    DevTensor p = poisoned({parts, h}, DType::F32);
    run.run(3 * i, {&dX, &dW, &dDy, &dx, &p, c.rows, h, kEps});
    ref::Tensor sumWant = addF32(dr, download(dx));
    ref::Tensor narrowWant = rounded(sumWant, c.narrow);
    ref::Tensor partialWant = download(p);

    DevTensor sum = poisoned({c.rows, h}, DType::F32);
    DevTensor narrow = poisoned({c.rows, h}, c.narrow);
    DevTensor p2 = poisoned({parts, h}, DType::F32);
    run.run(3 * i + 1,
            {&dX, &dW, &dDy, &dDr, &sum, &narrow, &p2, c.rows, h, kEps});
    std::string what = "rows " + std::to_string(c.rows) + " H " +
                       std::to_string(h) + " " + label(c.narrow);
    EXPECT_EQ(countDiffering(download(sum), sumWant), 0u) << "sum, " << what;
    EXPECT_EQ(countDiffering(download(narrow), narrowWant), 0u)
        << "narrow sum, " << what;
    EXPECT_EQ(countDiffering(download(p2), partialWant), 0u)
        << "dw partials, " << what;

    DevTensor sum3 = poisoned({c.rows, h}, DType::F32);
    DevTensor p3 = poisoned({parts, h}, DType::F32);
    run.run(3 * i + 2, {&dX, &dW, &dDy, &dDr, &sum3, &p3, c.rows, h, kEps});
    EXPECT_EQ(countDiffering(download(sum3), sumWant), 0u)
        << "sum without the narrow copy, " << what;
    EXPECT_EQ(countDiffering(download(p3), partialWant), 0u)
        << "dw partials without the narrow copy, " << what;
  }
}
