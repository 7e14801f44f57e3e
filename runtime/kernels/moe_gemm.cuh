// Grouped GEMM of the mixture-of-experts layers (OpSet.md `grouped_linear`
// and its gradient): the routed rows of expert e (offsets[e] ..< offsets[e+1],
// read on the device) times that expert's weight [N, K]. Launch rules:
// MoeSpecs.h; parameters: KernelSignatures.h.
//
// The E expert weights (and weight gradients) arrive as a device array of
// E pointers (a buffer-array argument of the plan); each block reads its
// expert's pointer once.
//
// Tiles of 64x64 outputs with fp32 accumulation: 16-bit storage types use
// tensor cores (WMMA 16x16x16, 4 warps of 32x32), float uses a SIMT tile
// (256 threads of 4x4) so that f32 stays exact to fp32 rounding (no TF32).
#pragma once
#include <mma.h>


namespace mind {
namespace moe_gemm {
constexpr int kBM = 64, kBN = 64;
// Threads per block: must match MoeSpecs.cpp.
template <typename T> constexpr int threads() {
  return sizeof(T) == 2 ? 128 : 256;
}

template <bool C, typename A, typename B> struct Pick { typedef A type; };
template <typename A, typename B> struct Pick<false, A, B> { typedef B type; };

// Copies the I x L tile at (i0, l0) of an operand whose element (i, l) lives
// at g[i*ld + l] (LC: l contiguous) or g[l*ld + i] into shared memory laid
// out the same way: s[i*(L+PAD) + l] or s[l*(I+PAD) + i]. Elements with
// i >= iLim or l >= lLim read as zero (tails, other experts' rows). Global
// reads are 16-byte chunks where aligned and in bounds.
template <typename T, bool LC, int I, int L, int PAD, int THREADS>
__device__ __forceinline__ void loadTile(T *s, const T *g, i64 ld, i64 iLim,
                                         i64 lLim, i64 i0, i64 l0) {
  constexpr int V = 16 / sizeof(T);
  constexpr int C = LC ? L : I; // contiguous extent
  constexpr int R = LC ? I : L; // strided extent
  constexpr int PER_ROW = C / V;
  i64 row0 = LC ? i0 : l0, col0 = LC ? l0 : i0;
  i64 rowLim = LC ? iLim : lLim, colLim = LC ? lLim : iLim;
  const T zero = fromF32<T>(0.0f);
  for (int q = threadIdx.x; q < R * PER_ROW; q += THREADS) {
    int sr = q / PER_ROW, c = (q % PER_ROW) * V;
    i64 gr = row0 + sr, gc = col0 + c;
    T *dst = s + sr * (C + PAD) + c;
    // Type punning through memcpy (register moves), not pointer casts.
    T v[V];
    const T *p = g + gr * ld + gc;
    if (gr < rowLim && gc + V <= colLim &&
        (reinterpret_cast<unsigned long long>(p) & 15ull) == 0) {
      uint4 raw = *reinterpret_cast<const uint4 *>(p);
      memcpy(v, &raw, 16);
    } else {
#pragma unroll
      for (int x = 0; x < V; ++x)
        v[x] = gr < rowLim && gc + x < colLim ? p[x] : zero;
    }
    if constexpr ((C + PAD) * sizeof(T) % 16 == 0) {
      uint4 raw;
      memcpy(&raw, v, 16);
      *reinterpret_cast<uint4 *>(dst) = raw;
    } else {
#pragma unroll
      for (int x = 0; x < V; ++x)
        dst[x] = v[x];
    }
  }
}

// c[m*ldc + n] = sum_l A(m, l) B(l, n) for m in [m0, m0+64) ∩ [0, M),
// n in [n0, n0+64) ∩ [0, Nn), l in [0, L); A(m, l) = a[m*lda + l] (ALC) or
// a[l*lda + m], B(l, n) = b[n*ldb + l] (BLC) or b[l*ldb + n].
template <typename T, bool ALC, bool BLC, typename OutT>
__device__ __forceinline__ void gemmSimt(const T *a, i64 lda, const T *b,
                                         i64 ldb, i64 M, i64 Nn, i64 L, i64 m0,
                                         i64 n0, OutT *c, i64 ldc) {
  constexpr int BK = 16, PAD = 1, NT = 256;
  constexpr int LDA = ALC ? BK + PAD : kBM + PAD;
  constexpr int LDB = BLC ? BK + PAD : kBN + PAD;
  __shared__ T As[ALC ? kBM * LDA : BK * LDA];
  __shared__ T Bs[BLC ? kBN * LDB : BK * LDB];
  int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  float acc[4][4];
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j)
      acc[i][j] = 0.0f;
  for (i64 l0 = 0; l0 < L; l0 += BK) {
    loadTile<T, ALC, kBM, BK, PAD, NT>(As, a, lda, M, L, m0, l0);
    loadTile<T, BLC, kBN, BK, PAD, NT>(Bs, b, ldb, Nn, L, n0, l0);
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < BK; ++kk) {
      float av[4], bv[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        int m = ty + 16 * i, n = tx + 16 * i;
        av[i] = toF32(ALC ? As[m * LDA + kk] : As[kk * LDA + m]);
        bv[i] = toF32(BLC ? Bs[n * LDB + kk] : Bs[kk * LDB + n]);
      }
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j)
          acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      i64 m = m0 + ty + 16 * i, n = n0 + tx + 16 * j;
      if (m < M && n < Nn)
        c[m * ldc + n] = fromF32<OutT>(acc[i][j]);
    }
}

