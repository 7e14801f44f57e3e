//===- RefKernels.cpp - Dense, elementwise, loss and layout kernels -------===//
//
// Attention and RoPE live in RefKernelsAttention.cpp, the MoE ops in
// RefKernelsMoE.cpp.
//
//===----------------------------------------------------------------------===//

#include "RefKernelsInternal.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>
#include <stdexcept>

using namespace mind::ref;
using namespace mind::ref::detail;

//===----------------------------------------------------------------------===//
// Tensor and helpers
//===----------------------------------------------------------------------===//

static int64_t product(const std::vector<int64_t> &shape, const char *op) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0)
      fail(op, "negative dimension in shape " + shapeStr(shape));
    n *= d;
  }
  return n;
}

Tensor::Tensor(std::vector<int64_t> s, double fill) : shape(std::move(s)) {
  data.assign(static_cast<size_t>(product(shape, "tensor")), fill);
}

Tensor Tensor::fromData(std::vector<int64_t> shape, std::vector<double> data) {
  int64_t n = product(shape, "tensor");
  if (static_cast<int64_t>(data.size()) != n)
    fail("tensor", "shape " + shapeStr(shape) + " needs " + std::to_string(n) +
                       " elements, got " + std::to_string(data.size()));
  Tensor t;
  t.shape = std::move(shape);
  t.data = std::move(data);
  return t;
}

int64_t Tensor::numel() const { return product(shape, "tensor"); }

int64_t Tensor::dim(int i) const {
  int64_t idx = i < 0 ? i + rank() : i;
  if (idx < 0 || idx >= rank())
    fail("tensor", "dimension " + std::to_string(i) +
                       " out of range for shape " + shapeStr(shape));
  return shape[idx];
}

void detail::fail(const char *op, const std::string &msg) {
  throw std::invalid_argument(std::string("mind.") + op + ": " + msg);
}

std::string detail::shapeStr(const std::vector<int64_t> &shape) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < shape.size(); ++i)
    os << (i ? "," : "") << shape[i];
  os << ']';
  return os.str();
}

void detail::requireRank(const Tensor &t, int64_t rank, const char *op,
                         const char *name) {
  if (t.rank() != rank)
    fail(op, std::string(name) + " must have rank " + std::to_string(rank) +
                 ", got shape " + shapeStr(t.shape));
}

void detail::requireMinRank(const Tensor &t, int64_t rank, const char *op,
                            const char *name) {
  if (t.rank() < rank)
    fail(op, std::string(name) + " must have rank >= " + std::to_string(rank) +
                 ", got shape " + shapeStr(t.shape));
}

void detail::requireShape(const Tensor &t, const std::vector<int64_t> &shape,
                          const char *op, const char *name) {
  if (t.shape != shape)
    fail(op, std::string(name) + " must have shape " + shapeStr(shape) +
                 ", got " + shapeStr(t.shape));
}

int64_t detail::indexAt(const Tensor &t, int64_t i, int64_t bound,
                        const char *op, const char *name) {
  double v = t.data[i];
  if (!(v >= 0.0 && v < static_cast<double>(bound) && v == std::floor(v))) {
    std::ostringstream os;
    os << name << "[" << i << "] = " << v << " is not an index in [0, " << bound
       << ")";
    fail(op, os.str());
  }
  return static_cast<int64_t>(v);
}

static void requireSameShape(const Tensor &a, const Tensor &b, const char *op,
                             const char *nameA, const char *nameB) {
  if (a.shape != b.shape)
    fail(op, std::string(nameA) + " " + shapeStr(a.shape) + " and " + nameB +
                 " " + shapeStr(b.shape) + " must have the same shape");
}

static double sigmoid(double x) {
  // Two branches so exp never overflows.
  if (x >= 0)
    return 1.0 / (1.0 + std::exp(-x));
  double e = std::exp(x);
  return e / (1.0 + e);
}

