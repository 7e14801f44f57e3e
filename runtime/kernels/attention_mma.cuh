// Grouped-query attention for 16-bit storage (bf16, f16) on tensor cores
// with register-resident tiles, FlashAttention-2 style: every tile product
// is an mma.sync m16n8k16 with fp32 accumulation, operands come from shared
// memory through ldmatrix, and S, P, dS and the O/dQ/dK/dV accumulators
// never leave registers (an accumulator fragment of S is, element for
// element, the A operand fragment of P in the next product). Each warp owns
// 16 rows of the block's tile. Same semantics, launch arguments and
// determinism as attention.cuh (whose kernels serve fp32 storage); launch
// rules in AttentionSpecs.cpp.
//
// Fragment layouts (PTX ISA, mma.m16n8k16, g = lane / 4, t = lane % 4):
//   A 16x16: a0 (g, 2t..2t+1), a1 (g+8, 2t..), a2 (g, 2t+8..), a3 (g+8, 2t+8..)
//   B 16x8:  b0 (k 2t..2t+1, n g), b1 (k 2t+8.., n g)
//   C 16x8:  c0,c1 (g, 2t..2t+1), c2,c3 (g+8, 2t..2t+1)
#pragma once

namespace mind {
namespace amma {
constexpr int kThreads = 128; // 4 warps, 16 rows each

// Shared tiles of 16-bit rows padded by 8 elements: ldmatrix's 8 row
// addresses then fall in distinct bank groups for every head dim.
template <int D> struct Ld {
  static constexpr int kRow = D + 8;
};

__device__ __forceinline__ unsigned smemAddr(const void *p) {
  return static_cast<unsigned>(__cvta_generic_to_shared(p));
}
__device__ __forceinline__ void ldsm4(unsigned (&r)[4], const void *p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smemAddr(p)));
}
__device__ __forceinline__ void ldsm4t(unsigned (&r)[4], const void *p) {
  asm volatile(
      "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];"
      : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
      : "r"(smemAddr(p)));
}

// Asynchronous global -> shared copies (cp.async, 16 bytes; a row past
// `valid` is zero-filled), so the next tile streams in while this one is
// multiplied. Same row layout as attn::loadRows.
template <typename T, int D>
__device__ __forceinline__ void loadRowsAsync(T *s, int ld, const T *g,
                                              i64 stride, int rows,
                                              i64 valid) {
  constexpr int kVec = 16 / sizeof(T), kChunks = D / kVec;
  for (int idx = threadIdx.x; idx < rows * kChunks; idx += kThreads) {
    int r = idx / kChunks, c = idx % kChunks * kVec;
    bool ok = r < valid;
    const T *src = ok ? g + r * stride + c : g; // not read when !ok
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(
                     smemAddr(s + r * ld + c)),
                 "l"(src), "r"(ok ? 16 : 0));
  }
}
__device__ __forceinline__ void asyncCommit() {
  asm volatile("cp.async.commit_group;");
}
// Waits until at most `pending` (0 or 1) committed groups are in flight.
__device__ __forceinline__ void asyncWait(bool onePending) {
  if (onePending)
    asm volatile("cp.async.wait_group 1;");
  else
    asm volatile("cp.async.wait_group 0;");
}

template <typename T> struct Mma;
template <> struct Mma<__nv_bfloat16> {
  static __device__ __forceinline__ void run(float (&d)[4],
                                             const unsigned (&a)[4],
                                             unsigned b0, unsigned b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
                 "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0),
                   "r"(b1));
  }
  static __device__ __forceinline__ unsigned pack(float lo, float hi) {
    __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<unsigned *>(&v);
  }
};
template <> struct Mma<__half> {
  static __device__ __forceinline__ void run(float (&d)[4],
                                             const unsigned (&a)[4],
                                             unsigned b0, unsigned b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
                 "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0),
                   "r"(b1));
  }
  static __device__ __forceinline__ unsigned pack(float lo, float hi) {
    __half2 v = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<unsigned *>(&v);
  }
};

