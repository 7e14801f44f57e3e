// Grouped-query attention, forward and backward, flash-attention style: a
// block owns a tile of queries (forward, dQ) or keys (dK/dV) and streams the
// other side through shared memory; softmax statistics are kept in fp32 and
// no S x S matrix ever reaches global memory. No float atomics: every output
// element is summed by one block in a fixed order, so runs are bitwise
// reproducible (what an exact resume needs). Launch rules: AttentionSpecs.h;
// parameters: KernelSignatures.h.
//
// This file is the fp32-storage path (16-bit storage runs the tensor-core
// kernels of attention_mma.cuh): every tile product goes through
// TileMma<float>, a block-wide C[M,N] (+)= A * B of shared-memory tiles as a
// register-blocked fp32 FMA loop (TF32 tensor cores would miss the f32
// tolerance). It is the exact path the golden fp32 tests run, not a fast
// one.
#pragma once

namespace mind {
namespace attn {
constexpr int kThreads = 128; // 4 warps; every attention kernel uses this
constexpr int kWarps = kThreads / 32;
constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

// Tile shapes and padded leading dimensions (in elements) of the shared
// tiles: rows pad by 1 so that the FMA loops, which walk rows and columns
// alike, see no bank conflicts. P and dS overwrite S and dP in place (same
// element, same thread). KEEP IN SYNC with AttentionSpecs.cpp, which sizes
// the dynamic shared memory from these.
template <typename T, int D> struct Cfg {
  static_assert(sizeof(T) == 4, "16-bit storage runs attention_mma.cuh");
  static constexpr int kKeyTile = D > 64 ? 32 : 64; // BK (both passes)
  static constexpr int kFwdQTile = 64;                // BQ, forward
  static constexpr int kBwdQTile = 32;                // BQ, dK/dV pass
  static constexpr int kDqQTile = 32;                 // BQ, dQ pass
  static constexpr int kLdT = D + 1;                  // Q/K/V/dO rows
  static constexpr int kLdS = kKeyTile + 1;           // S/P, dP/dS
  static constexpr int kLdO = D + 1;                  // O/dK/dV/dQ
  static_assert(D == 16 || D == 32 || D == 64 || D == 96 || D == 128,
                "head dim");
};

__device__ __forceinline__ unsigned dynamicSmemBytes() {
  unsigned r;
  asm volatile("mov.u32 %0, %%dynamic_smem_size;" : "=r"(r));
  return r;
}

// C[M,N] (+)= op(A)[M,K] * op(B)[K,N] over the whole block (all kThreads
// threads must call it). op(A)(m,k) = TA ? A[k*lda+m] : A[m*lda+k];
// op(B)(k,n) = TB ? B[n*ldb+k] : B[k*ldb+n]. C is fp32, ACC adds to it.
// The caller synchronizes before (inputs written) and after (C read).
template <typename T> struct TileMma; // fp32 only (below)

template <> struct TileMma<float> {
  // fp32 FMA: 16 threads across N, 8 down M; each thread owns a strided
  // (M/8) x (N/16) micro-tile, so a warp reads 2 rows of A (broadcast) and
  // 16 consecutive columns of B per k.
  template <int M, int N, int K, bool TA, bool TB, bool ACC>
  static __device__ __forceinline__ void run(float *C, int ldc, const float *A,
                                             int lda, const float *B, int ldb) {
    constexpr int TC = 16, TR = kThreads / TC;
    static_assert(M % TR == 0 && N % TC == 0, "fma tiles");
    constexpr int TM = M / TR, TN = N / TC;
    int c0 = threadIdx.x % TC, r0 = threadIdx.x / TC;
    float acc[TM][TN];
#pragma unroll
    for (int i = 0; i < TM; ++i)
#pragma unroll
      for (int j = 0; j < TN; ++j)
        acc[i][j] = ACC ? C[(r0 + i * TR) * ldc + c0 + j * TC] : 0.0f;
#pragma unroll 4
    for (int k = 0; k < K; ++k) {
      float a[TM], b[TN];
#pragma unroll
      for (int i = 0; i < TM; ++i) {
        int m = r0 + i * TR;
        a[i] = TA ? A[k * lda + m] : A[m * lda + k];
      }
#pragma unroll
      for (int j = 0; j < TN; ++j) {
        int n = c0 + j * TC;
        b[j] = TB ? B[n * ldb + k] : B[k * ldb + n];
      }
#pragma unroll
      for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; ++j)
          acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
    }
#pragma unroll
    for (int i = 0; i < TM; ++i)
#pragma unroll
      for (int j = 0; j < TN; ++j)
        C[(r0 + i * TR) * ldc + c0 + j * TC] = acc[i][j];
  }
};

// Copies `rows` rows of D elements (global row r at g + r * stride) into a
// shared tile with leading dimension ld; rows at or past `valid` are zeroed
// (so padding keys contribute exact zeros, never garbage). 16-byte global
// loads: D * sizeof(T) is a multiple of 16 and rows start 16-byte aligned.
template <typename T, int D>
__device__ __forceinline__ void loadRows(T *s, int ld, const T *g, i64 stride,
                                         int rows, i64 valid) {
  constexpr int kVec = 16 / sizeof(T), kChunks = D / kVec;
  for (int idx = threadIdx.x; idx < rows * kChunks; idx += kThreads) {
    int r = idx / kChunks, c = idx % kChunks * kVec;
    if constexpr (sizeof(T) == 4) { // float rows are padded by 1: per element
      float4 v = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
      if (r < valid)
        v = *reinterpret_cast<const float4 *>(g + r * stride + c);
      T *d = s + r * ld + c;
      d[0] = v.x, d[1] = v.y, d[2] = v.z, d[3] = v.w;
    } else { // padded 16-bit rows stay 16-byte aligned
      uint4 v = make_uint4(0, 0, 0, 0);
      if (r < valid)
        v = *reinterpret_cast<const uint4 *>(g + r * stride + c);
      *reinterpret_cast<uint4 *>(s + r * ld + c) = v;
    }
  }
}
} // namespace attn

