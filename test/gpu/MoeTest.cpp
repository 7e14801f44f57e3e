//===- MoeTest.cpp - mixture-of-experts kernels against ref:: -------------===//
//
// Inputs are rounded to the storage type before the reference runs, so the
// reference sees what the GPU reads; what is left is fp32 math plus one
// rounding of each output. Tolerances: rtol 1e-5 (f32) / 1e-2 (bf16 keeps 8
// significant bits: half-ulp 2e-3) per output rounding; sums over L terms of
// O(1) products add an fp32 accumulation error of ~1e-8 * L, bounded here
// by atol 1e-6 * L. Integer outputs (indices, perm, offsets) must be exact.
//
//===----------------------------------------------------------------------===//

#include "GpuTest.h"
#include "mind/abi/KernelSpecs.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <set>

using namespace mind;
using namespace mind::gputest;
using runtime::DType;
namespace rk = mind::runtime::kernels;

namespace {

ref::Tensor rounded(ref::Tensor t, DType d) {
  ref::roundTo(t, d == DType::BF16  ? ref::ElemKind::BF16
                  : d == DType::F16 ? ref::ElemKind::F16
                                    : ref::ElemKind::F32);
  return t;
}

double rtolOf(DType d) { return d == DType::F32 ? 1e-5 : 1e-2; }

void expectExact(const ref::Tensor &got, const ref::Tensor &want,
                 const std::string &what) {
  expectClose(got, want, 0.0, 0.0, what);
}

/// Routing of T tokens with k random experts each (repeats allowed: routing
/// does not care); `empty` >= 0 is an expert no slot picks.
struct Routing {
  ref::Tensor indices, perm, offsets;
};
Routing makeRouting(int64_t t, int64_t k, int64_t e, std::mt19937 &rng,
                    int64_t empty = -1) {
  Routing r;
  r.indices = randomInts({t, k}, empty >= 0 ? e - 1 : e, rng);
  if (empty >= 0)
    for (double &v : r.indices.data)
      if (v >= empty)
        v += 1;
  auto route = ref::moeRoute(r.indices, e);
  r.perm = route.perm;
  r.offsets = route.offsets;
  return r;
}

/// Positive gate scores, as a softmax produces.
ref::Tensor gateScores(int64_t t, int64_t e, std::mt19937 &rng, DType d) {
  return rounded(randomTensor({t, e}, rng, 0.01, 1.0), d);
}

/// The expert-pointer array argument of the grouped GEMM kernels.
void pushExperts(std::vector<Arg> &args, const std::vector<DevTensor> &w) {
  std::vector<const DevTensor *> ptrs;
  for (const DevTensor &t : w)
    ptrs.push_back(&t);
  args.push_back(std::move(ptrs));
}

std::vector<std::string> allNameExprs() {
  std::vector<std::string> names;
  for (DType d : {DType::F32, DType::BF16, DType::F16}) {
    for (const runtime::LaunchConfig &c :
         std::vector<runtime::LaunchConfig>{rk::moeTopK(d, 8, 4, 2), rk::moeTopKGrad(d, 8, 4, 2),
          rk::moeDispatch(d, 16, 64), rk::moeDispatchGrad(d, 8, 64),
          rk::groupedLinear(d, 16, 64, 64, 4),
          rk::groupedLinearGradX(d, 16, 64, 64, 4),
          rk::groupedLinearGradW(d, 16, 64, 64, 4), rk::moeCombine(d, 8, 64),
          rk::moeCombineGrad(d, 16, 64), rk::moeAuxLoss(d, 8, 4, 2, true, 2),
          rk::moeAuxLossGrad(d, 8, 4, 2, true, 2)})
      names.push_back(c.nameExpr);
  }
  for (const runtime::LaunchConfig &c : std::vector<runtime::LaunchConfig>{
           rk::moeRouteCount(16, 4), rk::moeRouteScatter(16, 4),
           rk::moeInvertPerm(16)})
    names.push_back(c.nameExpr);
  return names;
}

class MoeGpu : public ::testing::TestWithParam<DType> {};

std::string dtypeParamName(const ::testing::TestParamInfo<DType> &info) {
  return info.param == DType::F32 ? "f32" : "bf16";
}

} // namespace