// A fragment of the 16x16 block at (row0, col0) of a row-major shared tile.
template <typename T>
__device__ __forceinline__ void loadA(unsigned (&a)[4], const T *s, int ld,
                                      int row0, int col0) {
  int lane = threadIdx.x & 31;
  ldsm4(a, s + (row0 + (lane & 15)) * ld + col0 + (lane >> 4) * 8);
}
// B fragments of two adjacent n-blocks (n0, n0+8) at k-step k0 when B(k, n)
// is stored as s[n][k] (K in S = Q K^T): b[0],b[1] for n0, b[2],b[3] for
// n0 + 8.
template <typename T>
__device__ __forceinline__ void loadBt(unsigned (&b)[4], const T *s, int ld,
                                       int n0, int k0) {
  int lane = threadIdx.x & 31;
  ldsm4(b, s + (n0 + ((lane >> 4) << 3) + (lane & 7)) * ld + k0 +
               ((lane >> 3) & 1) * 8);
}
// The same when B(k, n) is stored as s[k][n] (V in O = P V).
template <typename T>
__device__ __forceinline__ void loadB(unsigned (&b)[4], const T *s, int ld,
                                      int n0, int k0) {
  int lane = threadIdx.x & 31;
  ldsm4t(b, s + (k0 + ((lane >> 3) & 1) * 8 + (lane & 7)) * ld + n0 +
                (lane >> 4) * 8);
}

// acc[N/8] += A(16 x K, fragments a[K/16]) * B(K x N), B stored as s[n][k].
template <typename T, int N, int K>
__device__ __forceinline__ void mmaBt(float (&acc)[N / 8][4],
                                      const unsigned (&a)[K / 16][4],
                                      const T *s, int ld) {
#pragma unroll
  for (int kk = 0; kk < K / 16; ++kk)
#pragma unroll
    for (int nb = 0; nb < N / 8; nb += 2) {
      unsigned b[4];
      loadBt(b, s, ld, nb * 8, kk * 16);
      Mma<T>::run(acc[nb], a[kk], b[0], b[1]);
      Mma<T>::run(acc[nb + 1], a[kk], b[2], b[3]);
    }
}
// acc[N/8] += A(16 x K) * B(K x N), B stored as s[k][n]; A comes from fp32
// accumulator fragments p[K/8] (P or dS), rounded to T here.
template <typename T, int N, int K>
__device__ __forceinline__ void mmaFromAcc(float (&acc)[N / 8][4],
                                           const float (&p)[K / 8][4],
                                           const T *s, int ld) {
#pragma unroll
  for (int kk = 0; kk < K / 16; ++kk) {
    unsigned a[4] = {Mma<T>::pack(p[2 * kk][0], p[2 * kk][1]),
                     Mma<T>::pack(p[2 * kk][2], p[2 * kk][3]),
                     Mma<T>::pack(p[2 * kk + 1][0], p[2 * kk + 1][1]),
                     Mma<T>::pack(p[2 * kk + 1][2], p[2 * kk + 1][3])};
#pragma unroll
    for (int nb = 0; nb < N / 8; nb += 2) {
      unsigned b[4];
      loadB(b, s, ld, nb * 8, kk * 16);
      Mma<T>::run(acc[nb], a, b[0], b[1]);
      Mma<T>::run(acc[nb + 1], a, b[2], b[3]);
    }
  }
}

template <int N>
__device__ __forceinline__ void zero(float (&acc)[N][4]) {
#pragma unroll
  for (int i = 0; i < N; ++i)
    acc[i][0] = acc[i][1] = acc[i][2] = acc[i][3] = 0.0f;
}

// Writes a warp's 16 x D accumulator (rows row0.. of a [*, stride] tensor at
// g, dims 0..D-1) times `mul`, rows at or past `valid` skipped.
template <typename T, int D>
__device__ __forceinline__ void storeRows(T *g, i64 stride,
                                          const float (&acc)[D / 8][4],
                                          int row0, i64 valid, float mul0,
                                          float mul1) {
  int lane = threadIdx.x & 31, r = row0 + (lane >> 2), c = (lane & 3) * 2;
#pragma unroll
  for (int nb = 0; nb < D / 8; ++nb) {
    if (r < valid)
      *reinterpret_cast<unsigned *>(g + r * stride + nb * 8 + c) =
          Mma<T>::pack(acc[nb][0] * mul0, acc[nb][1] * mul0);
    if (r + 8 < valid)
      *reinterpret_cast<unsigned *>(g + (r + 8) * stride + nb * 8 + c) =
          Mma<T>::pack(acc[nb][2] * mul1, acc[nb][3] * mul1);
  }
}

