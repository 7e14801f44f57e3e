//===- GradCheckOpsTest.cpp - per-op finite-difference gradient checks ----===//
//
// For every differentiable `mind` op: a small @forward in MLIR text (f64
// throughout) applies the op to `mind.param` arguments and reduces the result
// to a scalar with a smooth function (a reshape to [N, C] and a masked
// cross-entropy with fixed targets). `mind-autodiff` turns it into
// @train_step, which the interpreter runs in Float64 precision; every
// gradient entry must match the central difference of @forward.
//
// Tolerance: |autodiff - fd| <= 1e-6 * max(1, |fd|) with h = 1e-6. In double
// precision the central difference's truncation error is h^2 |f'''| / 6
// ~ 1e-12 * O(1) and its rounding error ~ eps |f| / h ~ 2.2e-16 * O(1) /
// 1e-6 ~ 1e-9 (the losses here are O(1)), so a correct rule lands three
// orders of magnitude inside the bound, while a wrong rule (a missing term, a
// sign, a transposed operand, a lost factor) is off by O(|grad|). Every case
// also requires each gradient to be nonzero somewhere so nothing passes
// vacuously (gradients here are O(0.005 - 1); measured errors are all below
// 4e-4 of the bound). The harness tests at the end show that it rejects a
// gradient that is not summed and one that is off by a factor 1 + 1e-4.
//
//===----------------------------------------------------------------------===//

#include "GradCheck.h"

#include "mind/Dialect/Mind/IR/MindOps.h"

#include <gtest/gtest-spi.h>

#include <map>
#include <sstream>

using namespace mind::gradcheck;
using mind::InterpreterPrecision;