// Template errors surface without a GPU (NVRTC needs none).
TEST(MoeCompile, AllKernelsCompileForSm90a) {
  auto out = runtime::compileKernels(runtime::kernelLibrarySource(),
                                     allNameExprs(), "sm_90a");
  EXPECT_FALSE(out.cubin.empty());
}

TEST(MoeCompile, LaunchRulesRejectBadShapes) {
  EXPECT_THROW(rk::groupedLinear(DType::F32, 16, 64, 64, 257),
               std::invalid_argument);
  EXPECT_THROW(rk::moeTopK(DType::F32, 8, 4, 5), std::invalid_argument);
  EXPECT_THROW(rk::moeAuxLoss(DType::F32, 10, 4, 2, true, 3),
               std::invalid_argument);
  EXPECT_THROW(rk::moeRouteCount(16, 300), std::invalid_argument);
}

//===----------------------------------------------------------------------===//
// topk
//===----------------------------------------------------------------------===//

namespace {
struct TopKCase {
  ref::Tensor scores;
  int64_t k;
  bool normalize;
};

/// Runs every case through one compiled program (NVRTC compiles the whole
/// library per KernelRunner).
void checkTopK(DType d, const std::vector<TopKCase> &cases,
               const std::string &what) {
  std::vector<runtime::LaunchConfig> cfgs;
  for (const TopKCase &c : cases)
    cfgs.push_back(rk::moeTopK(d, c.scores.shape[0], c.scores.shape[1], c.k));
  KernelRunner run(cfgs);
  for (size_t i = 0; i < cases.size(); ++i) {
    const TopKCase &c = cases[i];
    int64_t t = c.scores.shape[0], e = c.scores.shape[1], k = c.k;
    std::string n = what + " T=" + std::to_string(t) +
                    " E=" + std::to_string(e) + " k=" + std::to_string(k) +
                    (c.normalize ? " normalized" : " raw");
    auto want = ref::topk(c.scores, k, c.normalize);
    DevTensor s = upload(c.scores, d);
    DevTensor w = poisoned({t, k}, d), idx = poisoned({t, k}, DType::I64);
    run.run(i, {&s, &w, &idx, t, e, k, int64_t(c.normalize)});
    expectExact(download(idx), want.indices, n + " indices");
    expectClose(download(w), want.weights, 1e-7, rtolOf(d), n + " weights");
  }
}
} // namespace

TEST_P(MoeGpu, TopKMatchesReference) {
  MIND_REQUIRE_GPU();
  DType d = GetParam();
  std::mt19937 rng(101);
  std::vector<TopKCase> cases;
  for (bool norm : {false, true}) {
    cases.push_back({gateScores(48, 4, rng, d), 2, norm});
    cases.push_back({gateScores(16352, 4, rng, d), 2, norm});
    cases.push_back({gateScores(1000, 64, rng, d), 8, norm});
  }
  checkTopK(d, cases, "topk");
}

// Scores on 4 levels (exact in bf16), so most rows tie: ties go to the lower
// index, exactly as the reference's stable sort.
TEST_P(MoeGpu, TopKTiesGoToTheLowerIndex) {
  MIND_REQUIRE_GPU();
  DType d = GetParam();
  std::mt19937 rng(102);
  const double levels[] = {0.125, 0.25, 0.5, 0.75};
  ref::Tensor scores({300, 8});
  std::uniform_int_distribution<int> pick(0, 3);
  for (double &v : scores.data)
    v = levels[pick(rng)];
  for (int64_t e = 0; e < 8; ++e) // one row of all-equal scores
    scores.data[e] = 0.5;
  checkTopK(d, {{scores, 3, false}, {scores, 3, true}}, "topk ties");
}

