// Mixture-of-experts kernels: top-k gating, routing (stable counting sort by
// expert), dispatch / combine and the load-balancing aux loss, with their
// gradients. Semantics: docs/Rationale/OpSet.md and ref:: RefKernelsMoE.cpp;
// launch rules: MoeSpecs.h; parameters: KernelSignatures.h.
// The grouped GEMM lives in moe_gemm.cuh.
//
// Every kernel is deterministic: no float atomics; sums run in a fixed order.
// Integer shared-memory atomics only count (their result is order-free).
#pragma once

namespace mind {
namespace moe_detail {

// 8 consecutive elements as floats; p must be 16-byte aligned.
// (Type punning through memcpy, which compiles to register moves.)
template <typename T>
__device__ __forceinline__ void load8(const T *p, float (&f)[8]) {
  constexpr int W = sizeof(T) * 8 / 16;
  uint4 raw[W];
  const uint4 *src = reinterpret_cast<const uint4 *>(p);
#pragma unroll
  for (int w = 0; w < W; ++w)
    raw[w] = src[w];
  T v[8];
  memcpy(v, raw, sizeof(raw));
#pragma unroll
  for (int i = 0; i < 8; ++i)
    f[i] = toF32(v[i]);
}
template <typename T>
__device__ __forceinline__ void store8(T *p, const float (&f)[8]) {
  constexpr int W = sizeof(T) * 8 / 16;
  T v[8];
#pragma unroll
  for (int i = 0; i < 8; ++i)
    v[i] = fromF32<T>(f[i]);
  uint4 raw[W];
  memcpy(raw, v, sizeof(raw));
  uint4 *dst = reinterpret_cast<uint4 *>(p);
#pragma unroll
  for (int w = 0; w < W; ++w)
    dst[w] = raw[w];
}

__device__ __forceinline__ bool aligned16(const void *p) {
  return (reinterpret_cast<unsigned long long>(p) & 15ull) == 0;
}

// Rows of H elements can be moved 8 at a time with 16-byte accesses when H is
// a multiple of 8 and every base pointer is 16-byte aligned (the arena's
// buffers are 256-byte aligned, so in practice: H % 8 == 0).
__device__ __forceinline__ bool vecRows(i64 h, const void *a, const void *b,
                                        const void *c = nullptr,
                                        const void *d = nullptr) {
  return h % 8 == 0 && aligned16(a) && aligned16(b) && aligned16(c) &&
         aligned16(d);
}

__device__ __forceinline__ double warpSumD(double v) {
  for (int o = 16; o > 0; o >>= 1)
    v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
} // namespace moe_detail

//===----------------------------------------------------------------------===//
// Top-k gating
//===----------------------------------------------------------------------===//

// One thread per token. Pick j is the best score among the entries that come
// after pick j-1 in the order (score descending, index ascending), so equal
// scores go to the lower index exactly like the reference's stable sort; no
// per-token scratch, any E.
template <typename T>
__global__ void moe_topk_fwd(const T *scores, T *weights, i64 *indices,
                             i64 tokens, i64 experts, i64 k, i64 normalize) {
  MIND_CHECK_SIGNATURE_T(moe_topk_fwd, (T), moe_topk_fwd<T>);
  i64 t = i64(blockIdx.x) * blockDim.x + threadIdx.x;
  if (t >= tokens)
    return;
  const T *row = scores + t * experts;
  float prevS = 0.0f, sum = 0.0f;
  i64 prevI = -1;
  for (i64 j = 0; j < k; ++j) {
    i64 best = -1;
    float bestS = 0.0f;
    for (i64 e = 0; e < experts; ++e) {
      float s = toF32(row[e]);
      bool after = j == 0 || s < prevS || (s == prevS && e > prevI);
      if (after && (best < 0 || s > bestS)) {
        best = e;
        bestS = s;
      }
    }
    indices[t * k + j] = best;
    sum += bestS;
    prevS = bestS;
    prevI = best;
  }
  float denom = normalize ? sum + 1e-20f : 1.0f;
  for (i64 j = 0; j < k; ++j)
    weights[t * k + j] = fromF32<T>(toF32(row[indices[t * k + j]]) / denom);
}

// One thread per dscores element (t, e): the sum over the picks j of token t
// that chose e (zero if none), so duplicated indices also match the reference.
template <typename T>
__global__ void moe_topk_bwd(const T *scores, const i64 *indices,
                             const T *dweights, T *dscores, i64 tokens,
                             i64 experts, i64 k, i64 normalize) {
  MIND_CHECK_SIGNATURE_T(moe_topk_bwd, (T), moe_topk_bwd<T>);
  i64 i = i64(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= tokens * experts)
    return;
  i64 t = i / experts, e = i % experts;
  const i64 *idx = indices + t * k;
  const T *dw = dweights + t * k;
  float acc = 0.0f;
  if (!normalize) {
    for (i64 j = 0; j < k; ++j)
      if (idx[j] == e)
        acc += toF32(dw[j]);
  } else {
    // w_j = s_j / d, d = sum_i s_i + 1e-20: ds_m = dw_m / d - dot / d^2.
    float d = 1e-20f, dot = 0.0f;
    for (i64 j = 0; j < k; ++j) {
      float s = toF32(scores[t * experts + idx[j]]);
      d += s;
      dot += toF32(dw[j]) * s;
    }
    float g = dot / (d * d);
    for (i64 j = 0; j < k; ++j)
      if (idx[j] == e)
        acc += toF32(dw[j]) / d - g;
  }
  dscores[i] = fromF32<T>(acc);
}

//===----------------------------------------------------------------------===//
// Routing: stable counting sort of the R = T*k slots by expert
//===----------------------------------------------------------------------===//

// Tiles of 1024 slots, one per block of 1024 threads (one slot per thread).
// Pass 1 counts each tile's experts into tileCounts[tile * E + e].
__global__ void moe_route_count(const i64 *indices, i64 *tileCounts, i64 rows,
                                i64 experts) {
  MIND_CHECK_SIGNATURE(moe_route_count, moe_route_count);
  extern __shared__ int moeRouteHist[];
  for (i64 e = threadIdx.x; e < experts; e += blockDim.x)
    moeRouteHist[e] = 0;
  __syncthreads();
  i64 slot = i64(blockIdx.x) * blockDim.x + threadIdx.x;
  if (slot < rows) {
    i64 e = indices[slot];
    if (e >= 0 && e < experts)
      atomicAdd(&moeRouteHist[e], 1);
  }
  __syncthreads();
  for (i64 e = threadIdx.x; e < experts; e += blockDim.x)
    tileCounts[i64(blockIdx.x) * experts + e] = moeRouteHist[e];
}

// Pass 2: a slot's row is start[e] (all slots of lower experts) + the count
// of e in earlier tiles + its rank among the tile's slots of e (earlier warps,
// then earlier lanes), which keeps slot order within each expert. Block 0
// writes offsets. Shared: 3*E + 32*E ints.
__global__ void moe_route_scatter(const i64 *indices, const i64 *tileCounts,
                                  i64 *perm, i64 *offsets, i64 rows,
                                  i64 experts) {
  MIND_CHECK_SIGNATURE(moe_route_scatter, moe_route_scatter);
  extern __shared__ int moeRouteShared[];
  int *start = moeRouteShared;    // [E] first row of expert e
  int *before = start + experts;  // [E] count of e in earlier tiles
  int *total = before + experts;  // [E] count of e overall
  int *warpCnt = total + experts; // [32][E] per-warp counts, then prefixes
  int nWarps = blockDim.x >> 5;
  for (i64 i = threadIdx.x; i < experts * (3 + 32); i += blockDim.x)
    moeRouteShared[i] = 0;
  __syncthreads();
  i64 tiles = gridDim.x;
  for (i64 i = threadIdx.x; i < tiles * experts; i += blockDim.x) {
    int c = int(tileCounts[i]);
    i64 e = i % experts;
    atomicAdd(&total[e], c);
    if (i / experts < blockIdx.x)
      atomicAdd(&before[e], c);
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    int run = 0;
    for (i64 e = 0; e < experts; ++e) {
      start[e] = run;
      if (blockIdx.x == 0)
        offsets[e] = run;
      run += total[e];
    }
    if (blockIdx.x == 0)
      offsets[experts] = run;
  }
  i64 slot = i64(blockIdx.x) * blockDim.x + threadIdx.x;
  i64 e = slot < rows ? indices[slot] : -1;
  bool valid = e >= 0 && e < experts;
  if (!valid)
    e = -1;
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  unsigned peers = __match_any_sync(0xffffffffu, (unsigned long long)e);
  int rank = __popc(peers & ((1u << lane) - 1u));
  if (valid && lane == __ffs(peers) - 1)
    warpCnt[warp * experts + e] = __popc(peers);
  __syncthreads();
  for (i64 x = threadIdx.x; x < experts; x += blockDim.x) {
    int run = 0;
    for (int w = 0; w < nWarps; ++w) {
      int c = warpCnt[w * experts + x];
      warpCnt[w * experts + x] = run;
      run += c;
    }
  }
  __syncthreads();
  if (valid)
    perm[start[e] + before[e] + warpCnt[warp * experts + e] + rank] = slot;
}

// inv[perm[r]] = r: the routed row of each slot (the workspace of
// moe_dispatch_bwd and moe_combine_fwd).
__global__ void moe_invert_perm(const i64 *perm, i64 *inv, i64 rows) {
  MIND_CHECK_SIGNATURE(moe_invert_perm, moe_invert_perm);
  i64 r = i64(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r >= rows)
    return;
  i64 slot = perm[r];
  if (slot >= 0 && slot < rows)
    inv[slot] = r;
}

//===----------------------------------------------------------------------===//
// Dispatch and combine: one block per output row
//===----------------------------------------------------------------------===//

// out[r] = x[perm[r] / topK].
template <typename T>
__global__ void moe_dispatch_fwd(const T *x, const i64 *perm, T *out, i64 rows,
                                 i64 hidden, i64 topK) {
  MIND_CHECK_SIGNATURE_T(moe_dispatch_fwd, (T), moe_dispatch_fwd<T>);
  i64 r = blockIdx.x;
  const T *src = x + (perm[r] / topK) * hidden;
  T *dst = out + r * hidden;
  if (moe_detail::vecRows(hidden, x, out)) {
    const uint4 *s = reinterpret_cast<const uint4 *>(src);
    uint4 *d = reinterpret_cast<uint4 *>(dst);
    i64 n = hidden * i64(sizeof(T)) / 16;
    for (i64 i = threadIdx.x; i < n; i += blockDim.x)
      d[i] = s[i];
  } else {
    for (i64 h = threadIdx.x; h < hidden; h += blockDim.x)
      dst[h] = src[h];
  }
}

// dx[t] = sum_j dxs[inv[t*k + j]], j ascending.
template <typename T>
__global__ void moe_dispatch_bwd(const T *dxs, const i64 *inv, T *dx,
                                 i64 tokens, i64 hidden, i64 topK) {
  MIND_CHECK_SIGNATURE_T(moe_dispatch_bwd, (T), moe_dispatch_bwd<T>);
  i64 t = blockIdx.x;
  const i64 *rowOf = inv + t * topK;
  T *dst = dx + t * hidden;
  if (moe_detail::vecRows(hidden, dxs, dx)) {
    for (i64 c = i64(threadIdx.x) * 8; c < hidden; c += i64(blockDim.x) * 8) {
      float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0}, v[8];
      for (i64 j = 0; j < topK; ++j) {
        moe_detail::load8(dxs + rowOf[j] * hidden + c, v);
#pragma unroll
        for (int i = 0; i < 8; ++i)
          acc[i] += v[i];
      }
      moe_detail::store8(dst + c, acc);
    }
  } else {
    for (i64 h = threadIdx.x; h < hidden; h += blockDim.x) {
      float acc = 0.0f;
      for (i64 j = 0; j < topK; ++j)
        acc += toF32(dxs[rowOf[j] * hidden + h]);
      dst[h] = fromF32<T>(acc);
    }
  }
}

// out[t] = sum_j weights[t, j] * y[inv[t*k + j]], j ascending.
template <typename T>
__global__ void moe_combine_fwd(const T *y, const i64 *inv, const T *weights,
                                T *out, i64 tokens, i64 hidden, i64 topK) {
  MIND_CHECK_SIGNATURE_T(moe_combine_fwd, (T), moe_combine_fwd<T>);
  i64 t = blockIdx.x;
  const i64 *rowOf = inv + t * topK;
  const T *w = weights + t * topK;
  T *dst = out + t * hidden;
  if (moe_detail::vecRows(hidden, y, out)) {
    for (i64 c = i64(threadIdx.x) * 8; c < hidden; c += i64(blockDim.x) * 8) {
      float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0}, v[8];
      for (i64 j = 0; j < topK; ++j) {
        float wj = toF32(w[j]);
        moe_detail::load8(y + rowOf[j] * hidden + c, v);
#pragma unroll
        for (int i = 0; i < 8; ++i)
          acc[i] += wj * v[i];
      }
      moe_detail::store8(dst + c, acc);
    }
  } else {
    for (i64 h = threadIdx.x; h < hidden; h += blockDim.x) {
      float acc = 0.0f;
      for (i64 j = 0; j < topK; ++j)
        acc += toF32(w[j]) * toF32(y[rowOf[j] * hidden + h]);
      dst[h] = fromF32<T>(acc);
    }
  }
}