namespace {

std::string typeStr(const std::vector<int64_t> &shape,
                    const std::string &elem) {
  std::string s = "tensor<";
  for (int64_t d : shape)
    s += std::to_string(d) + "x";
  return s + elem + ">";
}
std::string f64(const std::vector<int64_t> &shape) {
  return typeStr(shape, "f64");
}
std::string f32(const std::vector<int64_t> &shape) {
  return typeStr(shape, "f32");
}
std::string i64(const std::vector<int64_t> &shape) {
  return typeStr(shape, "i64");
}
int64_t numel(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// Writes `func.func @forward` as MLIR text together with its argument values.
class ForwardFn {
public:
  /// A differentiable parameter (`mind.param = "<name>"`).
  ForwardFn &param(const std::string &name, const std::string &type,
                   Tensor value) {
    return arg(name, type, "mind.param = \"" + name + "\"", std::move(value));
  }
  /// A non-parameter input (`mind.input = "<name>"`).
  ForwardFn &input(const std::string &name, const std::string &type,
                   Tensor value) {
    return arg(name, type, "mind.input = \"" + name + "\"", std::move(value));
  }
  /// One line of the body, e.g. "%y = mind.silu %x : (...) -> ...".
  ForwardFn &op(const std::string &line) {
    body += "    " + line + "\n";
    return *this;
  }
  ForwardFn &result(const std::string &name, const std::string &type) {
    results.push_back({name, type});
    return *this;
  }

  /// Reduces %v (f64, `shape`) to a masked mean cross-entropy over its
  /// [numel / c, c] reshape, with random targets in [0, c) and a mask with
  /// zeros (both fixed i64 inputs), and makes it a result of @forward.
  ForwardFn &ceLoss(const std::string &v, const std::vector<int64_t> &shape,
                    int64_t c, std::mt19937 &rng) {
    int64_t n = numel(shape) / c;
    std::string flat = v;
    if (shape != std::vector<int64_t>{n, c}) {
      flat = v + "_2d";
      op("%" + flat + " = mind.reshape %" + v + " : (" + f64(shape) + ") -> " +
         f64({n, c}));
    }
    input(v + "_targets", i64({n}), randomInts({n}, c, rng));
    input(v + "_mask", i64({n}), mask({n}));
    op("%" + v + "_ce = mind.cross_entropy %" + flat + ", %" + v +
       "_targets, %" + v + "_mask : (" + f64({n, c}) + ", " + i64({n}) + ", " +
       i64({n}) + ") -> tensor<f64>");
    return result(v + "_ce", "tensor<f64>");
  }

  std::string text() const {
    std::ostringstream os;
    os << "func.func @forward(";
    for (size_t i = 0; i < args.size(); ++i)
      os << (i ? ",\n    " : "") << "%" << args[i].name << ": " << args[i].type
         << " {" << args[i].attr << "}";
    os << ") -> (";
    for (size_t i = 0; i < results.size(); ++i)
      os << (i ? ", " : "") << results[i].second;
    os << ") {\n" << body << "    return ";
    for (size_t i = 0; i < results.size(); ++i)
      os << (i ? ", " : "") << "%" << results[i].first;
    os << " : ";
    for (size_t i = 0; i < results.size(); ++i)
      os << (i ? ", " : "") << results[i].second;
    os << "\n}\n";
    return os.str();
  }
  std::vector<Tensor> values() const {
    std::vector<Tensor> out;
    for (const Arg &a : args)
      out.push_back(a.value);
    return out;
  }
  /// Index of argument %name.
  unsigned argIndex(const std::string &name) const {
    for (unsigned i = 0; i < args.size(); ++i)
      if (args[i].name == name)
        return i;
    ADD_FAILURE() << "no argument %" << name;
    return 0;
  }

private:
  struct Arg {
    std::string name, type, attr;
    Tensor value;
  };
  ForwardFn &arg(const std::string &name, const std::string &type,
                 const std::string &attr, Tensor value) {
    args.push_back({name, type, attr, std::move(value)});
    return *this;
  }

  std::vector<Arg> args;
  std::string body;
  std::vector<std::pair<std::string, std::string>> results;
};

/// Parses `fn`, differentiates it and checks every parameter gradient.
/// Returns the module (null on failure) for further checks.
mlir::OwningOpRef<mlir::ModuleOp> runCheck(mlir::MLIRContext &ctx,
                                           const ForwardFn &fn,
                                           const CheckOptions &opts = {}) {
  std::string text = fn.text();
  SCOPED_TRACE(text);
  auto module = parseAndDifferentiate(ctx, text);
  if (!module)
    return nullptr;
  int64_t compared = checkGradients(*module, fn.values(), opts);
  EXPECT_GT(compared, 0);
  return module;
}

class GradCheckOps : public ::testing::Test {
protected:
  std::unique_ptr<mlir::MLIRContext> ctx = makeContext();
};

//===----------------------------------------------------------------------===//
// Dense layers
//===----------------------------------------------------------------------===//

TEST_F(GradCheckOps, Embedding) {
  std::mt19937 rng(1);
  Tensor ids = randomInts({2, 3}, 7, rng);
  ids.data[3] = ids.data[0]; // A repeated id: its row's gradient is summed.
  ForwardFn fn;
  fn.param("table", f64({7, 5}), uniform({7, 5}, rng))
      .input("ids", i64({2, 3}), ids)
      .op("%y = mind.embedding %table, %ids : (" + f64({7, 5}) + ", " +
          i64({2, 3}) + ") -> " + f64({2, 3, 5}))
      .ceLoss("y", {2, 3, 5}, 5, rng);
  // Rows of ids that never occur have an exactly zero gradient, like FD's.
  runCheck(*ctx, fn);
}

TEST_F(GradCheckOps, LinearRank3Input) {
  std::mt19937 rng(2);
  ForwardFn fn;
  fn.param("x", f64({2, 3, 4}), uniform({2, 3, 4}, rng))
      .param("w", f64({5, 4}), uniform({5, 4}, rng))
      .op("%y = mind.linear %x, %w : (" + f64({2, 3, 4}) + ", " + f64({5, 4}) +
          ") -> " + f64({2, 3, 5}))
      .ceLoss("y", {2, 3, 5}, 5, rng);
  runCheck(*ctx, fn);
}

TEST_F(GradCheckOps, LinearRank2Input) {
  std::mt19937 rng(3);
  ForwardFn fn;
  fn.param("x", f64({6, 4}), uniform({6, 4}, rng))
      .param("w", f64({3, 4}), uniform({3, 4}, rng))
      .op("%y = mind.linear %x, %w : (" + f64({6, 4}) + ", " + f64({3, 4}) +
          ") -> " + f64({6, 3}))
      .ceLoss("y", {6, 3}, 3, rng);
  runCheck(*ctx, fn);
}

class GradCheckMatmul
    : public ::testing::TestWithParam<std::tuple<bool, bool>> {
protected:
  std::unique_ptr<mlir::MLIRContext> ctx = makeContext();
};

TEST_P(GradCheckMatmul, AllTransposeCombinations) {
  auto [ta, tb] = GetParam();
  const int64_t m = 3, k = 4, n = 5;
  std::vector<int64_t> aShape =
      ta ? std::vector<int64_t>{k, m} : std::vector<int64_t>{m, k};
  std::vector<int64_t> bShape =
      tb ? std::vector<int64_t>{n, k} : std::vector<int64_t>{k, n};
  std::mt19937 rng(4 + 2 * ta + tb);
  ForwardFn fn;
  fn.param("a", f64(aShape), uniform(aShape, rng))
      .param("b", f64(bShape), uniform(bShape, rng))
      .op(std::string("%y = mind.matmul %a, %b {transpose_lhs = ") +
          (ta ? "true" : "false") +
          ", transpose_rhs = " + (tb ? "true" : "false") + "} : (" +
          f64(aShape) + ", " + f64(bShape) + ") -> " + f64({m, n}))
      .ceLoss("y", {m, n}, n, rng);
  runCheck(*ctx, fn);
}

INSTANTIATE_TEST_SUITE_P(
    Ops, GradCheckMatmul,
    ::testing::Combine(::testing::Bool(), ::testing::Bool()),
    [](const ::testing::TestParamInfo<std::tuple<bool, bool>> &info) {
      return std::string(std::get<0>(info.param) ? "TransA" : "A") + "_" +
             (std::get<1>(info.param) ? "TransB" : "B");
    });

TEST_F(GradCheckOps, RMSNorm) {
  std::mt19937 rng(10);
  ForwardFn fn;
  fn.param("x", f64({2, 3, 6}), uniform({2, 3, 6}, rng))
      .param("w", f64({6}), normal({6}, rng, 1.0, 0.3))
      .op("%y = mind.rmsnorm %x, %w {epsilon = 1.0e-05 : f64} : (" +
          f64({2, 3, 6}) + ", " + f64({6}) + ") -> " + f64({2, 3, 6}))
      .ceLoss("y", {2, 3, 6}, 6, rng);
  runCheck(*ctx, fn);
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

/// RoPE-shaped tables [S, D]: both halves of each row equal (cat(f, f), as
/// rope_table produces them; the rotate-half VJP relies on it), amplitudes
/// not exactly 1 (like a YaRN attention_factor).
std::pair<Tensor, Tensor> ropeTables(int64_t s, int64_t d, std::mt19937 &rng) {
  Tensor cos({s, d}), sin({s, d});
  std::uniform_real_distribution<double> angle(-3.0, 3.0), amp(0.8, 1.2);
  for (int64_t i = 0; i < s; ++i)
    for (int64_t j = 0; j < d / 2; ++j) {
      double t = angle(rng), a = amp(rng);
      for (int64_t half : {j, j + d / 2}) {
        cos.data[i * d + half] = a * std::cos(t);
        sin.data[i * d + half] = a * std::sin(t);
      }
    }
  return {cos, sin};
}

class GradCheckRope : public ::testing::TestWithParam<bool> {
protected:
  std::unique_ptr<mlir::MLIRContext> ctx = makeContext();
};

TEST_P(GradCheckRope, Rope) {
  bool inverse = GetParam();
  std::mt19937 rng(11 + inverse);
  std::vector<int64_t> x = {2, 3, 2, 4};
  auto [cos, sin] = ropeTables(3, 4, rng);
  ForwardFn fn;
  // The tables are buffers (mind.input): they get no gradient.
  fn.param("x", f64(x), uniform(x, rng))
      .input("cos", f64({3, 4}), cos)
      .input("sin", f64({3, 4}), sin)
      .op(std::string("%y = mind.rope %x, %cos, %sin {inverse = ") +
          (inverse ? "true" : "false") + "} : (" + f64(x) + ", " + f64({3, 4}) +
          ", " + f64({3, 4}) + ") -> " + f64(x))
      .ceLoss("y", x, 4, rng);
  runCheck(*ctx, fn);
}

INSTANTIATE_TEST_SUITE_P(Ops, GradCheckRope, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool> &info) {
                           return info.param ? "Inverse" : "Forward";
                         });

class GradCheckAttention : public ::testing::TestWithParam<bool> {
protected:
  std::unique_ptr<mlir::MLIRContext> ctx = makeContext();
};

TEST_P(GradCheckAttention, GroupedQueryAttention) {
  bool causal = GetParam();
  std::mt19937 rng(13 + causal);
  // GQA: Hq = 4 query heads read Hkv = 2 KV heads.
  std::vector<int64_t> q = {2, 4, 4, 4}, kv = {2, 4, 2, 4};
  ForwardFn fn;
  fn.param("q", f64(q), uniform(q, rng))
      .param("k", f64(kv), uniform(kv, rng))
      .param("v", f64(kv), uniform(kv, rng))
      .op(std::string("%o, %lse = mind.attention %q, %k, %v {scale = 0.7 : "
                      "f64, causal = ") +
          (causal ? "true" : "false") + "} : (" + f64(q) + ", " + f64(kv) +
          ", " + f64(kv) + ") -> (" + f64(q) + ", " + f32({2, 4, 4}) + ")")
      .ceLoss("o", q, 4, rng);
  runCheck(*ctx, fn);
}

INSTANTIATE_TEST_SUITE_P(Ops, GradCheckAttention, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool> &info) {
                           return info.param ? "Causal" : "NonCausal";
                         });

//===----------------------------------------------------------------------===//
// Elementwise, softmax, loss
//===----------------------------------------------------------------------===//

TEST_F(GradCheckOps, Add) {
  std::mt19937 rng(20);
  ForwardFn fn;
  fn.param("a", f64({3, 4}), uniform({3, 4}, rng))
      .param("b", f64({3, 4}), uniform({3, 4}, rng))
      .op("%y = mind.add %a, %b : (" + f64({3, 4}) + ", " + f64({3, 4}) +
          ") -> " + f64({3, 4}))
      .ceLoss("y", {3, 4}, 4, rng);
  runCheck(*ctx, fn);
}

TEST_F(GradCheckOps, Mul) {
  std::mt19937 rng(21);
  ForwardFn fn;
  fn.param("a", f64({3, 4}), uniform({3, 4}, rng, -2, 2))
      .param("b", f64({3, 4}), uniform({3, 4}, rng, -2, 2))
      .op("%y = mind.mul %a, %b : (" + f64({3, 4}) + ", " + f64({3, 4}) +
          ") -> " + f64({3, 4}))
      .ceLoss("y", {3, 4}, 4, rng);
  runCheck(*ctx, fn);
}

TEST_F(GradCheckOps, Silu) {
  std::mt19937 rng(22);
  ForwardFn fn;
  fn.param("x", f64({3, 4}), uniform({3, 4}, rng, -4, 4))
      .op("%y = mind.silu %x : (" + f64({3, 4}) + ") -> " + f64({3, 4}))
      .ceLoss("y", {3, 4}, 4, rng);
  runCheck(*ctx, fn);
}

TEST_F(GradCheckOps, SwiGLU) {
  std::mt19937 rng(23);
  ForwardFn fn;
  fn.param("gate", f64({3, 4}), uniform({3, 4}, rng, -3, 3))
      .param("up", f64({3, 4}), uniform({3, 4}, rng, -2, 2))
      .op("%y = mind.swiglu %gate, %up : (" + f64({3, 4}) + ", " + f64({3, 4}) +
          ") -> " + f64({3, 4}))
      .ceLoss("y", {3, 4}, 4, rng);
  runCheck(*ctx, fn);
}

TEST_F(GradCheckOps, Softmax) {
  std::mt19937 rng(24);
  ForwardFn fn;
  // Rank 3: softmax over the last dimension of every row; logits spread
  // widely so the probabilities are far from uniform. Scaled by 5 before the
  // loss so the gradient is not tiny.
  Tensor five({2, 3, 5}, 5.0);
  fn.param("x", f64({2, 3, 5}), uniform({2, 3, 5}, rng, -3, 3))
      .input("five", f64({2, 3, 5}), five)
      .op("%p = mind.softmax %x : (" + f64({2, 3, 5}) + ") -> " +
          f64({2, 3, 5}))
      .op("%y = mind.mul %p, %five : (" + f64({2, 3, 5}) + ", " +
          f64({2, 3, 5}) + ") -> " + f64({2, 3, 5}))
      .ceLoss("y", {2, 3, 5}, 5, rng);
  runCheck(*ctx, fn);
}

TEST_F(GradCheckOps, CrossEntropyIntegerMask) {
  std::mt19937 rng(25);
  ForwardFn fn;
  // Rank-3 logits directly into the loss (no reshape), targets/mask [2, 3].
  fn.param("logits", f64({2, 3, 5}), uniform({2, 3, 5}, rng, -2, 2))
      .input("targets", i64({2, 3}), randomInts({2, 3}, 5, rng))
      .input("mask", i64({2, 3}), mask({2, 3}, 3))
      .op("%l = mind.cross_entropy %logits, %targets, %mask : (" +
          f64({2, 3, 5}) + ", " + i64({2, 3}) + ", " + i64({2, 3}) +
          ") -> tensor<f64>")
      .result("l", "tensor<f64>");
  runCheck(*ctx, fn);
}

TEST_F(GradCheckOps, CrossEntropyFloatMaskF32Loss) {
  std::mt19937 rng(26);
  ForwardFn fn;
  // A fractional float mask (a non-parameter input: no gradient) and the
  // loss as tensor<f32>, as the frontend writes it (the seed is then
  // grad_scale itself; Float64 precision keeps the loss in double).
  Tensor m = uniform({4}, rng, 0.2, 1.0);
  m.data[1] = 0.0;
  fn.param("logits", f64({4, 3}), uniform({4, 3}, rng, -2, 2))
      .input("targets", i64({4}), randomInts({4}, 3, rng))
      .input("mask", f64({4}), m)
      .op("%l = mind.cross_entropy %logits, %targets, %mask : (" + f64({4, 3}) +
          ", " + i64({4}) + ", " + f64({4}) + ") -> tensor<f32>")
      .result("l", "tensor<f32>");
  runCheck(*ctx, fn);
}

//===----------------------------------------------------------------------===//
// Mixture of experts
//===----------------------------------------------------------------------===//

/// Router scores [t, e] in (0, 1) whose entries in each row are at least
/// 0.1 apart, so a 1e-6 perturbation never changes the top-k selection.
Tensor separatedScores(int64_t t, int64_t e, std::mt19937 &rng) {
  Tensor s({t, e});
  std::uniform_real_distribution<double> jitter(-0.03, 0.03);
  std::vector<int64_t> order(e);
  for (int64_t ti = 0; ti < t; ++ti) {
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    for (int64_t j = 0; j < e; ++j)
      s.data[ti * e + order[j]] = 0.1 + 0.8 * (j + 0.5) / e + jitter(rng);
  }
  return s;
}

class GradCheckTopK : public ::testing::TestWithParam<bool> {
protected:
  std::unique_ptr<mlir::MLIRContext> ctx = makeContext();
};

TEST_P(GradCheckTopK, WeightsOfTopTwo) {
  bool normalize = GetParam();
  std::mt19937 rng(30 + normalize);
  // Only the weights are differentiable; the unselected scores get an
  // exactly zero gradient, and so does their central difference.
  ForwardFn fn;
  fn.param("s", f64({5, 4}), separatedScores(5, 4, rng))
      .op(std::string("%w, %idx = mind.topk %s {k = 2 : i64, normalize = ") +
          (normalize ? "true" : "false") + "} : (" + f64({5, 4}) + ") -> (" +
          f64({5, 2}) + ", " + i64({5, 2}) + ")")
      .ceLoss("w", {5, 2}, 2, rng);
  runCheck(*ctx, fn);
}

INSTANTIATE_TEST_SUITE_P(Ops, GradCheckTopK, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool> &info) {
                           return info.param ? "Normalize" : "NoNormalize";
                         });