// Forward. Block (query tile, query head, batch); the grid's x runs the
// query tiles backwards so that causal blocks with the most key tiles start
// first. Per key tile: S = Q K^T; online softmax per row (one warp per row,
// fp32 running max m and sum l, in log2 units); O = O * alpha + P V.
template <typename T, int D>
__global__ void __launch_bounds__(attn::kThreads)
    attention_fwd(const T *q, const T *k, const T *v, T *out, float *lse,
                  i64 seq, i64 qHeads, i64 kvHeads, float scale, i64 causal) {
  MIND_CHECK_SIGNATURE_T(attention_fwd, (T, D), attention_fwd<T, D>);
  typedef attn::Cfg<T, D> C;
  constexpr int BQ = C::kFwdQTile, BK = C::kKeyTile;
  constexpr int ldT = C::kLdT, ldP = C::kLdS, ldS = C::kLdS, ldO = C::kLdO;
  extern __shared__ __align__(128) unsigned char smem[];
  T *sQ = reinterpret_cast<T *>(smem);
  T *sK = sQ + BQ * ldT, *sV = sK + BK * ldT;
  float *sS = reinterpret_cast<float *>(sV + BK * ldT);
  float *sO = sS + BQ * ldS, *sM = sO + BQ * ldO, *sL = sM + BQ;
  T *sP = sS; // P overwrites S (same element, same thread)
  if (threadIdx.x == 0 &&
      attn::dynamicSmemBytes() <
          static_cast<unsigned>(reinterpret_cast<unsigned char *>(sL + BQ) -
                                smem))
    __trap(); // launched with less shared memory than the layout needs

  const int b = blockIdx.z, h = blockIdx.y;
  const i64 q0 = static_cast<i64>(gridDim.x - 1 - blockIdx.x) * BQ;
  const i64 kvh = h / (qHeads / kvHeads);
  const i64 qStride = qHeads * D, kvStride = kvHeads * D;
  const float sl2 = scale * attn::kLog2e;
  const float ninf = -__int_as_float(0x7f800000);

  attn::loadRows<T, D>(sQ, ldT, q + (b * seq + q0) * qStride + h * D, qStride,
                       BQ, seq - q0);
  for (int i = threadIdx.x; i < BQ * ldO; i += attn::kThreads)
    sO[i] = 0.0f;
  for (int i = threadIdx.x; i < BQ; i += attn::kThreads) {
    sM[i] = ninf;
    sL[i] = 0.0f;
  }
  i64 lastQ = min(q0 + BQ, seq) - 1;
  i64 keyTiles = causal ? lastQ / BK + 1 : (seq + BK - 1) / BK;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  constexpr int kPerLane = (BK + 31) / 32;

  for (i64 kt = 0; kt < keyTiles; ++kt) {
    i64 k0 = kt * BK;
    const i64 kvOff = (b * seq + k0) * kvStride + kvh * D;
    attn::loadRows<T, D>(sK, ldT, k + kvOff, kvStride, BK, seq - k0);
    attn::loadRows<T, D>(sV, ldT, v + kvOff, kvStride, BK, seq - k0);
    __syncthreads();
    attn::TileMma<T>::template run<BQ, BK, D, false, true, false>(sS, ldS, sQ,
                                                                  ldT, sK, ldT);
    __syncthreads();
    for (int r = warp; r < BQ; r += attn::kWarps) {
      i64 qi = q0 + r;
      float s[kPerLane], mx = ninf;
#pragma unroll
      for (int e = 0; e < kPerLane; ++e) {
        int c = lane + 32 * e;
        i64 kj = k0 + c;
        bool ok = c < BK && kj < seq && (!causal || kj <= qi);
        s[e] = ok ? sS[r * ldS + c] * sl2 : ninf;
        mx = fmaxf(mx, s[e]);
      }
      float mOld = sM[r];
      float mNew = fmaxf(mOld, warpMax(mx));
      float base = mNew == ninf ? 0.0f : mNew; // no (-inf) - (-inf)
      float sum = 0.0f;
#pragma unroll
      for (int e = 0; e < kPerLane; ++e) {
        int c = lane + 32 * e;
        float p = exp2f(s[e] - base);
        if (c < BK)
          sP[r * ldP + c] = fromF32<T>(p);
        sum += p;
      }
      sum = warpSum(sum);
      float alpha = exp2f(mOld - base);
      for (int c = lane; c < D; c += 32)
        sO[r * ldO + c] *= alpha;
      __syncwarp();
      if (lane == 0) {
        sM[r] = mNew;
        sL[r] = sL[r] * alpha + sum;
      }
    }
    __syncthreads();
    attn::TileMma<T>::template run<BQ, D, BK, false, false, true>(sO, ldO, sP,
                                                                  ldP, sV, ldT);
    __syncthreads();
  }

  for (int r = warp; r < BQ; r += attn::kWarps) {
    i64 qi = q0 + r;
    if (qi >= seq)
      break;
    float l = sL[r], inv = 1.0f / l;
    T *o = out + (b * seq + qi) * qStride + h * D;
    for (int c = lane; c < D; c += 32)
      o[c] = fromF32<T>(sO[r * ldO + c] * inv);
    if (lane == 0)
      lse[(b * qHeads + h) * seq + qi] = (sM[r] + log2f(l)) * attn::kLn2;
  }
}