TEST_P(MoeGpu, TopKGradMatchesReference) {
  MIND_REQUIRE_GPU();
  DType d = GetParam();
  std::mt19937 rng(103);
  struct Case {
    int64_t t, e, k;
  };
  const Case cases[] = {{48, 4, 2}, {16352, 4, 2}, {777, 64, 8}};
  std::vector<runtime::LaunchConfig> cfgs;
  for (Case c : cases)
    cfgs.push_back(rk::moeTopKGrad(d, c.t, c.e, c.k));
  KernelRunner run(cfgs);
  for (size_t ci = 0; ci < cfgs.size(); ++ci)
    for (bool norm : {false, true}) {
      Case c = cases[ci];
      ref::Tensor scores = gateScores(c.t, c.e, rng, d);
      ref::Tensor idx = ref::topk(scores, c.k, norm).indices;
      ref::Tensor dw = rounded(randomTensor({c.t, c.k}, rng), d);
      ref::Tensor want = ref::topkGrad(scores, idx, dw, norm);
      DevTensor s = upload(scores, d), i = upload(idx, DType::I64),
                g = upload(dw, d), ds = poisoned({c.t, c.e}, d);
      run.run(ci, {&s, &i, &g, &ds, c.t, c.e, c.k, int64_t(norm)});
      expectClose(download(ds), want, 1e-5, rtolOf(d),
                  "topk_grad T=" + std::to_string(c.t) +
                      (norm ? " normalized" : " raw"));
    }
}

//===----------------------------------------------------------------------===//
// moe_route (dtype-free)
//===----------------------------------------------------------------------===//

TEST(MoeGpuRoute, StableCountingSortMatchesReference) {
  MIND_REQUIRE_GPU();
  std::mt19937 rng(104);
  struct Case {
    int64_t t, k, e, empty;
  };
  std::vector<Case> cases = {
      {48, 2, 4, -1},    {48, 2, 4, 1},     {1, 1, 4, -1},     {700, 3, 5, 4},
      {16352, 2, 4, -1}, {16352, 8, 64, 0}, {16352, 8, 64, 63}};
  std::vector<runtime::LaunchConfig> cfgs;
  for (const Case &c : cases) {
    cfgs.push_back(rk::moeRouteCount(c.t * c.k, c.e));
    cfgs.push_back(rk::moeRouteScatter(c.t * c.k, c.e));
  }
  KernelRunner run(cfgs);
  for (size_t ci = 0; ci < cases.size(); ++ci) {
    const Case &c = cases[ci];
    int64_t r = c.t * c.k;
    Routing want = makeRouting(c.t, c.k, c.e, rng, c.empty);
    DevTensor idx = upload(want.indices, DType::I64);
    DevTensor tiles = poisoned({rk::moeRouteTiles(r) * c.e}, DType::I64);
    DevTensor perm = poisoned({r}, DType::I64);
    DevTensor off = poisoned({c.e + 1}, DType::I64);
    run.run(2 * ci, {&idx, &tiles, r, c.e});
    run.run(2 * ci + 1, {&idx, &tiles, &perm, &off, r, c.e});
    std::string what =
        "T=" + std::to_string(c.t) + " k=" + std::to_string(c.k) +
        " E=" + std::to_string(c.e) + " empty=" + std::to_string(c.empty);
    expectExact(download(off), want.offsets, what + " offsets");
    expectExact(download(perm), want.perm, what + " perm");
  }
}

//===----------------------------------------------------------------------===//
// moe_dispatch / moe_combine
//===----------------------------------------------------------------------===//

namespace {
struct RowCase {
  int64_t t, k, e, h;
};
// H = 60 takes the scalar (unvectorized) path.
const RowCase kRowCases[] = {
    {48, 2, 4, 64}, {48, 2, 4, 60}, {300, 3, 8, 72}, {16352, 2, 4, 512}};
std::string rowCaseName(const RowCase &c) {
  return "T=" + std::to_string(c.t) + " k=" + std::to_string(c.k) +
         " H=" + std::to_string(c.h);
}
} // namespace