/// Row-major copy of the transpose of m[R,C].
static std::vector<double> transposed(const Tensor &m) {
  int64_t r = m.shape[0], c = m.shape[1];
  std::vector<double> out(static_cast<size_t>(r * c));
  for (int64_t i = 0; i < r; ++i)
    for (int64_t j = 0; j < c; ++j)
      out[j * r + i] = m.data[i * c + j];
  return out;
}

//===----------------------------------------------------------------------===//
// Embedding, linear, matmul
//===----------------------------------------------------------------------===//

Tensor mind::ref::embedding(const Tensor &table, const Tensor &ids) {
  requireRank(table, 2, "embedding", "table");
  int64_t v = table.shape[0], h = table.shape[1];
  std::vector<int64_t> shape = ids.shape;
  shape.push_back(h);
  Tensor out(shape);
  for (int64_t i = 0, n = ids.numel(); i < n; ++i) {
    int64_t id = indexAt(ids, i, v, "embedding", "ids");
    std::copy_n(&table.data[id * h], h, &out.data[i * h]);
  }
  return out;
}

Tensor mind::ref::embeddingGrad(const Tensor &dy, const Tensor &ids,
                                int64_t vocabSize) {
  requireMinRank(dy, 1, "embedding_grad", "dy");
  int64_t h = dy.dim(-1);
  std::vector<int64_t> expected = ids.shape;
  expected.push_back(h);
  requireShape(dy, expected, "embedding_grad", "dy");
  Tensor out({vocabSize, h});
  for (int64_t i = 0, n = ids.numel(); i < n; ++i) {
    int64_t id = indexAt(ids, i, vocabSize, "embedding_grad", "ids");
    axpy(1.0, &dy.data[i * h], &out.data[id * h], h);
  }
  return out;
}

Tensor mind::ref::linear(const Tensor &x, const Tensor &w) {
  requireMinRank(x, 1, "linear", "x");
  requireRank(w, 2, "linear", "w");
  int64_t n = w.shape[0], k = w.shape[1];
  if (x.dim(-1) != k)
    fail("linear", "x " + shapeStr(x.shape) + " and w " + shapeStr(w.shape) +
                       " disagree on the contracted dimension");
  std::vector<int64_t> shape = x.shape;
  shape.back() = n;
  Tensor out(shape);
  int64_t m = rowsOf(x);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      out.data[i * n + j] = dot(&x.data[i * k], &w.data[j * k], k);
  return out;
}

Tensor mind::ref::matmul(const Tensor &a, const Tensor &b, bool transposeA,
                         bool transposeB) {
  requireRank(a, 2, "matmul", "a");
  requireRank(b, 2, "matmul", "b");
  int64_t m = transposeA ? a.shape[1] : a.shape[0];
  int64_t ka = transposeA ? a.shape[0] : a.shape[1];
  int64_t kb = transposeB ? b.shape[1] : b.shape[0];
  int64_t n = transposeB ? b.shape[0] : b.shape[1];
  if (ka != kb)
    fail("matmul", "op(a) of " + shapeStr(a.shape) + " and op(b) of " +
                       shapeStr(b.shape) +
                       " disagree on the contracted dimension");
  // Bring op(a) to [M,K] and op(b)^T to [N,K] so every output is a dot of
  // two contiguous rows.
  std::vector<double> lhs = transposeA ? transposed(a) : a.data;
  std::vector<double> rhs = transposeB ? b.data : transposed(b);
  Tensor out({m, n});
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      out.data[i * n + j] = dot(&lhs[i * ka], &rhs[j * ka], ka);
  return out;
}

//===----------------------------------------------------------------------===//
// RMSNorm
//===----------------------------------------------------------------------===//

static void checkRmsNorm(const Tensor &x, const Tensor &w, const char *op) {
  requireMinRank(x, 1, op, "x");
  requireShape(w, {x.dim(-1)}, op, "w");
}

static double rmsScale(const double *x, int64_t h, double eps) {
  return 1.0 / std::sqrt(dot(x, x, h) / static_cast<double>(h) + eps);
}