// storeRows (mul 1) for the gradient of a RoPE-rotated tensor: each value is
// rounded to T as storeRows would store it, rotated back at its position
// pos0 + row (ropePair, sign -1, as rope_fwd's inverse computes it) and
// stored. A lane's blocks nb and nb + D/16 hold columns j and j + D/2. The
// tables are [seq, D] f32 with 8-byte aligned rows (the arena aligns them).
template <typename T, int D>
__device__ __forceinline__ void
storeRowsRotatedBack(T *g, i64 stride, const float (&acc)[D / 8][4], int row0,
                     i64 valid, i64 pos0, const float *cos, const float *sin) {
  constexpr int kHalf = D / 2, kHalfBlocks = D / 16;
  int lane = threadIdx.x & 31, c = (lane & 3) * 2;
#pragma unroll
  for (int i = 0; i < 2; ++i) { // rows g and g + 8 of the warp's 16
    const int row = row0 + (lane >> 2) + i * 8;
    if (row >= valid)
      continue;
    // The row's table entries for this lane's columns (pairs j, j + 1 are
    // adjacent: 8-byte loads), all issued before the first is used.
    const float *cr = cos + (pos0 + row) * D + c, *sr = sin + (pos0 + row) * D + c;
    float2 cl[kHalfBlocks], sl[kHalfBlocks], ch[kHalfBlocks], sh[kHalfBlocks];
#pragma unroll
    for (int nb = 0; nb < kHalfBlocks; ++nb) {
      cl[nb] = *reinterpret_cast<const float2 *>(cr + nb * 8);
      sl[nb] = *reinterpret_cast<const float2 *>(sr + nb * 8);
      ch[nb] = *reinterpret_cast<const float2 *>(cr + kHalf + nb * 8);
      sh[nb] = *reinterpret_cast<const float2 *>(sr + kHalf + nb * 8);
    }
    T *out = g + row * stride;
#pragma unroll
    for (int nb = 0; nb < kHalfBlocks; ++nb) {
      float lo[2], hi[2];
      const float cls[2] = {cl[nb].x, cl[nb].y}, sls[2] = {sl[nb].x, sl[nb].y};
      const float chs[2] = {ch[nb].x, ch[nb].y}, shs[2] = {sh[nb].x, sh[nb].y};
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        float a = toF32(fromF32<T>(acc[nb][2 * i + e]));
        float b = toF32(fromF32<T>(acc[nb + kHalfBlocks][2 * i + e]));
        ropePair(a, b, cls[e], sls[e], chs[e], shs[e], -1.0f, lo[e], hi[e]);
      }
      *reinterpret_cast<unsigned *>(out + nb * 8 + c) =
          Mma<T>::pack(lo[0], lo[1]);
      *reinterpret_cast<unsigned *>(out + kHalf + nb * 8 + c) =
          Mma<T>::pack(hi[0], hi[1]);
    }
  }
}

// The store of a dQ or dK tile: rotated back when the tables are given.
template <typename T, int D>
__device__ __forceinline__ void
storeGrad(T *g, i64 stride, const float (&acc)[D / 8][4], int row0, i64 valid,
          i64 pos0, const float *cos, const float *sin) {
  if (cos)
    storeRowsRotatedBack<T, D>(g, stride, acc, row0, valid, pos0, cos, sin);
  else
    storeRows<T, D>(g, stride, acc, row0, valid, 1.0f, 1.0f);
}
} // namespace amma