/// Valid routing for t tokens, e experts, top-k: indices from ref::topk of
/// separated scores, perm/offsets from ref::moeRoute.
struct Routing {
  Tensor indices, perm, offsets;
};
Routing route(int64_t t, int64_t e, int64_t k, std::mt19937 &rng,
              int64_t unusedExpert = -1) {
  Tensor s = separatedScores(t, e, rng);
  if (unusedExpert >= 0)
    for (int64_t ti = 0; ti < t; ++ti)
      s.data[ti * e + unusedExpert] = 0.0;
  auto top = mind::ref::topk(s, k, /*normalize=*/false);
  auto r = mind::ref::moeRoute(top.indices, e);
  return {top.indices, r.perm, r.offsets};
}

TEST_F(GradCheckOps, MoeDispatch) {
  std::mt19937 rng(32);
  Routing r = route(4, 3, 2, rng);
  ForwardFn fn;
  fn.param("x", f64({4, 3}), uniform({4, 3}, rng, -2, 2))
      .input("perm", i64({8}), r.perm)
      .op("%y = mind.moe_dispatch %x, %perm {top_k = 2 : i64} : (" +
          f64({4, 3}) + ", " + i64({8}) + ") -> " + f64({8, 3}))
      .ceLoss("y", {8, 3}, 3, rng);
  runCheck(*ctx, fn);
}