Tensor mind::ref::rmsnorm(const Tensor &x, const Tensor &w, double eps) {
  checkRmsNorm(x, w, "rmsnorm");
  int64_t h = x.dim(-1);
  Tensor out(x.shape);
  for (int64_t i = 0, m = rowsOf(x); i < m; ++i) {
    const double *xr = &x.data[i * h];
    double r = rmsScale(xr, h, eps);
    for (int64_t j = 0; j < h; ++j)
      out.data[i * h + j] = w.data[j] * (xr[j] * r);
  }
  return out;
}

RmsNormGrads mind::ref::rmsnormGrad(const Tensor &x, const Tensor &w,
                                    const Tensor &dy, double eps) {
  checkRmsNorm(x, w, "rmsnorm_grad");
  requireShape(dy, x.shape, "rmsnorm_grad", "dy");
  int64_t h = x.dim(-1);
  RmsNormGrads g{Tensor(x.shape), Tensor(w.shape)};
  for (int64_t i = 0, m = rowsOf(x); i < m; ++i) {
    const double *xr = &x.data[i * h], *dyr = &dy.data[i * h];
    double r = rmsScale(xr, h, eps);
    // With g = dy*w: dx = r*g - x * r^3 * mean(g*x).
    double meanGx = 0.0;
    for (int64_t j = 0; j < h; ++j)
      meanGx += dyr[j] * w.data[j] * xr[j];
    meanGx /= static_cast<double>(h);
    for (int64_t j = 0; j < h; ++j) {
      g.dx.data[i * h + j] =
          r * dyr[j] * w.data[j] - xr[j] * r * r * r * meanGx;
      g.dw.data[j] += dyr[j] * xr[j] * r;
    }
  }
  return g;
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

Tensor mind::ref::silu(const Tensor &x) {
  Tensor out(x.shape);
  for (size_t i = 0; i < x.data.size(); ++i)
    out.data[i] = x.data[i] * sigmoid(x.data[i]);
  return out;
}

/// d silu(x) / dx = s * (1 + x * (1 - s)), s = sigmoid(x).
static double siluDeriv(double x) {
  double s = sigmoid(x);
  return s * (1.0 + x * (1.0 - s));
}

Tensor mind::ref::siluGrad(const Tensor &x, const Tensor &dy) {
  requireSameShape(x, dy, "silu_grad", "x", "dy");
  Tensor out(x.shape);
  for (size_t i = 0; i < x.data.size(); ++i)
    out.data[i] = dy.data[i] * siluDeriv(x.data[i]);
  return out;
}

Tensor mind::ref::mul(const Tensor &a, const Tensor &b) {
  requireSameShape(a, b, "mul", "a", "b");
  Tensor out(a.shape);
  for (size_t i = 0; i < a.data.size(); ++i)
    out.data[i] = a.data[i] * b.data[i];
  return out;
}

Tensor mind::ref::add(const Tensor &a, const Tensor &b) {
  requireSameShape(a, b, "add", "a", "b");
  Tensor out(a.shape);
  for (size_t i = 0; i < a.data.size(); ++i)
    out.data[i] = a.data[i] + b.data[i];
  return out;
}

Tensor mind::ref::swiglu(const Tensor &gate, const Tensor &up) {
  requireSameShape(gate, up, "swiglu", "gate", "up");
  Tensor out(gate.shape);
  for (size_t i = 0; i < gate.data.size(); ++i)
    out.data[i] = gate.data[i] * sigmoid(gate.data[i]) * up.data[i];
  return out;
}

SwigluGrads mind::ref::swigluGrad(const Tensor &gate, const Tensor &up,
                                  const Tensor &dy) {
  requireSameShape(gate, up, "swiglu_grad", "gate", "up");
  requireSameShape(gate, dy, "swiglu_grad", "gate", "dy");
  SwigluGrads g{Tensor(gate.shape), Tensor(gate.shape)};
  for (size_t i = 0; i < gate.data.size(); ++i) {
    double x = gate.data[i];
    g.dgate.data[i] = dy.data[i] * up.data[i] * siluDeriv(x);
    g.dup.data[i] = dy.data[i] * x * sigmoid(x);
  }
  return g;
}

//===----------------------------------------------------------------------===//
// Softmax and cross entropy
//===----------------------------------------------------------------------===//

/// log(sum(exp(x))) of one row, shifted by the max for stability.
static double logSumExp(const double *x, int64_t n) {
  double m = -std::numeric_limits<double>::infinity();
  for (int64_t i = 0; i < n; ++i)
    m = std::max(m, x[i]);
  if (std::isinf(m))
    return m;
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i)
    s += std::exp(x[i] - m);
  return m + std::log(s);
}