// Per routed row r with slot = perm[r], t = slot / k:
// dy[r] = weights[slot] * dout[t]; dweights[slot] = dout[t] . y[r]. Each slot
// has exactly one row, so dweights is written once, by a block reduction.
template <typename T>
__global__ void moe_combine_bwd(const T *y, const i64 *perm, const T *weights,
                                const T *dout, T *dy, T *dweights, i64 rows,
                                i64 hidden, i64 topK) {
  MIND_CHECK_SIGNATURE_T(moe_combine_bwd, (T), moe_combine_bwd<T>);
  __shared__ float scratch[32];
  i64 r = blockIdx.x;
  i64 slot = perm[r];
  const T *g = dout + (slot / topK) * hidden;
  const T *yr = y + r * hidden;
  T *dst = dy + r * hidden;
  float w = toF32(weights[slot]);
  float dot = 0.0f;
  if (moe_detail::vecRows(hidden, y, dout, dy)) {
    for (i64 c = i64(threadIdx.x) * 8; c < hidden; c += i64(blockDim.x) * 8) {
      float gv[8], yv[8], o[8];
      moe_detail::load8(g + c, gv);
      moe_detail::load8(yr + c, yv);
#pragma unroll
      for (int i = 0; i < 8; ++i) {
        o[i] = w * gv[i];
        dot += gv[i] * yv[i];
      }
      moe_detail::store8(dst + c, o);
    }
  } else {
    for (i64 h = threadIdx.x; h < hidden; h += blockDim.x) {
      float gv = toF32(g[h]);
      dst[h] = fromF32<T>(w * gv);
      dot += gv * toF32(yr[h]);
    }
  }
  dot = blockSum(dot, scratch);
  if (threadIdx.x == 0)
    dweights[slot] = fromF32<T>(dot);
}