TEST_F(GradCheckOps, GroupedLinear) {
  std::mt19937 rng(33);
  // 5 tokens, top-2 of 4 experts; expert 2 receives no rows.
  Routing r = route(5, 4, 2, rng, /*unusedExpert=*/2);
  ASSERT_EQ(r.offsets.data[2], r.offsets.data[3]);
  ForwardFn fn;
  fn.param("x", f64({10, 3}), uniform({10, 3}, rng, -2, 2))
      .input("offsets", i64({5}), r.offsets);
  std::string ws, wTypes;
  for (int e = 0; e < 4; ++e) {
    std::string name = "w" + std::to_string(e);
    fn.param(name, f64({4, 3}), uniform({4, 3}, rng, -1, 1));
    ws += ", %" + name;
    wTypes += ", " + f64({4, 3});
  }
  fn.op("%y = mind.grouped_linear %x, %offsets" + ws + " : (" + f64({10, 3}) +
        ", " + i64({5}) + wTypes + ") -> " + f64({10, 4}))
      .ceLoss("y", {10, 4}, 4, rng);
  CheckOptions opts;
  opts.requireNonzero = false; // w2 is dead; checked below.
  auto module = runCheck(*ctx, fn, opts);
  ASSERT_TRUE(module);
  auto res = trainStep(lookupFunc(*module, "train_step"), fn.values(),
                       InterpreterPrecision::Float64);
  ASSERT_EQ(res.size(), 6u);
  for (int e = 0; e < 4; ++e) {
    double maxAbs = 0;
    for (double g : res[2 + e].data)
      maxAbs = std::max(maxAbs, std::abs(g));
    if (e == 2)
      EXPECT_EQ(maxAbs, 0.0) << "expert 2 has no rows";
    else
      EXPECT_GT(maxAbs, 1e-3) << "expert " << e;
  }
}