// Forward. Block (64-query tile, query head, batch), query tiles run
// backwards (causal blocks with the most key tiles start first). Per 64-key
// tile: S = Q K^T in registers, online softmax per row (fp32 running max and
// sum, log2 units; the max is shared by the 4 lanes of a row), O = O * alpha
// + P V.
template <typename T, int D>
__global__ void __launch_bounds__(amma::kThreads)
    attention_fwd_mma(const T *q, const T *k, const T *v, T *out, float *lse,
                      i64 seq, i64 qHeads, i64 kvHeads, float scale,
                      i64 causal) {
  MIND_CHECK_SIGNATURE_T(attention_fwd, (T, D), attention_fwd_mma<T, D>);
  using namespace amma;
  constexpr int BQ = 64, BK = 64, LD = Ld<D>::kRow;
  extern __shared__ __align__(128) unsigned char smem[];
  // Q, then K/V double-buffered: buffer j at sKV + j * 2 * BK * LD (K, V).
  T *sQ = reinterpret_cast<T *>(smem), *sKV = sQ + BQ * LD;
  if (threadIdx.x == 0 &&
      attn::dynamicSmemBytes() < (BQ + 4 * BK) * LD * sizeof(T))
    __trap();
  const int b = blockIdx.z, h = blockIdx.y;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const i64 q0 = static_cast<i64>(gridDim.x - 1 - blockIdx.x) * BQ;
  const i64 kvh = h / (qHeads / kvHeads);
  const i64 qStride = qHeads * D, kvStride = kvHeads * D;
  const float sl2 = scale * attn::kLog2e, ninf = -__int_as_float(0x7f800000);
  const i64 lastQ = min(q0 + BQ, seq) - 1;
  const i64 keyTiles = causal ? lastQ / BK + 1 : (seq + BK - 1) / BK;
  auto loadKV = [&](i64 kt) {
    const i64 k0 = kt * BK, off = (b * seq + k0) * kvStride + kvh * D;
    T *sK = sKV + (kt & 1) * 2 * BK * LD;
    loadRowsAsync<T, D>(sK, LD, k + off, kvStride, BK, seq - k0);
    loadRowsAsync<T, D>(sK + BK * LD, LD, v + off, kvStride, BK, seq - k0);
    asyncCommit();
  };

  loadRowsAsync<T, D>(sQ, LD, q + (b * seq + q0) * qStride + h * D, qStride,
                      BQ, seq - q0);
  loadKV(0); // one group: Q and the first K/V
  // This thread's rows: r0 = q0 + warp*16 + g and r0 + 8.
  const i64 r0 = q0 + warp * 16 + (lane >> 2);
  float m[2] = {ninf, ninf}, l[2] = {0.0f, 0.0f};
  float o[D / 8][4];
  zero(o);
  unsigned qf[D / 16][4];
  for (i64 kt = 0; kt < keyTiles; ++kt) {
    const i64 k0 = kt * BK;
    const bool more = kt + 1 < keyTiles;
    if (more)
      loadKV(kt + 1); // into the buffer every warp left at the last barrier
    asyncWait(more);
    __syncthreads();
    if (kt == 0)
#pragma unroll
      for (int kk = 0; kk < D / 16; ++kk)
        loadA(qf[kk], sQ, LD, warp * 16, kk * 16);
    const T *sK = sKV + (kt & 1) * 2 * BK * LD, *sV = sK + BK * LD;
    float s[BK / 8][4];
    zero(s);
    mmaBt<T, BK, D>(s, qf, sK, LD);
    float mx[2] = {ninf, ninf};
#pragma unroll
    for (int nb = 0; nb < BK / 8; ++nb)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        i64 row = r0 + (e >> 1) * 8, col = k0 + nb * 8 + (lane & 3) * 2 + (e & 1);
        bool ok = col < seq && (!causal || col <= row);
        s[nb][e] = ok ? s[nb][e] * sl2 : ninf;
        mx[e >> 1] = fmaxf(mx[e >> 1], s[nb][e]);
      }
    float alpha[2], base[2], sum[2] = {0.0f, 0.0f};
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      mx[i] = fmaxf(mx[i], __shfl_xor_sync(0xffffffffu, mx[i], 1));
      mx[i] = fmaxf(mx[i], __shfl_xor_sync(0xffffffffu, mx[i], 2));
      float mNew = fmaxf(m[i], mx[i]);
      base[i] = mNew == ninf ? 0.0f : mNew; // no (-inf) - (-inf)
      alpha[i] = exp2f(m[i] - base[i]);
      m[i] = mNew;
    }
