//===- RefKernelsTest.cpp - Tests of the reference numeric kernels --------===//
//
// Forward kernels: small hand-checkable cases. Differentiable ops: the
// analytic gradient (the *Grad kernel, or the identity of OpSet.md) against
// central differences of loss = sum(out * cotangent) on random inputs.
//
//===----------------------------------------------------------------------===//

#include "mind/Interpreter/RefKernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <stdexcept>

using namespace mind::ref;

namespace {

Tensor T(std::vector<int64_t> shape, std::vector<double> data) {
  return Tensor::fromData(std::move(shape), std::move(data));
}

/// Uniform in +-[lo, hi] with a random sign, so no entry is near zero.
Tensor random(std::vector<int64_t> shape, std::mt19937 &rng, double lo = 0.1,
              double hi = 1.0) {
  std::uniform_real_distribution<double> mag(lo, hi);
  std::bernoulli_distribution sign(0.5);
  Tensor t(std::move(shape));
  for (double &v : t.data)
    v = sign(rng) ? mag(rng) : -mag(rng);
  return t;
}

double sumProd(const Tensor &a, const Tensor &b) {
  EXPECT_EQ(a.shape, b.shape);
  double s = 0.0;
  for (size_t i = 0; i < a.data.size(); ++i)
    s += a.data[i] * b.data[i];
  return s;
}

void expectNear(const Tensor &actual, const Tensor &expected,
                double tol = 1e-12) {
  ASSERT_EQ(actual.shape, expected.shape);
  for (size_t i = 0; i < actual.data.size(); ++i) {
    if (actual.data[i] == expected.data[i])
      continue; // also covers equal infinities
    EXPECT_NEAR(actual.data[i], expected.data[i], tol) << "element " << i;
  }
}

/// Compares `analytic` with central differences of `loss` around x.
void checkGrad(const char *what,
               const std::function<double(const Tensor &)> &loss,
               const Tensor &x, const Tensor &analytic) {
  SCOPED_TRACE(what);
  ASSERT_EQ(analytic.shape, x.shape);
  const double h = 1e-6;
  double scale = 0.0;
  for (double v : analytic.data)
    scale = std::max(scale, std::fabs(v));
  ASSERT_GT(scale, 0.0) << "gradient is identically zero";
  for (size_t i = 0; i < x.data.size(); ++i) {
    Tensor xp = x, xm = x;
    xp.data[i] += h;
    xm.data[i] -= h;
    double fd = (loss(xp) - loss(xm)) / (2 * h);
    double tol = 1e-6 * std::max(std::fabs(analytic.data[i]), 1e-2 * scale);
    EXPECT_NEAR(fd, analytic.data[i], tol) << "element " << i;
  }
}

/// ids/indices helper: integers stored as double.
Tensor ints(std::vector<int64_t> shape, std::vector<int64_t> v) {
  return T(std::move(shape), std::vector<double>(v.begin(), v.end()));
}

} // namespace

//===----------------------------------------------------------------------===//
// Tensor, layout, constants
//===----------------------------------------------------------------------===//

TEST(RefKernels, TensorBasics) {
  Tensor t({2, 3}, 1.5);
  EXPECT_EQ(t.numel(), 6);
  EXPECT_EQ(t.rank(), 2);
  EXPECT_EQ(t.dim(-1), 3);
  EXPECT_EQ(t.dim(0), 2);
  EXPECT_EQ(t.data[5], 1.5);
  Tensor s(std::vector<int64_t>{});
  EXPECT_EQ(s.numel(), 1);
  EXPECT_THROW(t.dim(2), std::invalid_argument);
  EXPECT_THROW(T({2, 2}, {1, 2, 3}), std::invalid_argument);
  expectNear(fill({2}, 7.0), T({2}, {7, 7}));
}

TEST(RefKernels, ReshapeTranspose) {
  Tensor x({2, 3, 4});
  for (size_t i = 0; i < x.data.size(); ++i)
    x.data[i] = static_cast<double>(i);
  Tensor y = transpose(x, {2, 0, 1});
  ASSERT_EQ(y.shape, (std::vector<int64_t>{4, 2, 3}));
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k)
        EXPECT_EQ(y.data[(k * 2 + i) * 3 + j], x.data[(i * 3 + j) * 4 + k]);
  // The VJP of a transpose is the inverse permutation: <P x, c> = <x, P^-1 c>.
  std::mt19937 rng(1);
  Tensor c = random(y.shape, rng);
  EXPECT_NEAR(sumProd(y, c), sumProd(x, transpose(c, {1, 2, 0})), 1e-9);
  expectNear(transpose(y, {1, 2, 0}), x);
  Tensor r = reshape(x, {6, 4});
  EXPECT_EQ(r.shape, (std::vector<int64_t>{6, 4}));
  EXPECT_EQ(r.data, x.data);
  EXPECT_THROW(reshape(x, {5, 5}), std::invalid_argument);
  EXPECT_THROW(transpose(x, {0, 0, 1}), std::invalid_argument);
  EXPECT_THROW(transpose(x, {0, 1}), std::invalid_argument);
}

