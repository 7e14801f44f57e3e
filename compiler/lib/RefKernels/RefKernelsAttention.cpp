//===- RefKernelsAttention.cpp - RoPE and attention kernels ---------------===//

#include "RefKernelsInternal.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace mind::ref;
using namespace mind::ref::detail;

//===----------------------------------------------------------------------===//
// RoPE
//===----------------------------------------------------------------------===//

RopeTable mind::ref::ropeTable(int64_t seqLen, int64_t headDim, double theta,
                               int64_t maxPositions, double yarnFactor,
                               int64_t yarnOriginalMax, double yarnBetaFast,
                               double yarnBetaSlow, double attentionFactor) {
  const char *op = "rope_table";
  if (headDim <= 0 || headDim % 2 != 0)
    fail(op,
         "head_dim must be even and positive, got " + std::to_string(headDim));
  if (seqLen < 0 || seqLen > maxPositions)
    fail(op, "sequence length " + std::to_string(seqLen) +
                 " must be in [0, max_positions = " +
                 std::to_string(maxPositions) + "]");
  if (!(theta > 1.0))
    fail(op, "theta must be > 1");

  // MiniMind's precompute_freqs_cis builds the table in f32, also for models
  // later cast to f64, so every step below rounds as PyTorch does. An f64
  // table would differ from PyTorch's by up to ~2e-5 within 512 positions.
  int64_t half = headDim / 2;
  std::vector<float> invFreq(half);
  for (int64_t j = 0; j < half; ++j) {
    float expo = static_cast<float>(2 * j) / static_cast<float>(headDim);
    float p = static_cast<float>(
        std::pow(static_cast<double>(static_cast<float>(theta)),
                 static_cast<double>(expo)));
    invFreq[j] = 1.0f / p;
  }

  if (yarnFactor != 1.0 && yarnOriginalMax > 0 &&
      static_cast<double>(maxPositions) / yarnOriginalMax > 1.0) {
    // YaRN: dims rotating fewer than beta_slow times over original_max are
    // interpolated by 1/factor, dims rotating more than beta_fast times are
    // kept, with a linear ramp between (bounds computed in f64 as in Python).
    constexpr double kPi = 3.14159265358979323846; // Python's math.pi
    auto corrDim = [&](double beta) {
      return headDim * std::log(yarnOriginalMax / (beta * 2.0 * kPi)) /
             (2.0 * std::log(theta));
    };
    double low = std::max(std::floor(corrDim(yarnBetaFast)), 0.0);
    double high = std::min(std::ceil(corrDim(yarnBetaSlow)),
                           static_cast<double>(half - 1));
    float denom = static_cast<float>(std::max(high - low, 0.001));
    float factor = static_cast<float>(yarnFactor);
    for (int64_t j = 0; j < half; ++j) {
      float ramp = (static_cast<float>(j) - static_cast<float>(low)) / denom;
      ramp = std::min(std::max(ramp, 0.0f), 1.0f);
      invFreq[j] = invFreq[j] * ((1.0f - ramp) + ramp / factor);
    }
  }

  RopeTable t{Tensor({seqLen, headDim}), Tensor({seqLen, headDim})};
  float attn = static_cast<float>(attentionFactor);
  for (int64_t s = 0; s < seqLen; ++s) {
    for (int64_t j = 0; j < half; ++j) {
      float angle = static_cast<float>(s) * invFreq[j];
      float c = static_cast<float>(std::cos(static_cast<double>(angle))) * attn;
      float sn =
          static_cast<float>(std::sin(static_cast<double>(angle))) * attn;
      // Rotate-half layout: both halves of a row repeat the same frequencies.
      t.cos.data[s * headDim + j] = t.cos.data[s * headDim + j + half] = c;
      t.sin.data[s * headDim + j] = t.sin.data[s * headDim + j + half] = sn;
    }
  }
  return t;
}