// Backward preprocessing: delta[b,h,i] = sum_d dout * out (fp32). A warp
// takes kPrepRows (b, i, h) rows at a time (their loads in flight together;
// one row alone keeps too few bytes in flight), grid stride; each row is
// summed per lane over columns lane, lane + 32, ..., then across the warp.
constexpr int kPrepRows = 4;

template <typename T>
__global__ void __launch_bounds__(256)
    attention_bwd_prep(const T *out, const T *dout, float *delta, i64 batch,
                       i64 seq, i64 qHeads, i64 headDim) {
  MIND_CHECK_SIGNATURE_T(attention_bwd_prep, (T), attention_bwd_prep<T>);
  const i64 rows = batch * seq * qHeads;
  const int lane = threadIdx.x & 31;
  const i64 warps = static_cast<i64>(gridDim.x) * (blockDim.x / 32);
  for (i64 row0 = (static_cast<i64>(blockIdx.x) * blockDim.x + threadIdx.x) /
                  32 * kPrepRows;
       row0 < rows; row0 += warps * kPrepRows) { // warp-uniform
    float acc[kPrepRows] = {};
    for (i64 c = lane; c < headDim; c += 32)
#pragma unroll
      for (int r = 0; r < kPrepRows; ++r)
        if (row0 + r < rows)
          acc[r] += toF32(out[(row0 + r) * headDim + c]) *
                    toF32(dout[(row0 + r) * headDim + c]);
#pragma unroll
    for (int r = 0; r < kPrepRows; ++r) {
      float sum = warpSum(acc[r]);
      i64 row = row0 + r;
      if (lane == 0 && row < rows) {
        i64 h = row % qHeads, i = row / qHeads % seq, b = row / (qHeads * seq);
        delta[(b * qHeads + h) * seq + i] = sum;
      }
    }
  }
}