TEST_P(MoeGpu, DispatchAndGradMatchReference) {
  MIND_REQUIRE_GPU();
  DType d = GetParam();
  std::mt19937 rng(105);
  std::vector<runtime::LaunchConfig> cfgs;
  for (const RowCase &c : kRowCases) {
    cfgs.push_back(rk::moeDispatch(d, c.t * c.k, c.h));
    cfgs.push_back(rk::moeInvertPerm(c.t * c.k));
    cfgs.push_back(rk::moeDispatchGrad(d, c.t, c.h));
  }
  KernelRunner run(cfgs);
  for (size_t ci = 0; ci < std::size(kRowCases); ++ci) {
    const RowCase &c = kRowCases[ci];
    size_t b = 3 * ci;
    int64_t r = c.t * c.k;
    Routing rt = makeRouting(c.t, c.k, c.e, rng, 1);
    ref::Tensor x = rounded(randomTensor({c.t, c.h}, rng), d);
    ref::Tensor dxs = rounded(randomTensor({r, c.h}, rng), d);
    DevTensor xd = upload(x, d), perm = upload(rt.perm, DType::I64),
              out = poisoned({r, c.h}, d);
    run.run(b, {&xd, &perm, &out, r, c.h, c.k});
    expectExact(download(out), ref::moeDispatch(x, rt.perm, c.k),
                "dispatch " + rowCaseName(c));

    DevTensor inv = poisoned({r}, DType::I64), g = upload(dxs, d),
              dx = poisoned({c.t, c.h}, d);
    run.run(b + 1, {&perm, &inv, r});
    run.run(b + 2, {&g, &inv, &dx, c.t, c.h, c.k});
    expectClose(download(dx), ref::moeDispatchGrad(dxs, rt.perm, c.k, c.t),
                1e-6, rtolOf(d), "dispatch_grad " + rowCaseName(c));
  }
}

TEST_P(MoeGpu, CombineAndGradMatchReference) {
  MIND_REQUIRE_GPU();
  DType d = GetParam();
  std::mt19937 rng(106);
  std::vector<runtime::LaunchConfig> cfgs;
  for (const RowCase &c : kRowCases) {
    cfgs.push_back(rk::moeInvertPerm(c.t * c.k));
    cfgs.push_back(rk::moeCombine(d, c.t, c.h));
    cfgs.push_back(rk::moeCombineGrad(d, c.t * c.k, c.h));
  }
  KernelRunner run(cfgs);
  for (size_t ci = 0; ci < std::size(kRowCases); ++ci) {
    const RowCase &c = kRowCases[ci];
    size_t b = 3 * ci;
    int64_t r = c.t * c.k;
    Routing rt = makeRouting(c.t, c.k, c.e, rng);
    ref::Tensor y = rounded(randomTensor({r, c.h}, rng), d);
    ref::Tensor w = rounded(randomTensor({c.t, c.k}, rng, 0.05, 1.0), d);
    ref::Tensor dout = rounded(randomTensor({c.t, c.h}, rng), d);
    DevTensor yd = upload(y, d), perm = upload(rt.perm, DType::I64),
              wd = upload(w, d), gd = upload(dout, d),
              inv = poisoned({r}, DType::I64), out = poisoned({c.t, c.h}, d);
    run.run(b, {&perm, &inv, r});
    run.run(b + 1, {&yd, &inv, &wd, &out, c.t, c.h, c.k});
    expectClose(download(out), ref::moeCombine(y, rt.perm, w), 1e-6 * c.k,
                rtolOf(d), "combine " + rowCaseName(c));

    auto want = ref::moeCombineGrad(y, rt.perm, w, dout);
    DevTensor dy = poisoned({r, c.h}, d), dw = poisoned({c.t, c.k}, d);
    run.run(b + 2, {&yd, &perm, &wd, &gd, &dy, &dw, r, c.h, c.k});
    expectClose(download(dy), want.dy, 1e-7, rtolOf(d),
                "combine_grad dy " + rowCaseName(c));
    expectClose(download(dw), want.dweights, 1e-6 * c.h, rtolOf(d),
                "combine_grad dweights " + rowCaseName(c));
  }
}

//===----------------------------------------------------------------------===//
// grouped_linear
//===----------------------------------------------------------------------===//

