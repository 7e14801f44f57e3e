//===- DenseElementwiseTest.cpp - elementwise, cast, RoPE, transpose ------===//
//
// Each test compiles once (one KernelRunner holding every size x dtype
// launch) and compares with the ref:: kernels on inputs pre-rounded to the
// storage type (see DenseTestUtil.h for the tolerances).
//
//===----------------------------------------------------------------------===//

#include "DenseTestUtil.h"

using namespace mind;
using namespace mind::gputest;
using namespace mind::gputest::dense;
namespace k = mind::runtime::kernels;

namespace {
const DType kFloatTypes[] = {DType::F32, DType::BF16, DType::F16};
// Ragged: neither a multiple of the 4-element pack nor of a block, and one
// size large enough for the grid-stride loops to wrap.
const int64_t kSizes[] = {10007, (int64_t{1} << 20) + 3};

struct Case {
  int64_t n;
  DType t;
};

std::vector<Case> sizeTypeCases() {
  std::vector<Case> cases;
  for (int64_t n : kSizes)
    for (DType t : kFloatTypes)
      cases.push_back({n, t});
  return cases;
}
} // namespace

TEST(DenseElementwise, SiluAndSwigluMatchReference) {
  MIND_REQUIRE_GPU();
  std::mt19937 rng(101);
  auto cases = sizeTypeCases();
  std::vector<runtime::LaunchConfig> cfgs;
  for (const Case &c : cases) {
    cfgs.push_back(k::silu(c.t, c.n));
    cfgs.push_back(k::siluGrad(c.t, c.n));
    cfgs.push_back(k::swiglu(c.t, c.n));
    cfgs.push_back(k::swigluGrad(c.t, c.n));
  }
  KernelRunner run(cfgs);
  for (size_t i = 0; i < cases.size(); ++i) {
    auto [n, t] = cases[i];
    // Wide enough to reach sigmoid's saturated tails.
    auto x = rounded(randomTensor({n}, rng, -12, 12), t);
    auto up = rounded(randomTensor({n}, rng), t);
    auto dy = rounded(randomTensor({n}, rng), t);
    DevTensor dX = upload(x, t), dUp = upload(up, t), dDy = upload(dy, t);
    DevTensor y = poisoned({n}, t), dx = poisoned({n}, t);
    DevTensor sw = poisoned({n}, t), dg = poisoned({n}, t),
              du = poisoned({n}, t);
    run.run(4 * i + 0, {&dX, &y, n});
    run.run(4 * i + 1, {&dX, &dDy, &dx, n});
    run.run(4 * i + 2, {&dX, &dUp, &sw, n});
    run.run(4 * i + 3, {&dX, &dUp, &dDy, &dg, &du, n});
    expectStorageClose(download(y), ref::silu(x), t, "silu");
    expectStorageClose(download(dx), ref::siluGrad(x, dy), t, "silu_grad");
    expectStorageClose(download(sw), ref::swiglu(x, up), t, "swiglu");
    auto g = ref::swigluGrad(x, up, dy);
    expectStorageClose(download(dg), g.dgate, t, "swiglu_grad dgate");
    expectStorageClose(download(du), g.dup, t, "swiglu_grad dup");
  }
}

TEST(DenseElementwise, AddMulMatchReferenceAlsoInPlace) {
  MIND_REQUIRE_GPU();
  std::mt19937 rng(102);
  auto cases = sizeTypeCases();
  std::vector<runtime::LaunchConfig> cfgs;
  for (const Case &c : cases) {
    cfgs.push_back(k::add(c.t, c.n));
    cfgs.push_back(k::mul(c.t, c.n));
  }
  KernelRunner run(cfgs);
  for (size_t i = 0; i < cases.size(); ++i) {
    auto [n, t] = cases[i];
    auto a = rounded(randomTensor({n}, rng, -4, 4), t);
    auto b = rounded(randomTensor({n}, rng, -4, 4), t);
    DevTensor dA = upload(a, t), dB = upload(b, t);
    DevTensor s = poisoned({n}, t), p = poisoned({n}, t);
    run.run(2 * i, {&dA, &dB, &s, n});
    run.run(2 * i + 1, {&dA, &dB, &p, n});
    expectStorageClose(download(s), ref::add(a, b), t, "add");
    expectStorageClose(download(p), ref::mul(a, b), t, "mul");
    // The output may alias an input: a = a * b.
    run.run(2 * i + 1, {&dA, &dB, &dA, n});
    expectStorageClose(download(dA), ref::mul(a, b), t, "mul in place");
  }
}

TEST(DenseElementwise, CastRoundsLikeReference) {
  MIND_REQUIRE_GPU();
  std::mt19937 rng(103);
  const int64_t n = 10007;
  // Magnitudes 2^-24 .. 2^8 reach f16 subnormals and every rounding regime.
  std::uniform_real_distribution<double> expo(-24, 8), sign(-1, 1);
  ref::Tensor x({n});
  for (double &v : x.data)
    v = (sign(rng) < 0 ? -1 : 1) * std::exp2(expo(rng));
  std::vector<std::pair<DType, DType>> pairs;
  std::vector<runtime::LaunchConfig> cfgs;
  for (DType from : kFloatTypes)
    for (DType to : kFloatTypes) {
      pairs.push_back({from, to});
      cfgs.push_back(k::cast(from, to, n));
    }
  KernelRunner run(cfgs);
  for (size_t i = 0; i < pairs.size(); ++i) {
    auto [from, to] = pairs[i];
    auto in = rounded(x, from);
    DevTensor dIn = upload(in, from), out = poisoned({n}, to);
    run.run(i, {&dIn, &out, n});
    // Conversion through f32 with round-to-nearest-even is exact to model.
    expectClose(download(out), rounded(in, to), 0, 0,
                "cast " + label(from) + " -> " + label(to));
  }
}