//===----------------------------------------------------------------------===//
// Embedding, linear, matmul
//===----------------------------------------------------------------------===//

TEST(RefKernels, EmbeddingForward) {
  Tensor table = T({3, 2}, {0, 1, 10, 11, 20, 21});
  Tensor out = embedding(table, ints({1, 3}, {2, 0, 2}));
  expectNear(out, T({1, 3, 2}, {20, 21, 0, 1, 20, 21}));
  EXPECT_THROW(embedding(table, ints({1}, {3})), std::invalid_argument);
  EXPECT_THROW(embedding(table, T({1}, {0.5})), std::invalid_argument);
}

TEST(RefKernels, EmbeddingGradFD) {
  std::mt19937 rng(2);
  Tensor table = random({5, 3}, rng);
  Tensor ids = ints({2, 3}, {4, 1, 4, 0, 2, 4}); // repeats scatter-add
  Tensor cot = random({2, 3, 3}, rng);
  checkGrad(
      "dtable",
      [&](const Tensor &t) { return sumProd(embedding(t, ids), cot); }, table,
      embeddingGrad(cot, ids, 5));
  EXPECT_THROW(embeddingGrad(cot, ints({2, 2}, {0, 1, 2, 3}), 5),
               std::invalid_argument);
}

TEST(RefKernels, LinearForward) {
  Tensor x = T({1, 2, 2}, {1, 2, 3, 4});
  Tensor w = T({3, 2}, {1, 0, 0, 1, 1, 1});
  expectNear(linear(x, w), T({1, 2, 3}, {1, 2, 3, 3, 4, 7}));
  EXPECT_THROW(linear(x, T({3, 3}, std::vector<double>(9))),
               std::invalid_argument);
}

TEST(RefKernels, MatmulTransposes) {
  Tensor a = T({2, 2}, {1, 2, 3, 4}), b = T({2, 2}, {5, 6, 7, 8});
  expectNear(matmul(a, b, false, false), T({2, 2}, {19, 22, 43, 50}));
  expectNear(matmul(a, b, true, false), T({2, 2}, {26, 30, 38, 44}));
  expectNear(matmul(a, b, false, true), T({2, 2}, {17, 23, 39, 53}));
  expectNear(matmul(a, b, true, true), T({2, 2}, {23, 31, 34, 46}));
  // Non-square: a^T of [2,3] is [3,2]; times [2,1].
  Tensor a23 = T({2, 3}, {1, 2, 3, 4, 5, 6});
  expectNear(matmul(a23, T({2, 1}, {1, -1}), true, false),
             T({3, 1}, {-3, -3, -3}));
  EXPECT_THROW(matmul(a23, a23, false, false), std::invalid_argument);
}

TEST(RefKernels, LinearGradViaMatmulFD) {
  // OpSet.md: dx = matmul(dy2, w), dw = matmul(dy2, x2) {transpose_a}.
  std::mt19937 rng(3);
  Tensor x = random({2, 3, 4}, rng), w = random({5, 4}, rng);
  Tensor cot = random({2, 3, 5}, rng);
  Tensor dy2 = reshape(cot, {6, 5});
  Tensor dx = reshape(matmul(dy2, w, false, false), x.shape);
  Tensor dw = matmul(dy2, reshape(x, {6, 4}), true, false);
  checkGrad(
      "dx", [&](const Tensor &t) { return sumProd(linear(t, w), cot); }, x, dx);
  checkGrad(
      "dw", [&](const Tensor &t) { return sumProd(linear(x, t), cot); }, w, dw);
}

//===----------------------------------------------------------------------===//
// RMSNorm
//===----------------------------------------------------------------------===//

TEST(RefKernels, RmsNormForward) {
  // mean([3,4]^2) = 12.5.
  double r = 1.0 / std::sqrt(12.5);
  expectNear(rmsnorm(T({1, 2}, {3, 4}), T({2}, {1, 2}), 0.0),
             T({1, 2}, {3 * r, 8 * r}));
  double re = 1.0 / std::sqrt(12.5 + 0.5);
  expectNear(rmsnorm(T({2}, {3, 4}), T({2}, {1, 1}), 0.5),
             T({2}, {3 * re, 4 * re}));
  EXPECT_THROW(rmsnorm(T({1, 2}, {3, 4}), T({3}, {1, 1, 1}), 0.0),
               std::invalid_argument);
}