namespace {
struct Gemm {
  int64_t t, k, e, kdim, n, empty;
};

struct GemmRun {
  ref::Tensor y, dx;
  std::vector<ref::Tensor> dw;
};

/// The three launches of case `c`: fwd, grad-x, grad-w.
void addGemmLaunches(std::vector<runtime::LaunchConfig> &cfgs, DType d,
                     const Gemm &c) {
  int64_t r = c.t * c.k;
  cfgs.push_back(rk::groupedLinear(d, r, c.kdim, c.n, c.e));
  cfgs.push_back(rk::groupedLinearGradX(d, r, c.kdim, c.n, c.e));
  cfgs.push_back(rk::groupedLinearGradW(d, r, c.kdim, c.n, c.e));
}

/// Runs launches b, b+1, b+2 of `run` (addGemmLaunches) for x [R,K],
/// dy [R,N] and E weights [N,K] under `rt`'s offsets.
GemmRun runGemm(KernelRunner &run, size_t b, DType d, const Gemm &c,
                const Routing &rt, const ref::Tensor &x, const ref::Tensor &dy,
                const std::vector<ref::Tensor> &w) {
  int64_t r = c.t * c.k;
  DevTensor xd = upload(x, d), gd = upload(dy, d),
            off = upload(rt.offsets, DType::I64);
  std::vector<DevTensor> wd, dwd;
  for (int64_t e = 0; e < c.e; ++e) {
    wd.push_back(upload(w[e], d));
    dwd.push_back(poisoned({c.n, c.kdim}, DType::F32));
  }
  DevTensor y = poisoned({r, c.n}, d), dx = poisoned({r, c.kdim}, d);
  std::vector<Arg> a = {&xd, &off, &y, r, c.kdim, c.n, c.e};
  pushExperts(a, wd);
  run.run(b, a);
  a = {&gd, &off, &dx, r, c.kdim, c.n, c.e};
  pushExperts(a, wd);
  run.run(b + 1, a);
  a = {&xd, &gd, &off, r, c.kdim, c.n, c.e};
  pushExperts(a, dwd);
  run.run(b + 2, a);
  GemmRun out{download(y), download(dx), {}};
  for (const DevTensor &t : dwd)
    out.dw.push_back(download(t));
  return out;
}

struct GemmInputs {
  Routing rt;
  ref::Tensor x, dy;
  std::vector<ref::Tensor> w;
};
GemmInputs gemmInputs(DType d, const Gemm &c, std::mt19937 &rng) {
  GemmInputs in;
  in.rt = makeRouting(c.t, c.k, c.e, rng, c.empty);
  in.x = rounded(randomTensor({c.t * c.k, c.kdim}, rng), d);
  in.dy = rounded(randomTensor({c.t * c.k, c.n}, rng), d);
  for (int64_t e = 0; e < c.e; ++e)
    in.w.push_back(rounded(randomTensor({c.n, c.kdim}, rng), d));
  return in;
}

std::string gemmName(const Gemm &c) {
  return "R=" + std::to_string(c.t * c.k) + " E=" + std::to_string(c.e) +
         " K=" + std::to_string(c.kdim) + " N=" + std::to_string(c.n) +
         " empty=" + std::to_string(c.empty);
}

/// Rows `rows` (sorted) of a [R, C] tensor.
ref::Tensor takeRows(const ref::Tensor &t, const std::vector<int64_t> &rows) {
  int64_t cols = t.shape[1];
  ref::Tensor out({static_cast<int64_t>(rows.size()), cols});
  for (size_t i = 0; i < rows.size(); ++i)
    std::copy_n(&t.data[rows[i] * cols], cols, &out.data[i * cols]);
  return out;
}
/// Columns `cols` of a [R, C] tensor.
ref::Tensor takeCols(const ref::Tensor &t, const std::vector<int64_t> &cols) {
  int64_t rows = t.shape[0], c = t.shape[1];
  ref::Tensor out({rows, static_cast<int64_t>(cols.size())});
  for (int64_t r = 0; r < rows; ++r)
    for (size_t j = 0; j < cols.size(); ++j)
      out.data[r * cols.size() + j] = t.data[r * c + cols[j]];
  return out;
}

void expectNoPoison(const ref::Tensor &t, const std::string &what) {
  int64_t nans = std::count_if(t.data.begin(), t.data.end(),
                               [](double v) { return std::isnan(v); });
  EXPECT_EQ(nans, 0) << what << ": elements left unwritten (poison)";
}
} // namespace

