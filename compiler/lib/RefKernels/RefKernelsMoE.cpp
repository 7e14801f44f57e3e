//===- RefKernelsMoE.cpp - Mixture-of-experts kernels ---------------------===//
//
// Routing layout (OpSet.md): the R = T*k slots t*k+j are stably sorted by
// expert; routed row r holds slot perm[r], expert e owns rows
// offsets[e] ..< offsets[e+1].
//
//===----------------------------------------------------------------------===//

#include "RefKernelsInternal.h"

#include <algorithm>
#include <numeric>

using namespace mind::ref;
using namespace mind::ref::detail;

//===----------------------------------------------------------------------===//
// Top-k gating
//===----------------------------------------------------------------------===//

TopKResult mind::ref::topk(const Tensor &scores, int64_t k, bool normalize) {
  requireRank(scores, 2, "topk", "scores");
  int64_t t = scores.shape[0], e = scores.shape[1];
  if (k < 1 || k > e)
    fail("topk", "k = " + std::to_string(k) + " must be in [1, " +
                     std::to_string(e) + "]");
  TopKResult r{Tensor({t, k}), Tensor({t, k})};
  std::vector<int64_t> order(e);
  for (int64_t ti = 0; ti < t; ++ti) {
    const double *row = &scores.data[ti * e];
    std::iota(order.begin(), order.end(), 0);
    // Descending by score; the stable sort keeps equal scores in index order.
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return row[a] > row[b]; });
    double sum = 0.0;
    for (int64_t j = 0; j < k; ++j)
      sum += row[order[j]];
    double denom = normalize ? sum + 1e-20 : 1.0;
    for (int64_t j = 0; j < k; ++j) {
      r.weights.data[ti * k + j] = row[order[j]] / denom;
      r.indices.data[ti * k + j] = static_cast<double>(order[j]);
    }
  }
  return r;
}

Tensor mind::ref::topkGrad(const Tensor &scores, const Tensor &indices,
                           const Tensor &dweights, bool normalize) {
  const char *op = "topk_grad";
  requireRank(scores, 2, op, "scores");
  requireRank(indices, 2, op, "indices");
  int64_t t = scores.shape[0], e = scores.shape[1], k = indices.shape[1];
  requireShape(indices, {t, k}, op, "indices");
  requireShape(dweights, {t, k}, op, "dweights");
  Tensor ds({t, e});
  std::vector<int64_t> idx(k);
  for (int64_t ti = 0; ti < t; ++ti) {
    for (int64_t j = 0; j < k; ++j)
      idx[j] = indexAt(indices, ti * k + j, e, op, "indices");
    const double *dw = &dweights.data[ti * k];
    if (!normalize) {
      for (int64_t j = 0; j < k; ++j)
        ds.data[ti * e + idx[j]] += dw[j];
      continue;
    }
    // w_j = s_j / d with d = sum_i s_i + 1e-20:
    // ds_m = dw_m / d - sum_j dw_j s_j / d^2.
    double d = 1e-20, dot = 0.0;
    for (int64_t j = 0; j < k; ++j)
      d += scores.data[ti * e + idx[j]];
    for (int64_t j = 0; j < k; ++j)
      dot += dw[j] * scores.data[ti * e + idx[j]];
    for (int64_t j = 0; j < k; ++j)
      ds.data[ti * e + idx[j]] += dw[j] / d - dot / (d * d);
  }
  return ds;
}

//===----------------------------------------------------------------------===//
// Routing, dispatch, grouped GEMM, combine
//===----------------------------------------------------------------------===//

MoeRouteResult mind::ref::moeRoute(const Tensor &indices, int64_t numExperts) {
  requireRank(indices, 2, "moe_route", "indices");
  if (numExperts < 1)
    fail("moe_route", "num_experts must be positive");
  int64_t r = indices.numel();
  std::vector<int64_t> expert(r), start(numExperts + 1, 0);
  for (int64_t slot = 0; slot < r; ++slot) {
    expert[slot] = indexAt(indices, slot, numExperts, "moe_route", "indices");
    ++start[expert[slot] + 1];
  }
  for (int64_t e = 0; e < numExperts; ++e)
    start[e + 1] += start[e];
  MoeRouteResult res{Tensor({r}), Tensor({numExperts + 1})};
  for (int64_t e = 0; e <= numExperts; ++e)
    res.offsets.data[e] = static_cast<double>(start[e]);
  // Counting sort: visiting slots in order makes it stable.
  for (int64_t slot = 0; slot < r; ++slot)
    res.perm.data[start[expert[slot]]++] = static_cast<double>(slot);
  return res;
}

static void requireTopK(int64_t topK, const char *op) {
  if (topK < 1)
    fail(op, "top_k must be positive, got " + std::to_string(topK));
}