namespace attn {
// The shared backward step of both passes, on one (query tile, key tile)
// pair whose S = Q K^T and dP = dO V^T are in sS / sDP:
// P = exp(scale*S - lse) (masked), dS = scale * P * (dP - delta), stored in
// the storage type (sP may be null: the dQ pass needs dS only).
template <typename T, int BQ, int BK>
__device__ __forceinline__ void softmaxGradTile(
    const float *sS, const float *sDP, int ldS, T *sP, T *sDS, int ldP,
    const float *sLse, const float *sDelta, i64 q0, i64 k0, i64 seq,
    float sl2, float scale, i64 causal) {
  for (int idx = threadIdx.x; idx < BQ * BK; idx += kThreads) {
    int r = idx / BK, c = idx % BK;
    i64 qi = q0 + r, kj = k0 + c;
    bool ok = qi < seq && kj < seq && (!causal || kj <= qi);
    float p = ok ? exp2f(sS[r * ldS + c] * sl2 - sLse[r]) : 0.0f;
    float ds = p * (sDP[r * ldS + c] - sDelta[r]) * scale;
    if (sP)
      sP[r * ldP + c] = fromF32<T>(p);
    sDS[r * ldP + c] = fromF32<T>(ds);
  }
}

// lse (to log2 units) and delta of query rows q0.. of head h.
template <int BQ>
__device__ __forceinline__ void loadRowStats(float *sLse, float *sDelta,
                                             const float *lse,
                                             const float *delta, i64 base,
                                             i64 q0, i64 seq) {
  for (int r = threadIdx.x; r < BQ; r += kThreads) {
    i64 qi = q0 + r;
    sLse[r] = qi < seq ? lse[base + qi] * kLog2e : 0.0f;
    sDelta[r] = qi < seq ? delta[base + qi] : 0.0f;
  }
}
} // namespace attn