Tensor mind::ref::softmax(const Tensor &x) {
  requireMinRank(x, 1, "softmax", "x");
  int64_t n = x.dim(-1);
  Tensor out(x.shape);
  for (int64_t r = 0, m = rowsOf(x); r < m; ++r) {
    double lse = logSumExp(&x.data[r * n], n);
    for (int64_t i = 0; i < n; ++i)
      out.data[r * n + i] = std::exp(x.data[r * n + i] - lse);
  }
  return out;
}

Tensor mind::ref::softmaxGrad(const Tensor &y, const Tensor &dy) {
  requireMinRank(y, 1, "softmax_grad", "y");
  requireSameShape(y, dy, "softmax_grad", "y", "dy");
  int64_t n = y.dim(-1);
  Tensor out(y.shape);
  for (int64_t r = 0, m = rowsOf(y); r < m; ++r) {
    const double *yr = &y.data[r * n], *dyr = &dy.data[r * n];
    double s = dot(yr, dyr, n);
    for (int64_t i = 0; i < n; ++i)
      out.data[r * n + i] = yr[i] * (dyr[i] - s);
  }
  return out;
}

static void checkCrossEntropy(const Tensor &logits, const Tensor &targets,
                              const Tensor &mask, const char *op) {
  requireMinRank(logits, 1, op, "logits");
  std::vector<int64_t> rows(logits.shape.begin(), logits.shape.end() - 1);
  requireShape(targets, rows, op, "targets");
  requireShape(mask, rows, op, "mask");
}

static double sumOf(const Tensor &t) {
  double s = 0.0;
  for (double v : t.data)
    s += v;
  return s;
}

Tensor mind::ref::crossEntropy(const Tensor &logits, const Tensor &targets,
                               const Tensor &mask) {
  checkCrossEntropy(logits, targets, mask, "cross_entropy");
  int64_t v = logits.dim(-1);
  double total = 0.0;
  for (int64_t r = 0, m = targets.numel(); r < m; ++r) {
    // Masked rows contribute nothing, so their targets need not be valid
    // (padding positions may hold any id).
    if (mask.data[r] == 0.0)
      continue;
    int64_t t = indexAt(targets, r, v, "cross_entropy", "targets");
    const double *row = &logits.data[r * v];
    total += (logSumExp(row, v) - row[t]) * mask.data[r];
  }
  // As in PyTorch, an all-zero mask gives 0/0 = NaN.
  return Tensor::fromData({}, {total / sumOf(mask)});
}

Tensor mind::ref::crossEntropyGrad(const Tensor &logits, const Tensor &targets,
                                   const Tensor &mask, double dloss) {
  checkCrossEntropy(logits, targets, mask, "cross_entropy_grad");
  int64_t v = logits.dim(-1);
  double norm = sumOf(mask);
  // Mirror the forward's 0/0: PyTorch's gradient is NaN everywhere then.
  Tensor out(logits.shape, norm == 0.0 ? std::nan("") : 0.0);
  for (int64_t r = 0, m = targets.numel(); r < m; ++r) {
    if (mask.data[r] == 0.0)
      continue;
    int64_t t = indexAt(targets, r, v, "cross_entropy_grad", "targets");
    const double *row = &logits.data[r * v];
    double lse = logSumExp(row, v);
    double c = dloss * mask.data[r] / norm;
    for (int64_t i = 0; i < v; ++i)
      out.data[r * v + i] = c * (std::exp(row[i] - lse) - (i == t ? 1.0 : 0.0));
  }
  return out;
}