TEST_F(GradCheckOps, MoeCombine) {
  std::mt19937 rng(34);
  Routing r = route(4, 3, 2, rng);
  ForwardFn fn;
  fn.param("y", f64({8, 3}), uniform({8, 3}, rng, -2, 2))
      .input("perm", i64({8}), r.perm)
      .param("weights", f64({4, 2}), uniform({4, 2}, rng, 0.1, 1.0))
      .op("%out = mind.moe_combine %y, %perm, %weights : (" + f64({8, 3}) +
          ", " + i64({8}) + ", " + f64({4, 2}) + ") -> " + f64({4, 3}))
      .ceLoss("out", {4, 3}, 3, rng);
  runCheck(*ctx, fn);
}

class GradCheckAuxLoss : public ::testing::TestWithParam<bool> {
protected:
  std::unique_ptr<mlir::MLIRContext> ctx = makeContext();
};

TEST_P(GradCheckAuxLoss, SoftmaxScores) {
  bool seqAux = GetParam();
  std::mt19937 rng(35 + seqAux);
  // scores = softmax(logits) so the (linear in scores) loss is a nonlinear
  // function of the parameter; alpha = 1 keeps the gradient O(0.1). The
  // indices are a fixed input (their counts are constants of the rule).
  Tensor logits = uniform({6, 4}, rng, -2, 2);
  Tensor indices =
      mind::ref::topk(mind::ref::softmax(logits), 2, false).indices;
  ForwardFn fn;
  fn.param("logits", f64({6, 4}), logits)
      .input("indices", i64({6, 2}), indices)
      .op("%s = mind.softmax %logits : (" + f64({6, 4}) + ") -> " + f64({6, 4}))
      .op(std::string("%aux = mind.moe_aux_loss %s, %indices {alpha = 1.0 : "
                      "f64, seq_aux = ") +
          (seqAux ? "true" : "false") + ", batch = 2 : i64} : (" + f64({6, 4}) +
          ", " + i64({6, 2}) + ") -> tensor<f64>")
      .result("aux", "tensor<f64>");
  runCheck(*ctx, fn);
}

INSTANTIATE_TEST_SUITE_P(Ops, GradCheckAuxLoss, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool> &info) {
                           return info.param ? "SeqAux" : "BatchAux";
                         });