#pragma unroll
    for (int nb = 0; nb < BK / 8; ++nb)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        s[nb][e] = exp2f(s[nb][e] - base[e >> 1]);
        sum[e >> 1] += s[nb][e];
      }
#pragma unroll
    for (int i = 0; i < 2; ++i)
      l[i] = l[i] * alpha[i] + sum[i]; // this lane's columns only
#pragma unroll
    for (int nb = 0; nb < D / 8; ++nb) {
      o[nb][0] *= alpha[0];
      o[nb][1] *= alpha[0];
      o[nb][2] *= alpha[1];
      o[nb][3] *= alpha[1];
    }
    mmaFromAcc<T, D, BK>(o, s, sV, LD);
    __syncthreads(); // the next iteration refills the other buffer's pair
  }
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    l[i] += __shfl_xor_sync(0xffffffffu, l[i], 1);
    l[i] += __shfl_xor_sync(0xffffffffu, l[i], 2);
  }
  storeRows<T, D>(out + (b * seq + q0) * qStride + h * D, qStride, o,
                  warp * 16, seq - q0, 1.0f / l[0], 1.0f / l[1]);
  if ((lane & 3) == 0)
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      i64 row = r0 + i * 8;
      if (row < seq)
        lse[(b * qHeads + h) * seq + row] = (m[i] + log2f(l[i])) * attn::kLn2;
    }
}

namespace amma {
// The softmax backward on a warp's S = Q K^T and dP = dO V^T fragments, in
// two steps so that P can feed a product before dS replaces dP:
//   probabilities: s <- P = exp(scale*S - lse) (masked to 0),
//   scoreGrad:     dp <- dS = scale * P * (dP - delta).
// Fragment row r is row0 + r, column c is col0 + c. Normally rows are
// queries and columns keys, and lse2 (log2 units) / delta are indexed by the
// fragment row (0: g, 1: g+8); Transposed (the dK/dV pass) swaps that: rows
// are keys, and lse2 / delta are shared tiles indexed by the column.
template <bool Transposed>
__device__ __forceinline__ int statIndex(int e, int nb) {
  int lane = threadIdx.x & 31;
  return Transposed ? nb * 8 + (lane & 3) * 2 + (e & 1) : e >> 1;
}
template <int N, bool Transposed>
__device__ __forceinline__ void probabilities(float (&s)[N][4], i64 row0,
                                              i64 col0, i64 seq, i64 causal,
                                              float sl2, const float *lse2) {
  int lane = threadIdx.x & 31;
#pragma unroll
  for (int nb = 0; nb < N; ++nb)
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      i64 row = row0 + (lane >> 2) + (e >> 1) * 8;
      i64 col = col0 + nb * 8 + (lane & 3) * 2 + (e & 1);
      i64 qi = Transposed ? col : row, kj = Transposed ? row : col;
      bool ok = qi < seq && kj < seq && (!causal || kj <= qi);
      s[nb][e] =
          ok ? exp2f(s[nb][e] * sl2 - lse2[statIndex<Transposed>(e, nb)])
             : 0.0f;
    }
}
template <int N, bool Transposed>
__device__ __forceinline__ void scoreGrad(const float (&p)[N][4],
                                          float (&dp)[N][4],
                                          const float *delta, float scale) {
#pragma unroll
  for (int nb = 0; nb < N; ++nb)
#pragma unroll
    for (int e = 0; e < 4; ++e)
      dp[nb][e] =
          p[nb][e] * (dp[nb][e] - delta[statIndex<Transposed>(e, nb)]) * scale;
}
} // namespace amma