Tensor mind::ref::moeDispatch(const Tensor &x, const Tensor &perm,
                              int64_t topK) {
  requireRank(x, 2, "moe_dispatch", "x");
  requireRank(perm, 1, "moe_dispatch", "perm");
  requireTopK(topK, "moe_dispatch");
  int64_t t = x.shape[0], h = x.shape[1], r = perm.shape[0];
  Tensor out({r, h});
  for (int64_t ri = 0; ri < r; ++ri) {
    int64_t tok = indexAt(perm, ri, t * topK, "moe_dispatch", "perm") / topK;
    std::copy_n(&x.data[tok * h], h, &out.data[ri * h]);
  }
  return out;
}

Tensor mind::ref::moeDispatchGrad(const Tensor &dxs, const Tensor &perm,
                                  int64_t topK, int64_t numTokens) {
  const char *op = "moe_dispatch_grad";
  requireRank(dxs, 2, op, "dxs");
  requireTopK(topK, op);
  int64_t r = dxs.shape[0], h = dxs.shape[1];
  requireShape(perm, {r}, op, "perm");
  Tensor dx({numTokens, h});
  for (int64_t ri = 0; ri < r; ++ri) {
    int64_t tok = indexAt(perm, ri, numTokens * topK, op, "perm") / topK;
    axpy(1.0, &dxs.data[ri * h], &dx.data[tok * h], h);
  }
  return dx;
}

/// Validates offsets[E+1] against R rows and returns them as integers.
static std::vector<int64_t> checkOffsets(const Tensor &offsets, int64_t numE,
                                         int64_t rows, const char *op) {
  requireShape(offsets, {numE + 1}, op, "offsets");
  std::vector<int64_t> off(numE + 1);
  for (int64_t e = 0; e <= numE; ++e) {
    off[e] = indexAt(offsets, e, rows + 1, op, "offsets");
    if (e > 0 && off[e] < off[e - 1])
      fail(op, "offsets must be non-decreasing");
  }
  if (off[0] != 0 || off[numE] != rows)
    fail(op, "offsets must start at 0 and end at the row count " +
                 std::to_string(rows));
  return off;
}

/// Checks the E expert weights: all [N,K] with K = x.dim(1). Returns N.
static int64_t checkExpertWeights(const std::vector<Tensor> &weights, int64_t k,
                                  const char *op) {
  if (weights.empty())
    fail(op, "needs at least one expert weight");
  requireRank(weights[0], 2, op, "w_0");
  int64_t n = weights[0].shape[0];
  for (size_t e = 0; e < weights.size(); ++e) {
    std::string name = "w_" + std::to_string(e);
    requireShape(weights[e], {n, k}, op, name.c_str());
  }
  return n;
}

Tensor mind::ref::groupedLinear(const Tensor &x, const Tensor &offsets,
                                const std::vector<Tensor> &weights) {
  const char *op = "grouped_linear";
  requireRank(x, 2, op, "x");
  int64_t r = x.shape[0], k = x.shape[1];
  int64_t n = checkExpertWeights(weights, k, op);
  int64_t numE = static_cast<int64_t>(weights.size());
  std::vector<int64_t> off = checkOffsets(offsets, numE, r, op);
  Tensor out({r, n});
  for (int64_t e = 0; e < numE; ++e)
    for (int64_t ri = off[e]; ri < off[e + 1]; ++ri)
      for (int64_t j = 0; j < n; ++j)
        out.data[ri * n + j] = dot(&x.data[ri * k], &weights[e].data[j * k], k);
  return out;
}

GroupedLinearGrads
mind::ref::groupedLinearGrad(const Tensor &x, const Tensor &offsets,
                             const Tensor &dy,
                             const std::vector<Tensor> &weights) {
  const char *op = "grouped_linear_grad";
  requireRank(x, 2, op, "x");
  int64_t r = x.shape[0], k = x.shape[1];
  int64_t n = checkExpertWeights(weights, k, op);
  int64_t numE = static_cast<int64_t>(weights.size());
  std::vector<int64_t> off = checkOffsets(offsets, numE, r, op);
  requireShape(dy, {r, n}, op, "dy");
  GroupedLinearGrads g{Tensor({r, k}), {}};
  g.dw.assign(numE, Tensor({n, k}));
  for (int64_t e = 0; e < numE; ++e)
    for (int64_t ri = off[e]; ri < off[e + 1]; ++ri)
      for (int64_t j = 0; j < n; ++j) {
        double dyv = dy.data[ri * n + j];
        // dx[r] = dy[r] @ w_e; dw_e += dy[r]^T x[r].
        axpy(dyv, &weights[e].data[j * k], &g.dx.data[ri * k], k);
        axpy(dyv, &x.data[ri * k], &g.dw[e].data[j * k], k);
      }
  return g;
}

/// Checks y[R,H], perm[R], weights[T,k] of combine with R = T*k.
static void checkCombine(const Tensor &y, const Tensor &perm,
                         const Tensor &weights, const char *op) {
  requireRank(y, 2, op, "y");
  requireRank(weights, 2, op, "weights");
  int64_t r = y.shape[0];
  requireShape(perm, {r}, op, "perm");
  if (weights.numel() != r)
    fail(op, "weights " + shapeStr(weights.shape) +
                 " must have one entry per routed row of y " +
                 shapeStr(y.shape));
}