TEST(RefKernels, RmsNormGradFD) {
  std::mt19937 rng(4);
  Tensor x = random({2, 3, 5}, rng), w = random({5}, rng);
  Tensor cot = random(x.shape, rng);
  const double eps = 1e-5;
  RmsNormGrads g = rmsnormGrad(x, w, cot, eps);
  checkGrad(
      "dx", [&](const Tensor &t) { return sumProd(rmsnorm(t, w, eps), cot); },
      x, g.dx);
  checkGrad(
      "dw", [&](const Tensor &t) { return sumProd(rmsnorm(x, t, eps), cot); },
      w, g.dw);
}

//===----------------------------------------------------------------------===//
// RoPE
//===----------------------------------------------------------------------===//

TEST(RefKernels, RopeTableNoYarn) {
  // D = 8, theta = 1e4: inv_freq = [1, 0.1, 0.01, 0.001].
  RopeTable t = ropeTable(4, 8, 1e4, 32, 1.0, 2048, 32, 1, 1.0);
  ASSERT_EQ(t.cos.shape, (std::vector<int64_t>{4, 8}));
  for (int j = 0; j < 8; ++j) {
    EXPECT_EQ(t.cos.data[j], 1.0);
    EXPECT_EQ(t.sin.data[j], 0.0);
  }
  EXPECT_NEAR(t.cos.data[3 * 8 + 1], std::cos(0.3), 1e-7);
  EXPECT_NEAR(t.cos.data[3 * 8 + 5], std::cos(0.3), 1e-7);
  EXPECT_NEAR(t.sin.data[2 * 8 + 0], std::sin(2.0), 1e-7);
  EXPECT_NEAR(t.sin.data[2 * 8 + 6], std::sin(0.02), 1e-7);
  // The table is built in f32, as in MiniMind.
  EXPECT_EQ(t.cos.data[3 * 8 + 1],
            static_cast<double>(static_cast<float>(t.cos.data[3 * 8 + 1])));
  // attention_factor scales both tables.
  RopeTable t2 = ropeTable(4, 8, 1e4, 32, 1.0, 2048, 32, 1, 2.0);
  EXPECT_NEAR(t2.sin.data[3 * 8 + 1], 2 * std::sin(0.3), 2e-7);
  // A YaRN factor with max_positions <= original_max changes nothing.
  RopeTable t3 = ropeTable(4, 8, 1e4, 2048, 16.0, 2048, 32, 1, 1.0);
  EXPECT_EQ(t3.cos.data, t.cos.data);
  EXPECT_THROW(ropeTable(4, 7, 1e4, 32, 1, 2048, 32, 1, 1),
               std::invalid_argument);
  EXPECT_THROW(ropeTable(64, 8, 1e4, 32, 1, 2048, 32, 1, 1),
               std::invalid_argument);
}

TEST(RefKernels, RopeTableYarn) {
  // MiniMind's inference_rope_scaling: D = 64, theta = 1e6, factor 16,
  // original_max 2048, beta_fast 32, beta_slow 1, table of 32768.
  // b(32) = 64 ln(2048/(64 pi)) / (2 ln 1e6) = 5.38 -> low = 5;
  // b(1) = 13.40 -> high = 14; ramp[j] = clamp((j-5)/9, 0, 1).
  RopeTable y = ropeTable(3, 64, 1e6, 32768, 16.0, 2048, 32.0, 1.0, 1.0);
  RopeTable n = ropeTable(3, 64, 1e6, 32768, 1.0, 2048, 32.0, 1.0, 1.0);
  auto invFreq = [](int j) { return std::pow(1e6, -2.0 * j / 64); };
  const int s = 2;
  auto cosAt = [&](const RopeTable &t, int j) {
    return t.cos.data[s * 64 + j];
  };
  // j <= low: unchanged.
  EXPECT_EQ(cosAt(y, 3), cosAt(n, 3));
  EXPECT_NEAR(cosAt(y, 3), std::cos(s * invFreq(3)), 1e-6);
  // Inside the ramp: scale (1 - 4/9) + (4/9)/16.
  EXPECT_NEAR(cosAt(y, 9), std::cos(s * invFreq(9) * (5.0 / 9 + 4.0 / 144)),
              1e-6);
  EXPECT_NEAR(y.sin.data[s * 64 + 32 + 9],
              std::sin(s * invFreq(9) * (5.0 / 9 + 4.0 / 144)), 1e-6);
  // j >= high: fully interpolated by 1/factor.
  EXPECT_NEAR(y.sin.data[s * 64 + 20], std::sin(s * invFreq(20) / 16), 1e-7);
  EXPECT_NEAR(y.sin.data[s * 64 + 14], std::sin(s * invFreq(14) / 16), 1e-7);
  EXPECT_NE(y.sin.data[s * 64 + 20], n.sin.data[s * 64 + 20]);
}