namespace amma {
// Backward, dQ. Block (64-query tile, query head, batch): Q and dO fragments
// stay in registers while the block walks the key tiles its queries see; per
// tile S and dP are recomputed, and dQ += dS K. With tables (cos != null),
// dQ is rotated back by RoPE as it is stored.
template <typename T, int D>
__device__ __forceinline__ void
backwardDq(const T *q, const T *k, const T *v, const T *dout, const float *lse,
           const float *delta, const float *cos, const float *sin, T *dq,
           i64 seq, i64 qHeads, i64 kvHeads, float scale, i64 causal) {
  constexpr int BQ = 64, BK = D > 96 ? 32 : 64, LD = Ld<D>::kRow;
  extern __shared__ __align__(128) unsigned char smem[];
  // Q, dO, then K/V double-buffered: buffer j at sKV + j * 2 * BK * LD.
  T *sQ = reinterpret_cast<T *>(smem), *sDO = sQ + BQ * LD;
  T *sKV = sDO + BQ * LD;
  if (threadIdx.x == 0 &&
      attn::dynamicSmemBytes() < (2 * BQ + 4 * BK) * LD * sizeof(T))
    __trap();
  const int b = blockIdx.z, h = blockIdx.y;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const i64 q0 = static_cast<i64>(gridDim.x - 1 - blockIdx.x) * BQ;
  const i64 kvh = h / (qHeads / kvHeads);
  const i64 qStride = qHeads * D, kvStride = kvHeads * D;
  const float sl2 = scale * attn::kLog2e;
  const i64 qOff = (b * seq + q0) * qStride + h * D;
  const i64 lastQ = min(q0 + BQ, seq) - 1;
  const i64 keyTiles = causal ? lastQ / BK + 1 : (seq + BK - 1) / BK;
  auto loadKV = [&](i64 kt) {
    const i64 k0 = kt * BK, off = (b * seq + k0) * kvStride + kvh * D;
    T *sK = sKV + (kt & 1) * 2 * BK * LD;
    loadRowsAsync<T, D>(sK, LD, k + off, kvStride, BK, seq - k0);
    loadRowsAsync<T, D>(sK + BK * LD, LD, v + off, kvStride, BK, seq - k0);
    asyncCommit();
  };

  loadRowsAsync<T, D>(sQ, LD, q + qOff, qStride, BQ, seq - q0);
  loadRowsAsync<T, D>(sDO, LD, dout + qOff, qStride, BQ, seq - q0);
  loadKV(0); // one group: Q, dO and the first K/V
  const i64 row0 = q0 + warp * 16;
  float lse2[2], dl[2];
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    i64 row = row0 + (lane >> 2) + i * 8;
    i64 idx = (b * qHeads + h) * seq + row;
    lse2[i] = row < seq ? lse[idx] * attn::kLog2e : 0.0f;
    dl[i] = row < seq ? delta[idx] : 0.0f;
  }
  unsigned qf[D / 16][4], df[D / 16][4];
  float acc[D / 8][4];
  zero(acc);
  for (i64 kt = 0; kt < keyTiles; ++kt) {
    const i64 k0 = kt * BK;
    const bool more = kt + 1 < keyTiles;
    if (more)
      loadKV(kt + 1);
    asyncWait(more);
    __syncthreads();
    if (kt == 0)
#pragma unroll
      for (int kk = 0; kk < D / 16; ++kk) {
        loadA(qf[kk], sQ, LD, warp * 16, kk * 16);
        loadA(df[kk], sDO, LD, warp * 16, kk * 16);
      }
    const T *sK = sKV + (kt & 1) * 2 * BK * LD, *sV = sK + BK * LD;
    float s[BK / 8][4], dp[BK / 8][4];
    zero(s);
    zero(dp);
    mmaBt<T, BK, D>(s, qf, sK, LD);
    mmaBt<T, BK, D>(dp, df, sV, LD);
    probabilities<BK / 8, false>(s, row0, k0, seq, causal, sl2, lse2);
    scoreGrad<BK / 8, false>(s, dp, dl, scale);
    mmaFromAcc<T, D, BK>(acc, dp, sK, LD); // dQ += dS K
    __syncthreads(); // the next iteration refills the other buffer
  }
  storeGrad<T, D>(dq + qOff, qStride, acc, warp * 16, seq - q0, q0, cos, sin);
}
} // namespace amma