Tensor mind::ref::rope(const Tensor &x, const Tensor &cos, const Tensor &sin,
                       bool inverse) {
  requireRank(x, 4, "rope", "x");
  int64_t b = x.shape[0], s = x.shape[1], n = x.shape[2], d = x.shape[3];
  if (d % 2 != 0)
    fail("rope", "head dim must be even, got x " + shapeStr(x.shape));
  requireShape(cos, {s, d}, "rope", "cos");
  requireShape(sin, {s, d}, "rope", "sin");
  int64_t half = d / 2;
  double sign = inverse ? -1.0 : 1.0;
  Tensor out(x.shape);
  for (int64_t bi = 0; bi < b; ++bi)
    for (int64_t si = 0; si < s; ++si)
      for (int64_t ni = 0; ni < n; ++ni) {
        const double *xr = &x.data[((bi * s + si) * n + ni) * d];
        const double *c = &cos.data[si * d], *sn = &sin.data[si * d];
        double *o = &out.data[((bi * s + si) * n + ni) * d];
        // rotate_half([a, b]) = [-b, a].
        for (int64_t i = 0; i < d; ++i) {
          double rot = i < half ? -xr[i + half] : xr[i - half];
          o[i] = xr[i] * c[i] + rot * sign * sn[i];
        }
      }
  return out;
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

namespace {
/// Dimensions of one attention call, checked once.
struct AttnDims {
  int64_t b, s, hq, hkv, d, group;

  AttnDims(const Tensor &q, const Tensor &k, const Tensor &v, const char *op) {
    requireRank(q, 4, op, "q");
    requireRank(k, 4, op, "k");
    b = q.shape[0], s = q.shape[1], hq = q.shape[2], d = q.shape[3];
    hkv = k.shape[2];
    requireShape(k, {b, s, hkv, d}, op, "k");
    requireShape(v, {b, s, hkv, d}, op, "v");
    if (hkv == 0 || hq % hkv != 0)
      fail(op, "query heads (" + std::to_string(hq) +
                   ") must be a multiple of KV heads (" + std::to_string(hkv) +
                   ")");
    group = hq / hkv;
  }
  // Row offsets of q/out and k/v in their [B,S,H,D] buffers.
  int64_t qRow(int64_t bi, int64_t si, int64_t h) const {
    return ((bi * s + si) * hq + h) * d;
  }
  int64_t kvRow(int64_t bi, int64_t si, int64_t h) const {
    return ((bi * s + si) * hkv + h / group) * d;
  }
  int64_t lseIdx(int64_t bi, int64_t h, int64_t si) const {
    return (bi * hq + h) * s + si;
  }
  // Keys visible from query i: [0, keyEnd).
  int64_t keyEnd(int64_t i, bool causal) const { return causal ? i + 1 : s; }
};
} // namespace

AttentionResult mind::ref::attention(const Tensor &q, const Tensor &k,
                                     const Tensor &v, double scale,
                                     bool causal) {
  AttnDims a(q, k, v, "attention");
  AttentionResult r{Tensor(q.shape), Tensor({a.b, a.hq, a.s})};
  // No rows: nothing to compute (and S may be huge when B or H is 0).
  if (r.lse.numel() == 0)
    return r;
  std::vector<double> scores(a.s);
  for (int64_t bi = 0; bi < a.b; ++bi)
    for (int64_t h = 0; h < a.hq; ++h)
      for (int64_t i = 0; i < a.s; ++i) {
        const double *qr = &q.data[a.qRow(bi, i, h)];
        int64_t end = a.keyEnd(i, causal);
        double mx = -std::numeric_limits<double>::infinity();
        for (int64_t j = 0; j < end; ++j) {
          scores[j] = scale * dot(qr, &k.data[a.kvRow(bi, j, h)], a.d);
          mx = std::max(mx, scores[j]);
        }
        double sum = 0.0;
        for (int64_t j = 0; j < end; ++j)
          sum += std::exp(scores[j] - mx);
        double lse = mx + std::log(sum);
        r.lse.data[a.lseIdx(bi, h, i)] = lse;
        double *o = &r.out.data[a.qRow(bi, i, h)];
        for (int64_t j = 0; j < end; ++j)
          axpy(std::exp(scores[j] - lse), &v.data[a.kvRow(bi, j, h)], o, a.d);
      }
  return r;
}

AttentionGrads mind::ref::attentionGrad(const Tensor &q, const Tensor &k,
                                        const Tensor &v, const Tensor &out,
                                        const Tensor &lse, const Tensor &dout,
                                        double scale, bool causal) {
  const char *op = "attention_grad";
  AttnDims a(q, k, v, op);
  requireShape(out, q.shape, op, "out");
  requireShape(dout, q.shape, op, "dout");
  requireShape(lse, {a.b, a.hq, a.s}, op, "lse");
  AttentionGrads g{Tensor(q.shape), Tensor(k.shape), Tensor(v.shape)};
  // Flash-attention style: P is recomputed from lse, and
  // dS = P * (dP - rowsum(dout * out)) with dP = dout v^T.
  for (int64_t bi = 0; bi < a.b; ++bi)
    for (int64_t h = 0; h < a.hq; ++h)
      for (int64_t i = 0; i < a.s; ++i) {
        int64_t qi = a.qRow(bi, i, h);
        const double *qr = &q.data[qi], *dor = &dout.data[qi];
        double rowLse = lse.data[a.lseIdx(bi, h, i)];
        double delta = dot(dor, &out.data[qi], a.d);
        for (int64_t j = 0, end = a.keyEnd(i, causal); j < end; ++j) {
          int64_t kj = a.kvRow(bi, j, h);
          double p = std::exp(scale * dot(qr, &k.data[kj], a.d) - rowLse);
          double ds = p * (dot(dor, &v.data[kj], a.d) - delta);
          // dk/dv accumulate over the query heads sharing this KV head.
          axpy(p, dor, &g.dv.data[kj], a.d);
          axpy(scale * ds, &k.data[kj], &g.dq.data[qi], a.d);
          axpy(scale * ds, qr, &g.dk.data[kj], a.d);
        }
      }
  return g;
}