// gemmSimt's contract on tensor cores (T = __nv_bfloat16 or __half).
template <typename T, bool ALC, bool BLC, typename OutT>
__device__ __forceinline__ void gemmWmma(const T *a, i64 lda, const T *b,
                                         i64 ldb, i64 M, i64 Nn, i64 L, i64 m0,
                                         i64 n0, OutT *c, i64 ldc) {
  namespace wmma = nvcuda::wmma;
  constexpr int BK = 32, PAD = 8, NT = 128, LDC = kBN + 4;
  constexpr int LDA = ALC ? BK + PAD : kBM + PAD;
  constexpr int LDB = BLC ? BK + PAD : kBN + PAD;
  typedef typename Pick<ALC, wmma::row_major, wmma::col_major>::type LayA;
  typedef typename Pick<BLC, wmma::col_major, wmma::row_major>::type LayB;
  // wmma pointers must be 32-byte aligned: every offset used below is.
  __shared__ __align__(128) T As[ALC ? kBM * LDA : BK * LDA];
  __shared__ __align__(128) T Bs[BLC ? kBN * LDB : BK * LDB];
  __shared__ __align__(128) float Cs[kBM * LDC];
  int warp = threadIdx.x / 32, wm = warp / 2, wn = warp % 2;
  wmma::fragment<wmma::accumulator, 16, 16, 16, float> fc[2][2];
#pragma unroll
  for (int i = 0; i < 2; ++i)
#pragma unroll
    for (int j = 0; j < 2; ++j)
      wmma::fill_fragment(fc[i][j], 0.0f);
  for (i64 l0 = 0; l0 < L; l0 += BK) {
    loadTile<T, ALC, kBM, BK, PAD, NT>(As, a, lda, M, L, m0, l0);
    loadTile<T, BLC, kBN, BK, PAD, NT>(Bs, b, ldb, Nn, L, n0, l0);
    __syncthreads();
#pragma unroll
    for (int ks = 0; ks < BK; ks += 16) {
      wmma::fragment<wmma::matrix_a, 16, 16, 16, T, LayA> fa[2];
      wmma::fragment<wmma::matrix_b, 16, 16, 16, T, LayB> fb[2];
#pragma unroll
      for (int i = 0; i < 2; ++i) {
        int m = wm * 32 + i * 16, n = wn * 32 + i * 16;
        wmma::load_matrix_sync(
            fa[i], ALC ? &As[m * LDA + ks] : &As[ks * LDA + m], LDA);
        wmma::load_matrix_sync(
            fb[i], BLC ? &Bs[n * LDB + ks] : &Bs[ks * LDB + n], LDB);
      }
#pragma unroll
      for (int i = 0; i < 2; ++i)
#pragma unroll
        for (int j = 0; j < 2; ++j)
          wmma::mma_sync(fc[i][j], fa[i], fb[j], fc[i][j]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < 2; ++i)
#pragma unroll
    for (int j = 0; j < 2; ++j)
      wmma::store_matrix_sync(&Cs[(wm * 32 + i * 16) * LDC + wn * 32 + j * 16],
                              fc[i][j], LDC, wmma::mem_row_major);
  __syncthreads();
  for (int q = threadIdx.x; q < kBM * kBN; q += NT) {
    int mi = q / kBN, ni = q % kBN;
    i64 m = m0 + mi, n = n0 + ni;
    if (m < M && n < Nn)
      c[m * ldc + n] = fromF32<OutT>(Cs[mi * LDC + ni]);
  }
}

template <typename T, bool ALC, bool BLC, typename OutT>
__device__ __forceinline__ void gemm(const T *a, i64 lda, const T *b, i64 ldb,
                                     i64 M, i64 Nn, i64 L, i64 m0, i64 n0,
                                     OutT *c, i64 ldc) {
  if constexpr (sizeof(T) == 2)
    gemmWmma<T, ALC, BLC, OutT>(a, lda, b, ldb, M, Nn, L, m0, n0, c, ldc);
  else
    gemmSimt<T, ALC, BLC, OutT>(a, lda, b, ldb, M, Nn, L, m0, n0, c, ldc);
}

// Maps blockIdx.x to (expert, first row, rows left in the expert) by walking
// the experts' ceil(count / 64) row tiles; false for a block past the last
// tile (the grid is sized for the worst case ceil(R/64) + E tiles).
__device__ __forceinline__ bool rowTile(const i64 *offsets, i64 experts, int &e,
                                        i64 &row0, i64 &rowsLeft) {
  i64 tile = blockIdx.x;
  for (e = 0; e < experts; ++e) {
    i64 begin = offsets[e], count = offsets[e + 1] - begin;
    i64 tiles = (count + kBM - 1) / kBM;
    if (tile < tiles) {
      row0 = begin + tile * kBM;
      rowsLeft = count - tile * kBM;
      return true;
    }
    tile -= tiles;
  }
  return false;
}
} // namespace moe_gemm

// y[r] = x[r] @ w_e^T for r in expert e's rows. Grid (ceil(R/64) + E,
// ceil(N/64)); blocks past the last row tile exit.
template <typename T>
__global__ void __launch_bounds__(256)
    moe_grouped_linear_fwd(const T *x, const i64 *offsets, T *y, i64 rows,
                           i64 K, i64 N, i64 experts, const T *const *w) {
  MIND_CHECK_SIGNATURE_T(moe_grouped_linear_fwd, (T), moe_grouped_linear_fwd<T>);
  int e;
  i64 row0, left;
  if (!moe_gemm::rowTile(offsets, experts, e, row0, left))
    return;
  const T *we = w[e];
  // A(m, l) = x[row0 + m, l]; B(l, n) = w_e[n, l].
  moe_gemm::gemm<T, true, true, T>(x + row0 * K, K, we, K, left, N, K, 0,
                                   i64(blockIdx.y) * moe_gemm::kBN,
                                   y + row0 * N, N);
}

// dx[r] = dy[r] @ w_e. Grid (ceil(R/64) + E, ceil(K/64)).
template <typename T>
__global__ void __launch_bounds__(256)
    moe_grouped_linear_bwd_x(const T *dy, const i64 *offsets, T *dx, i64 rows,
                             i64 K, i64 N, i64 experts, const T *const *w) {
  MIND_CHECK_SIGNATURE_T(moe_grouped_linear_bwd_x, (T), moe_grouped_linear_bwd_x<T>);
  int e;
  i64 row0, left;
  if (!moe_gemm::rowTile(offsets, experts, e, row0, left))
    return;
  const T *we = w[e];
  // A(m, l) = dy[row0 + m, l]; B(l, n) = w_e[l, n].
  moe_gemm::gemm<T, true, false, T>(dy + row0 * N, N, we, K, left, K, N, 0,
                                    i64(blockIdx.y) * moe_gemm::kBN,
                                    dx + row0 * K, K);
}

// dw_e = dy[rows_e]^T @ x[rows_e] as float [N, K], written (not accumulated);
// zero for an expert without rows. Grid (ceil(N/64) * ceil(K/64), E): one
// 64x64 tile of one expert per block, reducing over all of its rows.
template <typename T>
__global__ void __launch_bounds__(256)
    moe_grouped_linear_bwd_w(const T *x, const T *dy, const i64 *offsets,
                             i64 rows, i64 K, i64 N, i64 experts,
                             float *const *dw) {
  MIND_CHECK_SIGNATURE_T(moe_grouped_linear_bwd_w, (T), moe_grouped_linear_bwd_w<T>);
  int e = blockIdx.y;
  float *dwe = dw[e];
  i64 begin = offsets[e], count = offsets[e + 1] - begin;
  i64 kTiles = (K + moe_gemm::kBN - 1) / moe_gemm::kBN;
  i64 m0 = i64(blockIdx.x) / kTiles * moe_gemm::kBM;
  i64 n0 = i64(blockIdx.x) % kTiles * moe_gemm::kBN;
  // A(m, l) = dy[begin + l, m]; B(l, n) = x[begin + l, n].
  moe_gemm::gemm<T, false, false, float>(dy + begin * N, N, x + begin * K, K, N,
                                         K, count, m0, n0, dwe, K);
}

} // namespace mind