// Backward, dK and dV. Block (key tile, KV head, batch): K/V stay in shared
// memory while the block walks every query head of the group and every query
// tile that sees the keys, accumulating dK/dV in fp32 shared tiles. Each
// element is written by one block in a fixed order: deterministic.
template <typename T, int D>
__global__ void __launch_bounds__(attn::kThreads)
    attention_bwd(const T *q, const T *k, const T *v, const T *dout,
                  const float *lse, const float *delta, T *dk, T *dv, i64 seq,
                  i64 qHeads, i64 kvHeads, float scale, i64 causal) {
  MIND_CHECK_SIGNATURE_T(attention_bwd, (T, D), attention_bwd<T, D>);
  typedef attn::Cfg<T, D> C;
  constexpr int BQ = C::kBwdQTile, BK = C::kKeyTile;
  constexpr int ldT = C::kLdT, ldP = C::kLdS, ldS = C::kLdS, ldO = C::kLdO;
  extern __shared__ __align__(128) unsigned char smem[];
  T *sK = reinterpret_cast<T *>(smem);
  T *sV = sK + BK * ldT, *sQ = sV + BK * ldT, *sDO = sQ + BQ * ldT;
  float *sS = reinterpret_cast<float *>(sDO + BQ * ldT);
  float *sDP = sS + BQ * ldS, *sDK = sDP + BQ * ldS, *sDV = sDK + BK * ldO;
  float *sLse = sDV + BK * ldO, *sDelta = sLse + BQ;
  T *sP = sS, *sDS = sDP; // P and dS overwrite S and dP in place
  if (threadIdx.x == 0 &&
      attn::dynamicSmemBytes() <
          static_cast<unsigned>(reinterpret_cast<unsigned char *>(sDelta + BQ) -
                                smem))
    __trap();

  const int b = blockIdx.z, kvh = blockIdx.y;
  const i64 k0 = static_cast<i64>(blockIdx.x) * BK;
  const i64 group = qHeads / kvHeads;
  const i64 qStride = qHeads * D, kvStride = kvHeads * D;
  const float sl2 = scale * attn::kLog2e;

  const i64 kvOff = (b * seq + k0) * kvStride + kvh * D;
  attn::loadRows<T, D>(sK, ldT, k + kvOff, kvStride, BK, seq - k0);
  attn::loadRows<T, D>(sV, ldT, v + kvOff, kvStride, BK, seq - k0);
  for (int i = threadIdx.x; i < BK * ldO; i += attn::kThreads)
    sDK[i] = sDV[i] = 0.0f;
  const i64 qTiles = (seq + BQ - 1) / BQ;
  const i64 firstQt = causal ? k0 / BQ : 0; // earlier queries see no key here

  for (i64 g = 0; g < group; ++g) {
    const i64 h = kvh * group + g;
    for (i64 qt = firstQt; qt < qTiles; ++qt) {
      const i64 q0 = qt * BQ;
      const i64 qOff = (b * seq + q0) * qStride + h * D;
      attn::loadRows<T, D>(sQ, ldT, q + qOff, qStride, BQ, seq - q0);
      attn::loadRows<T, D>(sDO, ldT, dout + qOff, qStride, BQ, seq - q0);
      attn::loadRowStats<BQ>(sLse, sDelta, lse, delta, (b * qHeads + h) * seq,
                             q0, seq);
      __syncthreads();
      attn::TileMma<T>::template run<BQ, BK, D, false, true, false>(
          sS, ldS, sQ, ldT, sK, ldT);
      attn::TileMma<T>::template run<BQ, BK, D, false, true, false>(
          sDP, ldS, sDO, ldT, sV, ldT);
      __syncthreads();
      attn::softmaxGradTile<T, BQ, BK>(sS, sDP, ldS, sP, sDS, ldP, sLse,
                                       sDelta, q0, k0, seq, sl2, scale,
                                       causal);
      __syncthreads();
      attn::TileMma<T>::template run<BK, D, BQ, true, false, true>(
          sDV, ldO, sP, ldP, sDO, ldT); // dV += P^T dO
      attn::TileMma<T>::template run<BK, D, BQ, true, false, true>(
          sDK, ldO, sDS, ldP, sQ, ldT); // dK += dS^T Q
      __syncthreads(); // the next tile's loads overwrite sQ/sDO/sLse/sDelta
    }
  }
  for (int idx = threadIdx.x; idx < BK * D; idx += attn::kThreads) {
    int r = idx / D, c = idx % D;
    if (k0 + r < seq) {
      i64 o = kvOff + r * kvStride + c;
      dk[o] = fromF32<T>(sDK[r * ldO + c]);
      dv[o] = fromF32<T>(sDV[r * ldO + c]);
    }
  }
}