//===----------------------------------------------------------------------===//
// Layout and constants
//===----------------------------------------------------------------------===//

Tensor mind::ref::reshape(const Tensor &x, std::vector<int64_t> newShape) {
  if (product(newShape, "reshape") != x.numel())
    fail("reshape", "cannot reshape " + shapeStr(x.shape) + " to " +
                        shapeStr(newShape) + ": element counts differ");
  return Tensor::fromData(std::move(newShape), x.data);
}

Tensor mind::ref::transpose(const Tensor &x, const std::vector<int64_t> &perm) {
  int64_t rank = x.rank();
  std::vector<bool> seen(rank, false);
  bool ok = static_cast<int64_t>(perm.size()) == rank;
  for (int64_t p : perm) {
    ok = ok && p >= 0 && p < rank && !seen[p];
    if (ok)
      seen[p] = true;
  }
  if (!ok)
    fail("transpose", shapeStr(perm) + " is not a permutation of the " +
                          std::to_string(rank) + " dimensions of " +
                          shapeStr(x.shape));
  std::vector<int64_t> inStride(rank, 1), outShape(rank);
  for (int64_t i = rank - 2; i >= 0; --i)
    inStride[i] = inStride[i + 1] * x.shape[i + 1];
  for (int64_t i = 0; i < rank; ++i)
    outShape[i] = x.shape[perm[i]];
  Tensor out(outShape);
  // Walk the output in row-major order with an odometer over its indices.
  std::vector<int64_t> idx(rank, 0);
  for (int64_t o = 0, n = out.numel(); o < n; ++o) {
    int64_t src = 0;
    for (int64_t i = 0; i < rank; ++i)
      src += idx[i] * inStride[perm[i]];
    out.data[o] = x.data[src];
    for (int64_t i = rank - 1; i >= 0; --i) {
      if (++idx[i] < outShape[i])
        break;
      idx[i] = 0;
    }
  }
  return out;
}

Tensor mind::ref::fill(std::vector<int64_t> shape, double value) {
  return Tensor(std::move(shape), value);
}

//===----------------------------------------------------------------------===//
// Precision
//===----------------------------------------------------------------------===//

static double roundBF16(double v) {
  float f = static_cast<float>(v);
  if (std::isnan(f))
    return v;
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof(bits));
  // Round-to-nearest-even on the 16 dropped bits; carries into the exponent
  // (and up to infinity) are exactly what IEEE rounding does.
  bits += 0x7FFFu + ((bits >> 16) & 1u);
  bits &= 0xFFFF0000u;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

static double roundF16(double v) {
  double f = static_cast<float>(v);
  if (std::isnan(f) || std::isinf(f) || f == 0.0)
    return f;
  // Half has 10 fraction bits and a minimum normal exponent of -14 (below
  // that, subnormals share the quantum 2^-24). Scaling by powers of two is
  // exact, and nearbyint rounds ties to even in the default rounding mode.
  int exp;
  std::frexp(f, &exp); // |f| = m * 2^exp, m in [0.5, 1)
  int e = std::max(exp - 1, -14);
  double quantum = std::ldexp(1.0, e - 10);
  double r = std::nearbyint(f / quantum) * quantum;
  if (std::fabs(r) > 65504.0)
    return std::copysign(std::numeric_limits<double>::infinity(), f);
  return r;
}

void mind::ref::roundTo(Tensor &t, ElemKind kind) {
  switch (kind) {
  case ElemKind::F64:
  case ElemKind::Int:
    return;
  case ElemKind::F32:
    for (double &v : t.data)
      v = static_cast<float>(v);
    return;
  case ElemKind::BF16:
    for (double &v : t.data)
      v = roundBF16(v);
    return;
  case ElemKind::F16:
    for (double &v : t.data)
      v = roundF16(v);
    return;
  }
}