TEST(RefKernels, RopeForward) {
  Tensor x = T({1, 1, 1, 4}, {1, 2, 3, 4});
  Tensor c = T({1, 4}, {0.5, 0.25, 0.5, 0.25});
  Tensor s = T({1, 4}, {0.1, 0.2, 0.1, 0.2});
  // rotate_half(x) = [-3, -4, 1, 2].
  expectNear(rope(x, c, s, false), T({1, 1, 1, 4}, {0.2, -0.3, 1.6, 1.4}));
  expectNear(rope(x, c, s, true), T({1, 1, 1, 4}, {0.8, 1.3, 1.4, 0.6}));
  // With a real table RoPE is a rotation, so the inverse undoes it.
  std::mt19937 rng(5);
  Tensor xr = random({2, 3, 2, 8}, rng);
  RopeTable t = ropeTable(3, 8, 1e4, 16, 1.0, 2048, 32, 1, 1.0);
  expectNear(rope(rope(xr, t.cos, t.sin, false), t.cos, t.sin, true), xr, 1e-6);
  EXPECT_THROW(rope(xr, c, s, false), std::invalid_argument);
}

TEST(RefKernels, RopeGradFD) {
  std::mt19937 rng(6);
  Tensor x = random({2, 3, 2, 8}, rng), cot = random(x.shape, rng);
  RopeTable t = ropeTable(3, 8, 1e4, 16, 1.0, 2048, 32, 1, 1.0);
  checkGrad(
      "dx",
      [&](const Tensor &v) {
        return sumProd(rope(v, t.cos, t.sin, false), cot);
      },
      x, rope(cot, t.cos, t.sin, true));
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

TEST(RefKernels, AttentionHandCase) {
  // One head, D = 1, scale 1: query 1 scores keys [0, ln 3] -> p = [1/4, 3/4].
  Tensor q = T({1, 2, 1, 1}, {1, 1});
  Tensor k = T({1, 2, 1, 1}, {0, std::log(3.0)});
  Tensor v = T({1, 2, 1, 1}, {2, 6});
  AttentionResult full = attention(q, k, v, 1.0, false);
  expectNear(full.out, T({1, 2, 1, 1}, {5, 5}));
  expectNear(full.lse, T({1, 1, 2}, {std::log(4.0), std::log(4.0)}));
  // Causal: query 0 sees only key 0 (key index <= query index).
  AttentionResult causal = attention(q, k, v, 1.0, true);
  expectNear(causal.out, T({1, 2, 1, 1}, {2, 5}));
  expectNear(causal.lse, T({1, 1, 2}, {0, std::log(4.0)}));
  // scale multiplies the scores.
  expectNear(attention(q, k, v, 0.0, false).out, T({1, 2, 1, 1}, {4, 4}));
}

TEST(RefKernels, AttentionWithoutRowsAllocatesNothing) {
  // Batch 0 and a sequence past 2^31: the per-row score buffer (17 GB of
  // doubles) used to be allocated anyway.
  const int64_t s = (int64_t(1) << 31) + 3;
  Tensor q({0, s, 2, 4}), kv({0, s, 1, 4});
  AttentionResult r = attention(q, kv, kv, 0.5, true);
  EXPECT_EQ(r.out.shape, q.shape);
  EXPECT_EQ(r.lse.shape, (std::vector<int64_t>{0, 2, s}));
}

TEST(RefKernels, AttentionGqaMatchesRepeatedKv) {
  // Hq = 4, Hkv = 2: query heads 0,1 read KV head 0 and 2,3 read KV head 1,
  // i.e. the same as attention with each KV head repeated twice.
  std::mt19937 rng(7);
  const int64_t b = 2, s = 3, d = 3;
  Tensor q = random({b, s, 4, d}, rng), k = random({b, s, 2, d}, rng),
         v = random({b, s, 2, d}, rng);
  auto repeat = [&](const Tensor &t) {
    Tensor r({b, s, 4, d});
    for (int64_t i = 0; i < b * s; ++i)
      for (int64_t h = 0; h < 4; ++h)
        for (int64_t x = 0; x < d; ++x)
          r.data[(i * 4 + h) * d + x] = t.data[(i * 2 + h / 2) * d + x];
    return r;
  };
  for (bool causal : {false, true}) {
    AttentionResult g = attention(q, k, v, 0.5, causal);
    AttentionResult m = attention(q, repeat(k), repeat(v), 0.5, causal);
    EXPECT_EQ(g.lse.shape, (std::vector<int64_t>{b, 4, s}));
    expectNear(g.out, m.out);
    expectNear(g.lse, m.lse);
  }
  EXPECT_THROW(attention(q, random({b, s, 3, d}, rng),
                         random({b, s, 3, d}, rng), 1.0, true),
               std::invalid_argument);
}

TEST(RefKernels, AttentionGradFD) {
  for (bool causal : {false, true}) {
    SCOPED_TRACE(causal ? "causal" : "non-causal");
    std::mt19937 rng(causal ? 8 : 9);
    const int64_t b = 2, s = 3, d = 3;
    Tensor q = random({b, s, 4, d}, rng, 0.1, 1.5),
           k = random({b, s, 2, d}, rng, 0.1, 1.5),
           v = random({b, s, 2, d}, rng);
    Tensor cot = random(q.shape, rng);
    double scale = 1.0 / std::sqrt(static_cast<double>(d));
    AttentionResult f = attention(q, k, v, scale, causal);
    AttentionGrads g = attentionGrad(q, k, v, f.out, f.lse, cot, scale, causal);
    auto loss = [&](const Tensor &qq, const Tensor &kk, const Tensor &vv) {
      return sumProd(attention(qq, kk, vv, scale, causal).out, cot);
    };
    checkGrad(
        "dq", [&](const Tensor &t) { return loss(t, k, v); }, q, g.dq);
    checkGrad(
        "dk", [&](const Tensor &t) { return loss(q, t, v); }, k, g.dk);
    checkGrad(
        "dv", [&](const Tensor &t) { return loss(q, k, t); }, v, g.dv);
  }
}

//===----------------------------------------------------------------------===//
// Elementwise, softmax, cross entropy
//===----------------------------------------------------------------------===//

TEST(RefKernels, ElementwiseForward) {
  Tensor x = T({3}, {0, 1, -1});
  expectNear(silu(x), T({3}, {0, 0.7310585786300049, -0.2689414213699951}),
             1e-15);
  expectNear(swiglu(x, T({3}, {5, 2, 2})),
             T({3}, {0, 1.4621171572600098, -0.5378828427399902}), 1e-15);
  expectNear(mul(x, T({3}, {2, 3, 4})), T({3}, {0, 3, -4}));
  expectNear(add(x, T({3}, {2, 3, 4})), T({3}, {2, 4, 3}));
  // No overflow in the sigmoid.
  EXPECT_EQ(silu(T({1}, {-1000})).data[0], 0.0);
  EXPECT_EQ(silu(T({1}, {1000})).data[0], 1000.0);
  EXPECT_THROW(mul(x, T({2}, {1, 2})), std::invalid_argument);
  EXPECT_THROW(add(x, T({1, 3}, {1, 2, 3})), std::invalid_argument);
}

TEST(RefKernels, ElementwiseGradFD) {
  std::mt19937 rng(10);
  Tensor a = random({2, 5}, rng, 0.1, 3.0), b = random({2, 5}, rng);
  Tensor cot = random({2, 5}, rng);
  checkGrad(
      "silu", [&](const Tensor &t) { return sumProd(silu(t), cot); }, a,
      siluGrad(a, cot));
  SwigluGrads sg = swigluGrad(a, b, cot);
  checkGrad(
      "swiglu dgate",
      [&](const Tensor &t) { return sumProd(swiglu(t, b), cot); }, a, sg.dgate);
  checkGrad(
      "swiglu dup", [&](const Tensor &t) { return sumProd(swiglu(a, t), cot); },
      b, sg.dup);
  // Product rule and identity of OpSet.md.
  checkGrad(
      "mul da", [&](const Tensor &t) { return sumProd(mul(t, b), cot); }, a,
      mul(cot, b));
  checkGrad(
      "mul db", [&](const Tensor &t) { return sumProd(mul(a, t), cot); }, b,
      mul(cot, a));
  checkGrad(
      "add", [&](const Tensor &t) { return sumProd(add(t, b), cot); }, a, cot);
}

TEST(RefKernels, SoftmaxForward) {
  expectNear(softmax(T({1, 3}, {0, std::log(2.0), 0})),
             T({1, 3}, {0.25, 0.5, 0.25}), 1e-15);
  // Stable for large logits.
  expectNear(softmax(T({2}, {1000, 1000})), T({2}, {0.5, 0.5}));
}

TEST(RefKernels, SoftmaxGradFD) {
  std::mt19937 rng(11);
  Tensor x = random({3, 4}, rng, 0.1, 2.0), cot = random(x.shape, rng);
  checkGrad(
      "softmax", [&](const Tensor &t) { return sumProd(softmax(t), cot); }, x,
      softmaxGrad(softmax(x), cot));
}

TEST(RefKernels, CrossEntropyForward) {
  Tensor logits = T({2, 2}, {0, 0, 0, std::log(3.0)});
  Tensor targets = ints({2}, {0, 1});
  double ce0 = std::log(2.0), ce1 = std::log(4.0) - std::log(3.0);
  Tensor loss = crossEntropy(logits, targets, T({2}, {1, 1}));
  EXPECT_EQ(loss.rank(), 0);
  EXPECT_NEAR(loss.data[0], (ce0 + ce1) / 2, 1e-15);
  EXPECT_NEAR(crossEntropy(logits, targets, T({2}, {1, 0})).data[0], ce0,
              1e-15);
  // Masked rows may hold any target (padding).
  EXPECT_NEAR(crossEntropy(logits, ints({2}, {0, 99}), T({2}, {1, 0})).data[0],
              ce0, 1e-15);
  // Log-sum-exp is stable.
  EXPECT_NEAR(crossEntropy(T({1, 2}, {1000, 1000}), ints({1}, {1}), T({1}, {1}))
                  .data[0],
              std::log(2.0), 1e-12);
  EXPECT_TRUE(
      std::isnan(crossEntropy(logits, targets, T({2}, {0, 0})).data[0]));
  EXPECT_THROW(crossEntropy(logits, ints({2}, {0, 2}), T({2}, {1, 1})),
               std::invalid_argument);
  EXPECT_THROW(crossEntropy(logits, ints({3}, {0, 1, 0}), T({3}, {1, 1, 1})),
               std::invalid_argument);
}

TEST(RefKernels, CrossEntropyGradFD) {
  std::mt19937 rng(12);
  Tensor logits = random({2, 3, 5}, rng, 0.1, 3.0);
  Tensor targets = ints({2, 3}, {4, 0, 2, 2, 1, 3});
  Tensor mask = T({2, 3}, {1, 1, 0, 1, 0, 1});
  const double dloss = 0.7;
  checkGrad(
      "dlogits",
      [&](const Tensor &t) {
        return dloss * crossEntropy(t, targets, mask).data[0];
      },
      logits, crossEntropyGrad(logits, targets, mask, dloss));
}

//===----------------------------------------------------------------------===//
// Mixture of experts
//===----------------------------------------------------------------------===//

TEST(RefKernels, TopKForward) {
  Tensor scores = T({2, 4}, {0.1, 0.4, 0.4, 0.1, 0.3, 0.1, 0.2, 0.4});
  TopKResult r = topk(scores, 2, false);
  // Ties go to the lower index.
  expectNear(r.indices, ints({2, 2}, {1, 2, 3, 0}));
  expectNear(r.weights, T({2, 2}, {0.4, 0.4, 0.4, 0.3}));
  TopKResult n = topk(scores, 2, true);
  expectNear(n.indices, r.indices);
  expectNear(n.weights, T({2, 2}, {0.5, 0.5, 4.0 / 7, 3.0 / 7}), 1e-15);
  EXPECT_THROW(topk(scores, 5, false), std::invalid_argument);
}

TEST(RefKernels, TopKGradFD) {
  for (bool normalize : {false, true}) {
    SCOPED_TRACE(normalize ? "normalize" : "raw");
    std::mt19937 rng(13);
    Tensor scores = softmax(random({5, 6}, rng, 0.1, 2.0));
    Tensor cot = random({5, 3}, rng);
    TopKResult r = topk(scores, 3, normalize);
    checkGrad(
        "dscores",
        [&](const Tensor &t) {
          return sumProd(topk(t, 3, normalize).weights, cot);
        },
        scores, topkGrad(scores, r.indices, cot, normalize));
  }
}

TEST(RefKernels, MoeRouteStable) {
  // Slots: 0:e1 1:e0 2:e1 3:e2 4:e0 5:e1.
  MoeRouteResult r = moeRoute(ints({3, 2}, {1, 0, 1, 2, 0, 1}), 4);
  expectNear(r.perm, ints({6}, {1, 4, 0, 2, 5, 3}));
  expectNear(r.offsets, ints({5}, {0, 2, 5, 6, 6}));
  EXPECT_THROW(moeRoute(ints({1, 2}, {0, 4}), 4), std::invalid_argument);
}

TEST(RefKernels, MoeDispatchCombineForward) {
  Tensor x = T({2, 2}, {1, 2, 3, 4});
  Tensor perm = ints({4}, {3, 0, 2, 1}); // k = 2: slot s is token s / 2
  Tensor xs = moeDispatch(x, perm, 2);
  expectNear(xs, T({4, 2}, {3, 4, 1, 2, 3, 4, 1, 2}));
  expectNear(moeDispatchGrad(xs, perm, 2, 2), T({2, 2}, {2, 4, 6, 8}));
  Tensor w = T({2, 2}, {0.5, 0.25, 2, 3});
  // out[0] = 0.5*xs[1] + 0.25*xs[3]; out[1] = 2*xs[2] + 3*xs[0].
  expectNear(moeCombine(xs, perm, w), T({2, 2}, {0.75, 1.5, 15, 20}));
  EXPECT_THROW(moeDispatch(x, ints({1}, {4}), 2), std::invalid_argument);
}

TEST(RefKernels, GroupedLinearForwardAndGradFD) {
  // Experts own rows [0,2), [2,2) (empty), [2,3).
  Tensor offsets = ints({4}, {0, 2, 2, 3});
  Tensor x = T({3, 2}, {1, 2, 3, 4, 5, 6});
  std::vector<Tensor> w = {T({1, 2}, {1, 1}), T({1, 2}, {9, 9}),
                           T({1, 2}, {1, -1})};
  expectNear(groupedLinear(x, offsets, w), T({3, 1}, {3, 7, -1}));
  EXPECT_THROW(groupedLinear(x, ints({4}, {0, 2, 2, 2}), w),
               std::invalid_argument);
  EXPECT_THROW(groupedLinear(x, ints({4}, {0, 2, 1, 3}), w),
               std::invalid_argument);

  std::mt19937 rng(14);
  x = random({5, 3}, rng);
  offsets = ints({4}, {0, 2, 2, 5});
  w = {random({4, 3}, rng), random({4, 3}, rng), random({4, 3}, rng)};
  Tensor cot = random({5, 4}, rng);
  GroupedLinearGrads g = groupedLinearGrad(x, offsets, cot, w);
  checkGrad(
      "dx",
      [&](const Tensor &t) {
        return sumProd(groupedLinear(t, offsets, w), cot);
      },
      x, g.dx);
  for (size_t e : {0, 2}) {
    SCOPED_TRACE("expert " + std::to_string(e));
    checkGrad(
        "dw",
        [&](const Tensor &t) {
          std::vector<Tensor> ww = w;
          ww[e] = t;
          return sumProd(groupedLinear(x, offsets, ww), cot);
        },
        w[e], g.dw[e]);
  }
  // The empty expert gets a zero gradient.
  expectNear(g.dw[1], Tensor({4, 3}));
}

TEST(RefKernels, MoeCombineGradFD) {
  std::mt19937 rng(15);
  Tensor y = random({6, 3}, rng), w = random({3, 2}, rng);
  Tensor perm = ints({6}, {1, 4, 0, 2, 5, 3});
  Tensor cot = random({3, 3}, rng);
  MoeCombineGrads g = moeCombineGrad(y, perm, w, cot);
  checkGrad(
      "dy",
      [&](const Tensor &t) { return sumProd(moeCombine(t, perm, w), cot); }, y,
      g.dy);
  checkGrad(
      "dweights",
      [&](const Tensor &t) { return sumProd(moeCombine(y, perm, t), cot); }, w,
      g.dweights);
}

TEST(RefKernels, MoeChain) {
  // scores -> topk -> route -> dispatch -> grouped_linear -> combine, checked
  // against a per-token loop and by finite differences through the chain.
  const int64_t numT = 5, e = 4, k = 2, h = 3, n = 4;
  std::mt19937 rng(16);
  Tensor x = random({numT, h}, rng);
  Tensor scores = softmax(random({numT, e}, rng, 0.1, 2.0));
  std::vector<Tensor> w;
  for (int64_t i = 0; i < e; ++i)
    w.push_back(random({n, h}, rng));
  Tensor cot = random({numT, n}, rng);

  auto forward = [&](const Tensor &xx, const Tensor &ss,
                     const std::vector<Tensor> &ww) {
    TopKResult g = topk(ss, k, true);
    MoeRouteResult r = moeRoute(g.indices, e);
    Tensor y = groupedLinear(moeDispatch(xx, r.perm, k), r.offsets, ww);
    return moeCombine(y, r.perm, g.weights);
  };

  TopKResult g = topk(scores, k, true);
  Tensor expected({numT, n});
  for (int64_t t = 0; t < numT; ++t)
    for (int64_t j = 0; j < k; ++j) {
      const Tensor &we = w[static_cast<int64_t>(g.indices.data[t * k + j])];
      for (int64_t o = 0; o < n; ++o)
        for (int64_t i = 0; i < h; ++i)
          expected.data[t * n + o] += g.weights.data[t * k + j] *
                                      x.data[t * h + i] * we.data[o * h + i];
    }
  expectNear(forward(x, scores, w), expected);

  // Backward through the chain with the *Grad kernels.
  MoeRouteResult r = moeRoute(g.indices, e);
  Tensor xs = moeDispatch(x, r.perm, k);
  Tensor y = groupedLinear(xs, r.offsets, w);
  MoeCombineGrads cg = moeCombineGrad(y, r.perm, g.weights, cot);
  GroupedLinearGrads lg = groupedLinearGrad(xs, r.offsets, cg.dy, w);
  Tensor dx = moeDispatchGrad(lg.dx, r.perm, k, numT);
  Tensor dscores = topkGrad(scores, g.indices, cg.dweights, true);

  checkGrad(
      "dx",
      [&](const Tensor &t) { return sumProd(forward(t, scores, w), cot); }, x,
      dx);
  checkGrad(
      "dscores",
      [&](const Tensor &t) { return sumProd(forward(x, t, w), cot); }, scores,
      dscores);
  for (int64_t i = 0; i < e; ++i) {
    bool used = r.offsets.data[i + 1] > r.offsets.data[i];
    if (!used)
      continue;
    SCOPED_TRACE("expert " + std::to_string(i));
    checkGrad(
        "dw",
        [&](const Tensor &t) {
          std::vector<Tensor> ww = w;
          ww[i] = t;
          return sumProd(forward(x, scores, ww), cot);
        },
        w[i], lg.dw[i]);
  }
}

TEST(RefKernels, MoeAuxLossForward) {
  Tensor scores = T({2, 2}, {0.7, 0.3, 0.4, 0.6});
  Tensor idx = ints({2, 1}, {0, 1});
  // Global: fi = [1, 1], Pi = [0.55, 0.45] -> alpha * 1.
  Tensor a = moeAuxLoss(scores, idx, 0.1, false, 2);
  EXPECT_EQ(a.rank(), 0);
  EXPECT_NEAR(a.data[0], 0.1, 1e-15);
  // Per sequence (S = 1): ce = [2,0] and [0,2] -> mean(1.4, 1.2) = 1.3.
  EXPECT_NEAR(moeAuxLoss(scores, idx, 0.1, true, 2).data[0], 0.13, 1e-15);
  // One sequence of two tokens: ce = [1, 1], mean_s = [0.55, 0.45].
  EXPECT_NEAR(moeAuxLoss(scores, idx, 0.1, true, 1).data[0], 0.1, 1e-15);
  EXPECT_THROW(moeAuxLoss(scores, idx, 0.1, true, 3), std::invalid_argument);
}

TEST(RefKernels, MoeAuxLossGradFD) {
  for (bool seqAux : {false, true}) {
    SCOPED_TRACE(seqAux ? "seq_aux" : "global");
    std::mt19937 rng(17);
    Tensor scores = softmax(random({6, 4}, rng, 0.1, 2.0));
    Tensor idx = topk(scores, 2, false).indices;
    const double dloss = 1.3, alpha = 0.01;
    checkGrad(
        "dscores",
        [&](const Tensor &t) {
          return dloss * moeAuxLoss(t, idx, alpha, seqAux, 2).data[0];
        },
        scores, moeAuxLossGrad(scores, idx, dloss, alpha, seqAux, 2));
  }
}

//===----------------------------------------------------------------------===//
// Precision
//===----------------------------------------------------------------------===//

TEST(RefKernels, RoundToBF16) {
  const double inf = std::numeric_limits<double>::infinity();
  Tensor t =
      T({9}, {1.0, 1.0 + std::ldexp(1.0, -8), 1.0 + 3 * std::ldexp(1.0, -8),
              3.14159265358979, 65504.0, -0.1, 3.4e38, -inf, 0.0});
  roundTo(t, ElemKind::BF16);
  expectNear(t,
             T({9}, {1.0, 1.0, 1.015625, 3.140625, 65536.0, -0.10009765625, inf,
                     -inf, 0.0}),
             0.0);
  Tensor nan = T({1}, {std::nan("")});
  roundTo(nan, ElemKind::BF16);
  EXPECT_TRUE(std::isnan(nan.data[0]));
}

TEST(RefKernels, RoundToF16) {
  const double inf = std::numeric_limits<double>::infinity();
  Tensor t = T({12}, {0.1, 1.0 + std::ldexp(1.0, -11),
                      1.0 + 3 * std::ldexp(1.0, -11), 3.14159265358979, 65504.0,
                      65519.0, 65520.0, -70000.0, 1e-5, 3e-8, 2e-8, -inf});
  roundTo(t, ElemKind::F16);
  expectNear(t,
             T({12}, {0.0999755859375, 1.0, 1.001953125, 3.140625, 65504.0,
                      65504.0, inf, -inf, 1.0013580322265625e-05,
                      std::ldexp(1.0, -24), 0.0, -inf}),
             0.0);
}

TEST(RefKernels, RoundToF32AndNoOps) {
  Tensor t = T({2}, {0.1, 3.0});
  Tensor f = t;
  roundTo(f, ElemKind::F32);
  EXPECT_EQ(f.data[0], 0.100000001490116119384765625);
  EXPECT_EQ(f.data[1], 3.0);
  Tensor same = t;
  roundTo(same, ElemKind::F64);
  EXPECT_EQ(same.data, t.data);
  roundTo(same, ElemKind::Int);
  EXPECT_EQ(same.data, t.data);
}