template <typename T, int D>
__global__ void __launch_bounds__(amma::kThreads)
    attention_bwd_dq_mma(const T *q, const T *k, const T *v, const T *dout,
                         const float *lse, const float *delta, T *dq, i64 seq,
                         i64 qHeads, i64 kvHeads, float scale, i64 causal) {
  MIND_CHECK_SIGNATURE_T(attention_bwd_dq, (T, D), attention_bwd_dq_mma<T, D>);
  amma::backwardDq<T, D>(q, k, v, dout, lse, delta, nullptr, nullptr, dq, seq,
                         qHeads, kvHeads, scale, causal);
}
template <typename T, int D>
__global__ void __launch_bounds__(amma::kThreads)
    attention_bwd_dq_rope_mma(const T *q, const T *k, const T *v, const T *dout,
                              const float *lse, const float *delta,
                              const float *cos, const float *sin, T *dq,
                              i64 seq, i64 qHeads, i64 kvHeads, float scale,
                              i64 causal) {
  MIND_CHECK_SIGNATURE_T(attention_bwd_dq_rope_mma, (T, D),
                         attention_bwd_dq_rope_mma<T, D>);
  amma::backwardDq<T, D>(q, k, v, dout, lse, delta, cos, sin, dq, seq, qHeads,
                         kvHeads, scale, causal);
}

namespace amma {
// Backward, dK and dV. Block (64-key tile, KV head, batch), each warp owns
// 16 keys; the block walks every query head of the group and every query
// tile that sees its keys. Per tile, in the transposed orientation (rows are
// keys): S^T = K Q^T, dP^T = V dO^T, then dV += P^T dO and dK += dS^T Q.
// With tables (cos != null), dK is rotated back by RoPE as it is stored.
template <typename T, int D>
__device__ __forceinline__ void
backwardDkDv(const T *q, const T *k, const T *v, const T *dout,
             const float *lse, const float *delta, const float *cos,
             const float *sin, T *dk, T *dv, i64 seq, i64 qHeads, i64 kvHeads,
             float scale, i64 causal) {
  constexpr int BK = 64, BQ = D > 96 ? 32 : 64, LD = Ld<D>::kRow;
  extern __shared__ __align__(128) unsigned char smem[];
  // K, V, then double-buffered (Q, dO) tiles and their (lse, delta) rows.
  T *sK = reinterpret_cast<T *>(smem), *sV = sK + BK * LD;
  T *sQD = sV + BK * LD; // buffer j: Q at sQD + j*2*BQ*LD, dO after it
  float *sStats = reinterpret_cast<float *>(sQD + 4 * BQ * LD); // j: lse, delta
  if (threadIdx.x == 0 &&
      attn::dynamicSmemBytes() <
          static_cast<unsigned>(reinterpret_cast<unsigned char *>(sStats +
                                                                  4 * BQ) -
                                smem))
    __trap();
  const int b = blockIdx.z, kvh = blockIdx.y;
  const int warp = threadIdx.x >> 5;
  const i64 k0 = static_cast<i64>(blockIdx.x) * BK;
  const i64 group = qHeads / kvHeads;
  const i64 qStride = qHeads * D, kvStride = kvHeads * D;
  const float sl2 = scale * attn::kLog2e;
  const i64 kvOff = (b * seq + k0) * kvStride + kvh * D;
  const i64 qTiles = (seq + BQ - 1) / BQ;
  const i64 firstQt = causal ? k0 / BQ : 0; // earlier queries see no key here
  const i64 perHead = qTiles - firstQt, steps = group * perHead;
  // Step j: query head kvh * group + j / perHead, tile firstQt + j % perHead.
  auto loadStep = [&](i64 j) {
    const i64 h = kvh * group + j / perHead;
    const i64 q0 = (firstQt + j % perHead) * BQ;
    const i64 off = (b * seq + q0) * qStride + h * D;
    T *sQ = sQD + (j & 1) * 2 * BQ * LD;
    loadRowsAsync<T, D>(sQ, LD, q + off, qStride, BQ, seq - q0);
    loadRowsAsync<T, D>(sQ + BQ * LD, LD, dout + off, qStride, BQ, seq - q0);
    asyncCommit();
    float *st = sStats + (j & 1) * 2 * BQ;
    for (int r = threadIdx.x; r < BQ; r += kThreads) {
      i64 qi = q0 + r, idx = (b * qHeads + h) * seq + qi;
      st[r] = qi < seq ? lse[idx] * attn::kLog2e : 0.0f;
      st[BQ + r] = qi < seq ? delta[idx] : 0.0f;
    }
  };

  loadRowsAsync<T, D>(sK, LD, k + kvOff, kvStride, BK, seq - k0);
  loadRowsAsync<T, D>(sV, LD, v + kvOff, kvStride, BK, seq - k0);
  loadStep(0); // one group: K, V and the first Q/dO
  float dkAcc[D / 8][4], dvAcc[D / 8][4];
  zero(dkAcc);
  zero(dvAcc);
  const i64 keyRow0 = k0 + warp * 16;
  for (i64 j = 0; j < steps; ++j) {
    const bool more = j + 1 < steps;
    if (more)
      loadStep(j + 1); // into the buffer every warp left at the last barrier
    asyncWait(more);
    __syncthreads();
    const i64 q0 = (firstQt + j % perHead) * BQ;
    const T *sQ = sQD + (j & 1) * 2 * BQ * LD, *sDO = sQ + BQ * LD;
    const float *sLse = sStats + (j & 1) * 2 * BQ, *sDelta = sLse + BQ;
    float st[BQ / 8][4], dpt[BQ / 8][4];
    zero(st);
    zero(dpt);
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk) {
      unsigned kf[4], vf[4];
      loadA(kf, sK, LD, warp * 16, kk * 16);
      loadA(vf, sV, LD, warp * 16, kk * 16);
#pragma unroll
      for (int nb = 0; nb < BQ / 8; nb += 2) {
        unsigned bq[4], bd[4];
        loadBt(bq, sQ, LD, nb * 8, kk * 16);
        loadBt(bd, sDO, LD, nb * 8, kk * 16);
        Mma<T>::run(st[nb], kf, bq[0], bq[1]);
        Mma<T>::run(st[nb + 1], kf, bq[2], bq[3]);
        Mma<T>::run(dpt[nb], vf, bd[0], bd[1]);
        Mma<T>::run(dpt[nb + 1], vf, bd[2], bd[3]);
      }
    }
    probabilities<BQ / 8, true>(st, keyRow0, q0, seq, causal, sl2, sLse);
    mmaFromAcc<T, D, BQ>(dvAcc, st, sDO, LD); // dV += P^T dO
    scoreGrad<BQ / 8, true>(st, dpt, sDelta, scale);
    mmaFromAcc<T, D, BQ>(dkAcc, dpt, sQ, LD); // dK += dS^T Q
    __syncthreads(); // the next step refills the other buffer
  }
  storeGrad<T, D>(dk + kvOff, kvStride, dkAcc, warp * 16, seq - k0, k0, cos,
                  sin);
  storeRows<T, D>(dv + kvOff, kvStride, dvAcc, warp * 16, seq - k0, 1.0f,
                  1.0f);
}
} // namespace amma