/// A whole routed MoE layer with the routing computed in the function:
/// router linear + softmax + topk + moe_route + dispatch + grouped_linear +
/// combine, plus the aux loss; two results (CE and aux) whose sum is
/// differentiated. The scores' k-th and (k+1)-th entries of every row are
/// checked to be far apart, so the selection is constant under the FD step.
TEST_F(GradCheckOps, RoutedMoeLayer) {
  // Seed 38: no near tie, and every expert gets rows (asserted below).
  std::mt19937 rng(38);
  const int64_t t = 6, h = 4, e = 4, k = 2, n = 5, r = t * k;
  Tensor x = uniform({t, h}, rng, -1.5, 1.5);
  Tensor gate = uniform({e, h}, rng, -1, 1);
  Tensor scores = mind::ref::softmax(mind::ref::linear(x, gate));
  for (int64_t ti = 0; ti < t; ++ti) {
    std::vector<double> row(&scores.data[ti * e], &scores.data[ti * e] + e);
    std::sort(row.rbegin(), row.rend());
    ASSERT_GT(row[k - 1] - row[k], 1e-3) << "near tie in token " << ti;
  }
  // Every expert gets rows, so every expert weight's check is non-vacuous.
  Tensor offsets =
      mind::ref::moeRoute(mind::ref::topk(scores, k, true).indices, e).offsets;
  for (int64_t i = 0; i < e; ++i)
    ASSERT_LT(offsets.data[i], offsets.data[i + 1]) << "expert " << i;
  ForwardFn fn;
  fn.param("x", f64({t, h}), x).param("gate", f64({e, h}), gate);
  std::string ws, wTypes;
  for (int64_t i = 0; i < e; ++i) {
    std::string name = "w" + std::to_string(i);
    fn.param(name, f64({n, h}), uniform({n, h}, rng, -1, 1));
    ws += ", %" + name;
    wTypes += ", " + f64({n, h});
  }
  fn.op("%logits = mind.linear %x, %gate : (" + f64({t, h}) + ", " +
        f64({e, h}) + ") -> " + f64({t, e}))
      .op("%s = mind.softmax %logits : (" + f64({t, e}) + ") -> " + f64({t, e}))
      .op("%w, %idx = mind.topk %s {k = 2 : i64, normalize = true} : (" +
          f64({t, e}) + ") -> (" + f64({t, k}) + ", " + i64({t, k}) + ")")
      .op("%perm, %off = mind.moe_route %idx {num_experts = 4 : i64} : (" +
          i64({t, k}) + ") -> (" + i64({r}) + ", " + i64({e + 1}) + ")")
      .op("%rows = mind.moe_dispatch %x, %perm {top_k = 2 : i64} : (" +
          f64({t, h}) + ", " + i64({r}) + ") -> " + f64({r, h}))
      .op("%ys = mind.grouped_linear %rows, %off" + ws + " : (" + f64({r, h}) +
          ", " + i64({e + 1}) + wTypes + ") -> " + f64({r, n}))
      .op("%y = mind.moe_combine %ys, %perm, %w : (" + f64({r, n}) + ", " +
          i64({r}) + ", " + f64({t, k}) + ") -> " + f64({t, n}))
      .op("%aux = mind.moe_aux_loss %s, %idx {alpha = 0.5 : f64, seq_aux = "
          "true, batch = 2 : i64} : (" +
          f64({t, e}) + ", " + i64({t, k}) + ") -> tensor<f64>")
      .ceLoss("y", {t, n}, n, rng)
      .result("aux", "tensor<f64>");
  runCheck(*ctx, fn);
}

//===----------------------------------------------------------------------===//
// Shape and type
//===----------------------------------------------------------------------===//

TEST_F(GradCheckOps, Reshape) {
  std::mt19937 rng(40);
  ForwardFn fn;
  fn.param("x", f64({2, 3, 4}), uniform({2, 3, 4}, rng, -2, 2))
      .op("%y = mind.reshape %x : (" + f64({2, 3, 4}) + ") -> " + f64({4, 6}))
      .ceLoss("y", {4, 6}, 6, rng);
  runCheck(*ctx, fn);
}

TEST_F(GradCheckOps, Transpose) {
  std::mt19937 rng(41);
  ForwardFn fn;
  // A non-involutive permutation: its inverse differs from itself.
  fn.param("x", f64({2, 3, 4}), uniform({2, 3, 4}, rng, -2, 2))
      .op("%y = mind.transpose %x {permutation = array<i64: 2, 0, 1>} : (" +
          f64({2, 3, 4}) + ") -> " + f64({4, 2, 3}))
      .ceLoss("y", {4, 2, 3}, 3, rng);
  runCheck(*ctx, fn);
}

/// f64 -> f32 and f32 -> f64 casts: %x (f64) is cast to f32, multiplied by
/// %w (f32), and the product cast back to f64 for the loss.
ForwardFn castFunction(std::mt19937 &rng,
                       const std::function<Tensor(Tensor)> &quantize) {
  ForwardFn fn;
  fn.param("x", f64({3, 4}), quantize(uniform({3, 4}, rng, -1, 1)))
      .param("w", f32({3, 4}), quantize(uniform({3, 4}, rng, -1, 1)))
      .op("%xf = mind.cast %x : (" + f64({3, 4}) + ") -> " + f32({3, 4}))
      .op("%p = mind.mul %xf, %w : (" + f32({3, 4}) + ", " + f32({3, 4}) +
          ") -> " + f32({3, 4}))
      .op("%pd = mind.cast %p : (" + f32({3, 4}) + ") -> " + f64({3, 4}))
      .ceLoss("pd", {3, 4}, 4, rng);
  return fn;
}

TEST_F(GradCheckOps, CastFloat64Precision) {
  // In Float64 precision a cast keeps the value, so this checks the cast
  // rule's structure (the gradient goes back through the inverse casts, with
  // matching types) at the tight tolerance.
  std::mt19937 rng(42);
  runCheck(*ctx, castFunction(rng, [](Tensor t) { return t; }));
}