Tensor mind::ref::moeCombine(const Tensor &y, const Tensor &perm,
                             const Tensor &weights) {
  checkCombine(y, perm, weights, "moe_combine");
  int64_t r = y.shape[0], h = y.shape[1], k = weights.shape[1];
  Tensor out({weights.shape[0], h});
  for (int64_t ri = 0; ri < r; ++ri) {
    int64_t slot = indexAt(perm, ri, r, "moe_combine", "perm");
    axpy(weights.data[slot], &y.data[ri * h], &out.data[slot / k * h], h);
  }
  return out;
}

MoeCombineGrads mind::ref::moeCombineGrad(const Tensor &y, const Tensor &perm,
                                          const Tensor &weights,
                                          const Tensor &dout) {
  const char *op = "moe_combine_grad";
  checkCombine(y, perm, weights, op);
  int64_t r = y.shape[0], h = y.shape[1], k = weights.shape[1];
  requireShape(dout, {weights.shape[0], h}, op, "dout");
  MoeCombineGrads g{Tensor(y.shape), Tensor(weights.shape)};
  for (int64_t ri = 0; ri < r; ++ri) {
    int64_t slot = indexAt(perm, ri, r, op, "perm");
    const double *d = &dout.data[slot / k * h];
    axpy(weights.data[slot], d, &g.dy.data[ri * h], h);
    g.dweights.data[slot] += dot(d, &y.data[ri * h], h);
  }
  return g;
}

//===----------------------------------------------------------------------===//
// Load-balancing aux loss
//===----------------------------------------------------------------------===//

namespace {
/// The aux loss is linear in the scores: aux = sum_{t,e} coef[t,e] * s[t,e]
/// with coefficients fixed by the (constant) expert counts. Both the loss and
/// its gradient are read off this table.
Tensor auxCoefficients(const Tensor &scores, const Tensor &indices,
                       double alpha, bool seqAux, int64_t batch,
                       const char *op) {
  requireRank(scores, 2, op, "scores");
  requireRank(indices, 2, op, "indices");
  int64_t t = scores.shape[0], e = scores.shape[1], k = indices.shape[1];
  requireShape(indices, {t, k}, op, "indices");
  if (k < 1 || t < 1)
    fail(op, "needs at least one token and one expert per token");
  Tensor coef({t, e});
  if (seqAux) {
    if (batch < 1 || t % batch != 0)
      fail(op, "batch = " + std::to_string(batch) + " must divide the " +
                   std::to_string(t) + " tokens");
    int64_t s = t / batch;
    std::vector<double> ce(e);
    for (int64_t b = 0; b < batch; ++b) {
      // ce[e] = count of e in sequence b's S*k picks / (S*k/E).
      std::fill(ce.begin(), ce.end(), 0.0);
      for (int64_t i = b * s * k; i < (b + 1) * s * k; ++i)
        ce[indexAt(indices, i, e, op, "indices")] += 1.0;
      double norm = static_cast<double>(s * k) / static_cast<double>(e);
      // aux = alpha/batch * sum_b sum_e ce[b,e] * (1/S) sum_s scores[b,s,e].
      for (int64_t si = b * s; si < (b + 1) * s; ++si)
        for (int64_t ei = 0; ei < e; ++ei)
          coef.data[si * e + ei] =
              alpha * (ce[ei] / norm) / (static_cast<double>(s) * batch);
    }
  } else {
    // fi[e] = E * count(e) / (T*k), Pi[e] = mean_t scores[t,e].
    std::vector<double> fi(e, 0.0);
    for (int64_t i = 0; i < t * k; ++i)
      fi[indexAt(indices, i, e, op, "indices")] += 1.0;
    for (int64_t ei = 0; ei < e; ++ei)
      fi[ei] *= static_cast<double>(e) / static_cast<double>(t * k);
    for (int64_t ti = 0; ti < t; ++ti)
      for (int64_t ei = 0; ei < e; ++ei)
        coef.data[ti * e + ei] = alpha * fi[ei] / static_cast<double>(t);
  }
  return coef;
}
} // namespace

Tensor mind::ref::moeAuxLoss(const Tensor &scores, const Tensor &indices,
                             double alpha, bool seqAux, int64_t batch) {
  Tensor coef =
      auxCoefficients(scores, indices, alpha, seqAux, batch, "moe_aux_loss");
  double aux = 0.0;
  for (size_t i = 0; i < coef.data.size(); ++i)
    aux += coef.data[i] * scores.data[i];
  return Tensor::fromData({}, {aux});
}

Tensor mind::ref::moeAuxLossGrad(const Tensor &scores, const Tensor &indices,
                                 double dloss, double alpha, bool seqAux,
                                 int64_t batch) {
  Tensor coef = auxCoefficients(scores, indices, alpha, seqAux, batch,
                                "moe_aux_loss_grad");
  for (double &c : coef.data)
    c *= dloss;
  return coef;
}