//===----------------------------------------------------------------------===//
// Load-balancing aux loss (MINIMIND-SPEC 3.6)
//===----------------------------------------------------------------------===//
// Both forms are aux = factor * sum_g sum_{t in g, e} count_g[e] * s[t, e]
// over G groups of S tokens (seq_aux: G = batch sequences; else G = 1, S = T)
// with factor = alpha * E / (S * k * S * G).

// One block: per group, the expert counts (shared int atomics), then each
// thread's fixed elements summed in double and reduced in a fixed tree.
// Writes out[0] (f32). Shared: E ints.
template <typename T>
__global__ void moe_aux_loss_fwd(const T *scores, const i64 *indices,
                                 float *out, i64 tokens, i64 experts, i64 k,
                                 float alpha, i64 seqAux, i64 batch) {
  MIND_CHECK_SIGNATURE_T(moe_aux_loss_fwd, (T), moe_aux_loss_fwd<T>);
  extern __shared__ int moeAuxCount[];
  __shared__ double scratch[32];
  i64 groups = seqAux ? batch : 1, s = tokens / groups;
  double acc = 0.0;
  for (i64 g = 0; g < groups; ++g) {
    for (i64 e = threadIdx.x; e < experts; e += blockDim.x)
      moeAuxCount[e] = 0;
    __syncthreads();
    const i64 *idx = indices + g * s * k;
    for (i64 i = threadIdx.x; i < s * k; i += blockDim.x) {
      i64 e = idx[i];
      if (e >= 0 && e < experts)
        atomicAdd(&moeAuxCount[e], 1);
    }
    __syncthreads();
    const T *sc = scores + g * s * experts;
    for (i64 i = threadIdx.x; i < s * experts; i += blockDim.x)
      acc += double(moeAuxCount[i % experts]) * double(toF32(sc[i]));
    __syncthreads();
  }
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  acc = moe_detail::warpSumD(acc);
  if (lane == 0)
    scratch[warp] = acc;
  __syncthreads();
  if (warp == 0) {
    acc = lane < int(blockDim.x >> 5) ? scratch[lane] : 0.0;
    acc = moe_detail::warpSumD(acc);
    if (lane == 0) {
      double factor = double(alpha) * double(experts) /
                      (double(s) * double(k) * double(s) * double(groups));
      out[0] = float(factor * acc);
    }
  }
}