TEST(DenseElementwise, FillAndAccumulate) {
  MIND_REQUIRE_GPU();
  std::mt19937 rng(104);
  auto cases = sizeTypeCases();
  std::vector<runtime::LaunchConfig> cfgs;
  for (const Case &c : cases) {
    cfgs.push_back(k::fill(c.t, c.n));
    cfgs.push_back(k::accumulate(c.t, c.n));
  }
  KernelRunner run(cfgs);
  for (size_t i = 0; i < cases.size(); ++i) {
    auto [n, t] = cases[i];
    DevTensor y = poisoned({n}, t);
    run.run(2 * i, {&y, n, 0.37f});
    expectClose(download(y), rounded(ref::fill({n}, 0.37f), t), 0, 0,
                "fill (" + label(t) + ")");

    auto acc = randomTensor({n}, rng, -3, 3);
    auto x = rounded(randomTensor({n}, rng), t);
    acc = rounded(acc, DType::F32);
    DevTensor dAcc = upload(acc, DType::F32), dX = upload(x, t);
    run.run(2 * i + 1, {&dAcc, &dX, n});
    // One f32 addition of exact operands: f32 rounding only.
    expectClose(download(dAcc), ref::add(acc, x), 0, 1e-7,
                "accumulate (" + label(t) + ")");
  }
}

TEST(DenseElementwise, RopeMatchesReferenceForwardInverseInPlace) {
  MIND_REQUIRE_GPU();
  std::mt19937 rng(105);
  // MiniMind's q/k heads (D 64 and 96), a ragged row count, a small head dim
  // (D 16: 4 pairs per row, one vector group of 4 per thread) and D 6 (D/2
  // not a multiple of 4: the one-pair path).
  const std::vector<std::vector<int64_t>> shapes = {
      {2, 37, 8, 64}, {2, 9, 2, 96}, {1, 5, 3, 16}, {3, 7, 2, 6}};
  struct RopeCase {
    std::vector<int64_t> shape;
    DType t;
  };
  std::vector<RopeCase> cases;
  std::vector<runtime::LaunchConfig> cfgs;
  for (const auto &s : shapes)
    for (DType t : kFloatTypes) {
      cases.push_back({s, t});
      cfgs.push_back(k::rope(t, s[0], s[1], s[2], s[3]));
    }
  KernelRunner run(cfgs);
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto &s = cases[i].shape;
    DType t = cases[i].t;
    // Random tables (not ropeTable's): every entry of cos/sin matters.
    auto x = rounded(randomTensor(s, rng, -2, 2), t);
    auto cos = rounded(randomTensor({s[1], s[3]}, rng), DType::F32);
    auto sin = rounded(randomTensor({s[1], s[3]}, rng), DType::F32);
    DevTensor dX = upload(x, t), dCos = upload(cos, DType::F32),
              dSin = upload(sin, DType::F32);
    for (int64_t inverse : {int64_t{0}, int64_t{1}}) {
      DevTensor y = poisoned(s, t);
      run.run(i, {&dX, &dCos, &dSin, &y, s[0], s[1], s[2], s[3], inverse});
      expectStorageClose(download(y), ref::rope(x, cos, sin, inverse != 0), t,
                         inverse ? "rope inverse" : "rope", 1e-5);
    }
    // In place (y aliases x), as the backward may run it.
    run.run(i, {&dX, &dCos, &dSin, &dX, s[0], s[1], s[2], s[3], int64_t{0}});
    expectStorageClose(download(dX), ref::rope(x, cos, sin, false), t,
                       "rope in place", 1e-5);
  }
}

TEST(DenseElementwise, TransposeMatchesReference) {
  MIND_REQUIRE_GPU();
  std::mt19937 rng(106);
  struct TCase {
    std::vector<int64_t> shape, perm;
    DType t;
  };
  const std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>>
      problems = {{{11}, {0}},
                  {{37, 64}, {1, 0}},
                  {{3, 5, 7}, {2, 0, 1}},
                  {{2, 37, 3, 16}, {0, 2, 1, 3}},
                  {{2, 3, 4, 5}, {3, 1, 0, 2}}};
  std::vector<TCase> cases;
  std::vector<runtime::LaunchConfig> cfgs;
  for (const auto &[shape, perm] : problems)
    for (DType t : {DType::F32, DType::BF16, DType::F16, DType::I64}) {
      cases.push_back({shape, perm, t});
      cfgs.push_back(k::transpose(t, shape));
    }
  KernelRunner run(cfgs);
  for (size_t i = 0; i < cases.size(); ++i) {
    const TCase &c = cases[i];
    ref::Tensor x = c.t == DType::I64 ? randomInts(c.shape, 1 << 30, rng)
                                      : rounded(randomTensor(c.shape, rng), c.t);
    ref::Tensor want = ref::transpose(x, c.perm);
    DevTensor dX = upload(x, c.t), y = poisoned(want.shape, c.t);
    auto a = k::transposeArgs(c.shape, c.perm);
    run.run(i, {&dX, &y, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8]});
    expectClose(download(y), want, 0, 0, "transpose (" + label(c.t) + ")");
  }
}