// Backward, dQ. Block (query tile, query head, batch), like the forward: Q,
// dO and the row statistics stay in shared memory while the block walks the
// key tiles its queries see, recomputing S and dP (two more tile products
// than an atomic dQ in the dK/dV pass, the price of a fixed summation order:
// runs are bitwise reproducible). dQ = sum over key tiles of dS K.
template <typename T, int D>
__global__ void __launch_bounds__(attn::kThreads)
    attention_bwd_dq(const T *q, const T *k, const T *v, const T *dout,
                     const float *lse, const float *delta, T *dq, i64 seq,
                     i64 qHeads, i64 kvHeads, float scale, i64 causal) {
  MIND_CHECK_SIGNATURE_T(attention_bwd_dq, (T, D), attention_bwd_dq<T, D>);
  typedef attn::Cfg<T, D> C;
  constexpr int BQ = C::kDqQTile, BK = C::kKeyTile;
  constexpr int ldT = C::kLdT, ldP = C::kLdS, ldS = C::kLdS, ldO = C::kLdO;
  extern __shared__ __align__(128) unsigned char smem[];
  T *sQ = reinterpret_cast<T *>(smem);
  T *sDO = sQ + BQ * ldT, *sK = sDO + BQ * ldT, *sV = sK + BK * ldT;
  float *sS = reinterpret_cast<float *>(sV + BK * ldT);
  float *sDP = sS + BQ * ldS, *sDQ = sDP + BQ * ldS;
  float *sLse = sDQ + BQ * ldO, *sDelta = sLse + BQ;
  T *sDS = sDP; // dS overwrites dP in place
  if (threadIdx.x == 0 &&
      attn::dynamicSmemBytes() <
          static_cast<unsigned>(reinterpret_cast<unsigned char *>(sDelta + BQ) -
                                smem))
    __trap();

  const int b = blockIdx.z, h = blockIdx.y;
  const i64 q0 = static_cast<i64>(gridDim.x - 1 - blockIdx.x) * BQ;
  const i64 kvh = h / (qHeads / kvHeads);
  const i64 qStride = qHeads * D, kvStride = kvHeads * D;
  const float sl2 = scale * attn::kLog2e;

  const i64 qOff = (b * seq + q0) * qStride + h * D;
  attn::loadRows<T, D>(sQ, ldT, q + qOff, qStride, BQ, seq - q0);
  attn::loadRows<T, D>(sDO, ldT, dout + qOff, qStride, BQ, seq - q0);
  attn::loadRowStats<BQ>(sLse, sDelta, lse, delta, (b * qHeads + h) * seq, q0,
                         seq);
  for (int i = threadIdx.x; i < BQ * ldO; i += attn::kThreads)
    sDQ[i] = 0.0f;
  i64 lastQ = min(q0 + BQ, seq) - 1;
  i64 keyTiles = causal ? lastQ / BK + 1 : (seq + BK - 1) / BK;

  for (i64 kt = 0; kt < keyTiles; ++kt) {
    const i64 k0 = kt * BK;
    const i64 kvOff = (b * seq + k0) * kvStride + kvh * D;
    attn::loadRows<T, D>(sK, ldT, k + kvOff, kvStride, BK, seq - k0);
    attn::loadRows<T, D>(sV, ldT, v + kvOff, kvStride, BK, seq - k0);
    __syncthreads();
    attn::TileMma<T>::template run<BQ, BK, D, false, true, false>(
        sS, ldS, sQ, ldT, sK, ldT);
    attn::TileMma<T>::template run<BQ, BK, D, false, true, false>(
        sDP, ldS, sDO, ldT, sV, ldT);
    __syncthreads();
    attn::softmaxGradTile<T, BQ, BK>(sS, sDP, ldS, static_cast<T *>(nullptr),
                                     sDS, ldP, sLse, sDelta, q0, k0, seq, sl2,
                                     scale, causal);
    __syncthreads();
    attn::TileMma<T>::template run<BQ, D, BK, false, false, true>(
        sDQ, ldO, sDS, ldP, sK, ldT); // dQ += dS K
    __syncthreads(); // the next key tile overwrites sK/sV
  }
  for (int idx = threadIdx.x; idx < BQ * D; idx += attn::kThreads) {
    int r = idx / D, c = idx % D;
    if (q0 + r < seq)
      dq[qOff + r * qStride + c] = fromF32<T>(sDQ[r * ldO + c]);
  }
}
} // namespace mind