TEST_F(GradCheckOps, CastAsTypedPrecision) {
  // The same function with real f32 rounding (AsTyped). Inputs are multiples
  // of 2^-20 in [-1, 1) and h = 2^-8, so x +- h is exact in f32 and the
  // casts of the perturbed inputs lose nothing. What remains: the f32
  // rounding of the product p (|error| <= 6e-8 |p|, so <= ~5e-6 after the
  // division by 2h) and the truncation error h^2 |f'''| / 6 (~1e-6): a
  // loose 1e-4 bound (per element, like the others) is 10x above both, and
  // a wrong rule is still off by O(|grad|) ~ 0.1.
  std::mt19937 rng(42);
  auto quantize = [](Tensor t) {
    for (double &v : t.data)
      v = std::ldexp(std::round(std::ldexp(v, 20)), -20);
    return t;
  };
  CheckOptions opts;
  opts.precision = InterpreterPrecision::AsTyped;
  opts.h = std::ldexp(1.0, -8);
  opts.rtol = 1e-4;
  opts.quantize = [](unsigned, double v) {
    return static_cast<double>(static_cast<float>(v));
  };
  runCheck(*ctx, castFunction(rng, quantize), opts);
}

//===----------------------------------------------------------------------===//
// Autodiff structure: multiple uses, dead and non-differentiable arguments,
// grad_scale
//===----------------------------------------------------------------------===//

TEST_F(GradCheckOps, AddOfAValueWithItself) {
  std::mt19937 rng(50);
  ForwardFn fn;
  fn.param("x", f64({3, 4}), uniform({3, 4}, rng))
      .op("%y = mind.add %x, %x : (" + f64({3, 4}) + ", " + f64({3, 4}) +
          ") -> " + f64({3, 4}))
      .ceLoss("y", {3, 4}, 4, rng);
  runCheck(*ctx, fn);
}

TEST_F(GradCheckOps, MulOfAValueWithItself) {
  std::mt19937 rng(51);
  ForwardFn fn;
  fn.param("x", f64({3, 4}), uniform({3, 4}, rng, -2, 2))
      .op("%y = mind.mul %x, %x : (" + f64({3, 4}) + ", " + f64({3, 4}) +
          ") -> " + f64({3, 4}))
      .ceLoss("y", {3, 4}, 4, rng);
  runCheck(*ctx, fn);
}

TEST_F(GradCheckOps, LinearWithTheSameTensorAsInputAndWeight) {
  std::mt19937 rng(52);
  ForwardFn fn;
  // y = x x^T.
  fn.param("x", f64({4, 3}), uniform({4, 3}, rng))
      .op("%y = mind.linear %x, %x : (" + f64({4, 3}) + ", " + f64({4, 3}) +
          ") -> " + f64({4, 4}))
      .ceLoss("y", {4, 4}, 4, rng);
  runCheck(*ctx, fn);
}

TEST_F(GradCheckOps, TiedEmbeddingAndLmHead) {
  std::mt19937 rng(53);
  ForwardFn fn;
  // MiniMind's tying: the table embeds the ids and is the lm_head weight.
  fn.param("table", f64({6, 4}), uniform({6, 4}, rng))
      .input("ids", i64({5}), randomInts({5}, 6, rng))
      .op("%h = mind.embedding %table, %ids : (" + f64({6, 4}) + ", " +
          i64({5}) + ") -> " + f64({5, 4}))
      .op("%s = mind.silu %h : (" + f64({5, 4}) + ") -> " + f64({5, 4}))
      .op("%logits = mind.linear %s, %table : (" + f64({5, 4}) + ", " +
          f64({6, 4}) + ") -> " + f64({5, 6}))
      .ceLoss("logits", {5, 6}, 6, rng);
  runCheck(*ctx, fn);
}

TEST_F(GradCheckOps, NonDifferentiableArgumentsGetNoGradient) {
  std::mt19937 rng(54);
  ForwardFn fn;
  // %c is a float input (not a parameter), %ids an integer input; %dead is a
  // parameter the loss does not depend on.
  fn.param("table", f64({5, 3}), uniform({5, 3}, rng))
      .input("c", f64({2, 3}), uniform({2, 3}, rng, 0.5, 1.5))
      .input("ids", i64({2}), randomInts({2}, 5, rng))
      .param("dead", f64({2, 2}), uniform({2, 2}, rng))
      .op("%e = mind.embedding %table, %ids : (" + f64({5, 3}) + ", " +
          i64({2}) + ") -> " + f64({2, 3}))
      .op("%y = mind.mul %e, %c : (" + f64({2, 3}) + ", " + f64({2, 3}) +
          ") -> " + f64({2, 3}))
      .ceLoss("y", {2, 3}, 3, rng);
  CheckOptions opts;
  opts.requireNonzero = false; // %dead.
  auto module = runCheck(*ctx, fn, opts);
  ASSERT_TRUE(module);
  auto forward = lookupFunc(*module, "forward");
  auto step = lookupFunc(*module, "train_step");
  // One extra argument (grad_scale); results: the loss, then exactly one
  // gradient per parameter, in argument order.
  ASSERT_EQ(step.getNumArguments(), forward.getNumArguments() + 1);
  ASSERT_EQ(step.getNumResults(), 3u);
  EXPECT_EQ(
      step.getResultAttrOfType<mlir::StringAttr>(1, "mind.grad").getValue(),
      "table");
  EXPECT_EQ(
      step.getResultAttrOfType<mlir::StringAttr>(2, "mind.grad").getValue(),
      "dead");
  EXPECT_EQ(step.getResultTypes()[1], forward.getArgumentTypes()[0]);
  EXPECT_EQ(step.getResultTypes()[2], forward.getArgumentTypes()[3]);
  auto res = trainStep(step, fn.values(), InterpreterPrecision::Float64);
  ASSERT_EQ(res.size(), 3u);
  EXPECT_EQ(res[2].shape, (std::vector<int64_t>{2, 2}));
  for (double g : res[2].data)
    EXPECT_EQ(g, 0.0) << "a parameter the loss ignores has zero gradient";
  // Rows of the table that no id selects have exactly zero gradient.
  Tensor ids = fn.values()[fn.argIndex("ids")];
  for (int64_t row = 0; row < 5; ++row)
    if (row != ids.data[0] && row != ids.data[1]) {
      for (int64_t j = 0; j < 3; ++j)
        EXPECT_EQ(res[1].data[row * 3 + j], 0.0);
    }
}