TEST_P(MoeGpu, GroupedLinearTinyMatchesReference) {
  MIND_REQUIRE_GPU();
  DType d = GetParam();
  std::mt19937 rng(107);
  // Expert 2 empty; K = 60 and N = 100 are not tile multiples (and K is not
  // a multiple of 8: unvectorized loads).
  const Gemm cases[] = {
      {48, 2, 4, 64, 192, -1}, {48, 2, 4, 64, 192, 2}, {37, 3, 5, 60, 100, 0}};
  std::vector<runtime::LaunchConfig> cfgs;
  for (const Gemm &c : cases)
    addGemmLaunches(cfgs, d, c);
  KernelRunner run(cfgs);
  for (size_t ci = 0; ci < std::size(cases); ++ci) {
    const Gemm &c = cases[ci];
    GemmInputs in = gemmInputs(d, c, rng);
    GemmRun got = runGemm(run, 3 * ci, d, c, in.rt, in.x, in.dy, in.w);
    ref::Tensor y = ref::groupedLinear(in.x, in.rt.offsets, in.w);
    auto g = ref::groupedLinearGrad(in.x, in.rt.offsets, in.dy, in.w);
    std::string n = gemmName(c);
    expectClose(got.y, y, 1e-6 * c.kdim, rtolOf(d), "grouped_linear y " + n);
    expectClose(got.dx, g.dx, 1e-6 * c.n, rtolOf(d), "grouped_linear dx " + n);
    for (int64_t e = 0; e < c.e; ++e) {
      std::string we = "grouped_linear dw_" + std::to_string(e) + " " + n;
      if (e == c.empty)
        expectExact(got.dw[e], ref::Tensor(g.dw[e].shape), we);
      else
        expectClose(got.dw[e], g.dw[e], 1e-6 * c.t * c.k, 1e-5, we);
    }
  }
}

// MiniMind's MoE FFN: T = 16352 tokens, E = 4, k = 2, H = 512, N = 1408. The
// double-precision reference of the whole GEMM would take minutes, so it
// runs on samples: rows at each expert's start, end, tile edges and random
// ones (y, dx), and a grid of (n, k) entries over all rows (dw). Every
// output element is checked to be written.
TEST_P(MoeGpu, GroupedLinearMiniMindSizedMatchesReferenceOnSamples) {
  MIND_REQUIRE_GPU();
  DType d = GetParam();
  std::mt19937 rng(108);
  Gemm c{16352, 2, 4, 512, 1408, -1};
  GemmInputs in = gemmInputs(d, c, rng);
  std::vector<runtime::LaunchConfig> cfgs;
  addGemmLaunches(cfgs, d, c);
  KernelRunner run(cfgs);
  GemmRun got = runGemm(run, 0, d, c, in.rt, in.x, in.dy, in.w);
  std::string n = gemmName(c);
  expectNoPoison(got.y, "y " + n);
  expectNoPoison(got.dx, "dx " + n);

  // Sampled rows, with the offsets of the sampled sub-problem.
  std::vector<int64_t> rows;
  ref::Tensor subOff({c.e + 1});
  for (int64_t e = 0; e < c.e; ++e) {
    int64_t b = in.rt.offsets.data[e], end = in.rt.offsets.data[e + 1];
    std::set<int64_t> pick;
    for (int64_t o : {0, 1, 63, 64, 65, 127, 128})
      if (b + o < end)
        pick.insert(b + o);
    for (int64_t o = 1; o <= 3 && end - o >= b; ++o)
      pick.insert(end - o);
    std::uniform_int_distribution<int64_t> any(b, std::max(b, end - 1));
    for (int i = 0; i < 8 && end > b; ++i)
      pick.insert(any(rng));
    rows.insert(rows.end(), pick.begin(), pick.end());
    subOff.data[e + 1] = static_cast<double>(rows.size());
  }
  ref::Tensor xs = takeRows(in.x, rows), dys = takeRows(in.dy, rows);
  expectClose(takeRows(got.y, rows), ref::groupedLinear(xs, subOff, in.w),
              1e-6 * c.kdim, rtolOf(d), "grouped_linear y (sampled) " + n);
  auto gs = ref::groupedLinearGrad(xs, subOff, dys, in.w);
  expectClose(takeRows(got.dx, rows), gs.dx, 1e-6 * c.n, rtolOf(d),
              "grouped_linear dx (sampled) " + n);

  // dw_e[ns, ks] over all rows: the reference on the selected columns.
  std::vector<int64_t> ns = {0, 1, 63, 64, 65, 700, 1343, 1344, 1407};
  std::vector<int64_t> ks = {0, 5, 63, 64, 255, 256, 448, 511};
  ref::Tensor xc = takeCols(in.x, ks), dyc = takeCols(in.dy, ns);
  std::vector<ref::Tensor> wsub(c.e,
                                ref::Tensor({static_cast<int64_t>(ns.size()),
                                             static_cast<int64_t>(ks.size())}));
  auto gc = ref::groupedLinearGrad(xc, in.rt.offsets, dyc, wsub);
  for (int64_t e = 0; e < c.e; ++e) {
    std::string we = "grouped_linear dw_" + std::to_string(e) + " " + n;
    expectNoPoison(got.dw[e], we);
    double rowsE = in.rt.offsets.data[e + 1] - in.rt.offsets.data[e];
    expectClose(takeCols(takeRows(got.dw[e], ns), ks), gc.dw[e], 1e-6 * rowsE,
                1e-5, we + " (sampled)");
  }
}