template <typename T, int D>
__global__ void __launch_bounds__(amma::kThreads)
    attention_bwd_dkdv_mma(const T *q, const T *k, const T *v, const T *dout,
                           const float *lse, const float *delta, T *dk, T *dv,
                           i64 seq, i64 qHeads, i64 kvHeads, float scale,
                           i64 causal) {
  MIND_CHECK_SIGNATURE_T(attention_bwd, (T, D), attention_bwd_dkdv_mma<T, D>);
  amma::backwardDkDv<T, D>(q, k, v, dout, lse, delta, nullptr, nullptr, dk, dv,
                           seq, qHeads, kvHeads, scale, causal);
}
template <typename T, int D>
__global__ void __launch_bounds__(amma::kThreads)
    attention_bwd_dkdv_rope_mma(const T *q, const T *k, const T *v,
                                const T *dout, const float *lse,
                                const float *delta, const float *cos,
                                const float *sin, T *dk, T *dv, i64 seq,
                                i64 qHeads, i64 kvHeads, float scale,
                                i64 causal) {
  MIND_CHECK_SIGNATURE_T(attention_bwd_dkdv_rope_mma, (T, D),
                         attention_bwd_dkdv_rope_mma<T, D>);
  amma::backwardDkDv<T, D>(q, k, v, dout, lse, delta, cos, sin, dk, dv, seq,
                           qHeads, kvHeads, scale, causal);
}
} // namespace mind