// dscores[t, e] = dloss * factor * count_g(t)[e]. Grid (chunks, G): each block
// recounts its group's experts, then writes its chunk of the group's S*E.
// Shared: E ints.
template <typename T>
__global__ void moe_aux_loss_bwd(const i64 *indices, const float *dloss,
                                 T *dscores, i64 tokens, i64 experts, i64 k,
                                 float alpha, i64 seqAux, i64 batch,
                                 i64 chunk) {
  MIND_CHECK_SIGNATURE_T(moe_aux_loss_bwd, (T), moe_aux_loss_bwd<T>);
  extern __shared__ int moeAuxCount[];
  i64 groups = seqAux ? batch : 1, s = tokens / groups, g = blockIdx.y;
  for (i64 e = threadIdx.x; e < experts; e += blockDim.x)
    moeAuxCount[e] = 0;
  __syncthreads();
  const i64 *idx = indices + g * s * k;
  for (i64 i = threadIdx.x; i < s * k; i += blockDim.x) {
    i64 e = idx[i];
    if (e >= 0 && e < experts)
      atomicAdd(&moeAuxCount[e], 1);
  }
  __syncthreads();
  double scale = double(dloss[0]) * double(alpha) * double(experts) /
                 (double(s) * double(k) * double(s) * double(groups));
  i64 begin = i64(blockIdx.x) * chunk;
  i64 end = min(begin + chunk, s * experts);
  T *dst = dscores + g * s * experts;
  for (i64 i = begin + threadIdx.x; i < end; i += blockDim.x)
    dst[i] = fromF32<T>(float(scale * double(moeAuxCount[i % experts])));
}

} // namespace mind