//===----------------------------------------------------------------------===//
// moe_aux_loss
//===----------------------------------------------------------------------===//

TEST_P(MoeGpu, AuxLossAndGradMatchReference) {
  MIND_REQUIRE_GPU();
  DType d = GetParam();
  std::mt19937 rng(109);
  struct Case {
    int64_t t, e, k, batch;
  };
  const float alpha = 0.1f;
  const Case cases[] = {{48, 4, 2, 4}, {16352, 4, 2, 32}, {2048, 64, 8, 8}};
  std::vector<runtime::LaunchConfig> cfgs;
  for (const Case &c : cases)
    for (bool seq : {false, true}) {
      cfgs.push_back(rk::moeAuxLoss(d, c.t, c.e, c.k, seq, c.batch));
      cfgs.push_back(rk::moeAuxLossGrad(d, c.t, c.e, c.k, seq, c.batch));
    }
  KernelRunner run(cfgs);
  size_t b = 0;
  for (const Case &c : cases)
    for (bool seq : {false, true}) {
      std::string what = "T=" + std::to_string(c.t) +
                         " E=" + std::to_string(c.e) + (seq ? " seq_aux" : "");
      ref::Tensor scores = gateScores(c.t, c.e, rng, d);
      ref::Tensor idx = ref::topk(scores, c.k, true).indices;
      DevTensor s = upload(scores, d), i = upload(idx, DType::I64),
                out = poisoned({1}, DType::F32);
      run.run(b, {&s, &i, &out, c.t, c.e, c.k, alpha, int64_t(seq), c.batch});
      ref::Tensor want = ref::moeAuxLoss(scores, idx, alpha, seq, c.batch);
      expectClose(download(out), ref::Tensor::fromData({1}, want.data), 0.0,
                  1e-5, "aux_loss " + what);

      ref::Tensor dloss =
          rounded(ref::Tensor::fromData({1}, {0.73}), DType::F32);
      DevTensor dl = upload(dloss, DType::F32), ds = poisoned({c.t, c.e}, d);
      run.run(b + 1, {&i, &dl, &ds, c.t, c.e, c.k, alpha, int64_t(seq), c.batch,
                      rk::moeAuxLossGradChunk()});
      expectClose(
          download(ds),
          ref::moeAuxLossGrad(scores, idx, dloss.data[0], alpha, seq, c.batch),
          0.0, rtolOf(d), "aux_loss_grad " + what);
      b += 2;
    }
}

INSTANTIATE_TEST_SUITE_P(Dtypes, MoeGpu,
                         ::testing::Values(DType::F32, DType::BF16),
                         dtypeParamName);