TEST_F(GradCheckOps, GradScaleScalesEveryGradient) {
  std::mt19937 rng(55);
  ForwardFn fn;
  fn.param("x", f64({2, 3, 4}), uniform({2, 3, 4}, rng))
      .param("w", f64({5, 4}), uniform({5, 4}, rng))
      .op("%y = mind.linear %x, %w : (" + f64({2, 3, 4}) + ", " + f64({5, 4}) +
          ") -> " + f64({2, 3, 5}))
      .ceLoss("y", {2, 3, 5}, 5, rng);
  auto module = parseAndDifferentiate(*ctx, fn.text());
  ASSERT_TRUE(module);
  auto step = lookupFunc(*module, "train_step");
  auto one = trainStep(step, fn.values(), InterpreterPrecision::Float64, 1.0);
  auto quarter =
      trainStep(step, fn.values(), InterpreterPrecision::Float64, 0.25);
  ASSERT_EQ(one.size(), 3u);
  ASSERT_EQ(quarter.size(), 3u);
  // The losses are not scaled; the gradients are (exactly, by a power of 2).
  EXPECT_EQ(quarter[0].data[0], one[0].data[0]);
  for (int i = 1; i < 3; ++i)
    for (size_t j = 0; j < one[i].data.size(); ++j)
      EXPECT_DOUBLE_EQ(quarter[i].data[j], 0.25 * one[i].data[j]);
}

//===----------------------------------------------------------------------===//
// The harness itself: it must reject wrong gradients (so that the green
// checks above mean something). Each test differentiates a correct function,
// then breaks @train_step's IR the way a faulty rule or pass would.
//===----------------------------------------------------------------------===//

/// Runs checkGradients capturing its gtest failures; returns how many
/// failures mention a central-difference mismatch.
int64_t countMismatches(mlir::ModuleOp module,
                        const std::vector<Tensor> &args) {
  ::testing::TestPartResultArray failures;
  {
    ::testing::ScopedFakeTestPartResultReporter reporter(
        ::testing::ScopedFakeTestPartResultReporter::
            INTERCEPT_ONLY_CURRENT_THREAD,
        &failures);
    checkGradients(module, args);
  }
  int64_t n = 0;
  for (int i = 0; i < failures.size(); ++i)
    n += std::string(failures.GetTestPartResult(i).message())
             .find("central difference") != std::string::npos;
  return n;
}

TEST_F(GradCheckOps, HarnessRejectsAGradientThatIsNotSummed) {
  std::mt19937 rng(60);
  ForwardFn fn;
  fn.param("x", f64({3, 4}), uniform({3, 4}, rng, -2, 2))
      .op("%y = mind.mul %x, %x : (" + f64({3, 4}) + ", " + f64({3, 4}) +
          ") -> " + f64({3, 4}))
      .ceLoss("y", {3, 4}, 4, rng);
  auto module = parseAndDifferentiate(*ctx, fn.text());
  ASSERT_TRUE(module);
  // The only mind.add of @train_step sums the two uses of %x; drop one.
  std::vector<mind::AddOp> adds;
  lookupFunc(*module, "train_step").walk([&](mind::AddOp op) {
    adds.push_back(op);
  });
  ASSERT_EQ(adds.size(), 1u);
  adds[0].getResult().replaceAllUsesWith(adds[0].getLhs());
  adds[0].erase();
  EXPECT_GT(countMismatches(*module, fn.values()), 0);
}

TEST_F(GradCheckOps, HarnessRejectsARelativeErrorOf1e4) {
  std::mt19937 rng(61);
  ForwardFn fn;
  fn.param("x", f64({2, 3, 4}), uniform({2, 3, 4}, rng))
      .param("w", f64({5, 4}), uniform({5, 4}, rng))
      .op("%y = mind.linear %x, %w : (" + f64({2, 3, 4}) + ", " + f64({5, 4}) +
          ") -> " + f64({2, 3, 5}))
      .ceLoss("y", {2, 3, 5}, 5, rng);
  auto module = parseAndDifferentiate(*ctx, fn.text());
  ASSERT_TRUE(module);
  ASSERT_EQ(countMismatches(*module, fn.values()), 0);
  // Scale the gradient of %w by 1 + 1e-4 before it is returned.
  auto step = lookupFunc(*module, "train_step");
  auto ret =
      llvm::cast<mlir::func::ReturnOp>(step.getBody().front().getTerminator());
  mlir::OpBuilder b(ret);
  mlir::Value g = ret.getOperand(2);
  mlir::Value factor = mind::FillOp::create(b, ret.getLoc(), g.getType(),
                                            b.getF64FloatAttr(1.0 + 1e-4));
  ret.setOperand(2, mind::MulOp::create(b, ret.getLoc(), g, factor));
  EXPECT_GT(countMismatches(*module, fn.values()), 0);
}

} // namespace
