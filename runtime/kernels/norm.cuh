// RMSNorm forward and backward: y = w * x * rsqrt(mean(x^2) + eps) over the
// last dim, statistics in fp32. One warp per row; blocks are (32, warps).
// Launch rules: mind/abi/DenseKernelSpecs.h; parameters: KernelSignatures.h.
//
// The weight gradient dw = sum_rows dy * x * rstd is reduced in two
// deterministic stages: rmsnorm_grad writes one partial dw row per block
// (each warp accumulates its rows in shared memory, then the block adds its
// warps in a fixed order) and rmsnorm_grad_dw sums the partials per column
// in a fixed order. Same shapes and launch => bitwise identical results.

namespace mind {
namespace norm_detail {

constexpr int kNormPack = 4;

template <typename T> struct alignas(sizeof(T) * kNormPack) NormPack {
  T v[kNormPack];
};

template <typename T> __device__ __forceinline__ bool packAligned(const T *p) {
  return reinterpret_cast<unsigned long long>(p) % (sizeof(T) * kNormPack) ==
         0;
}

template <typename T>
__device__ __forceinline__ void loadPack(const T *p, i64 i, int cnt, bool vec,
                                         float (&out)[kNormPack]) {
  if (vec && cnt == kNormPack) {
    NormPack<T> pk = *reinterpret_cast<const NormPack<T> *>(p + i);
#pragma unroll
    for (int k = 0; k < kNormPack; ++k)
      out[k] = toF32(pk.v[k]);
    return;
  }
#pragma unroll
  for (int k = 0; k < kNormPack; ++k)
    out[k] = k < cnt ? toF32(p[i + k]) : 0.0f;
}

template <typename T>
__device__ __forceinline__ void storePack(T *p, i64 i, int cnt, bool vec,
                                          const float (&in)[kNormPack]) {
  if (vec && cnt == kNormPack) {
    NormPack<T> pk;
#pragma unroll
    for (int k = 0; k < kNormPack; ++k)
      pk.v[k] = fromF32<T>(in[k]);
    *reinterpret_cast<NormPack<T> *>(p + i) = pk;
    return;
  }
#pragma unroll
  for (int k = 0; k < kNormPack; ++k)
    if (k < cnt)
      p[i + k] = fromF32<T>(in[k]);
}

__device__ __forceinline__ int packCount(i64 j, i64 n) {
  return n - j < kNormPack ? static_cast<int>(n - j) : kNormPack;
}

// 1 / sqrt(mean + eps) with IEEE sqrt and division (rsqrtf is 2 ulp).
__device__ __forceinline__ float rstdOf(float sumSq, i64 hidden, float eps) {
  return 1.0f / sqrtf(sumSq / static_cast<float>(hidden) + eps);
}

// y = w * (x * r) over a warp's row, lane by lane (the output pass of the
// forward norms; r = rsqrt(mean(x^2) + eps)).
template <typename T, typename W, typename Y>
__device__ __forceinline__ void storeNormalized(const T *xr, const W *w,
                                                Y *yr, i64 hidden, float r,
                                                bool vec) {
  for (i64 j = threadIdx.x * kNormPack; j < hidden; j += 32 * kNormPack) {
    int cnt = packCount(j, hidden);
    float a[kNormPack], g[kNormPack];
    loadPack(xr, j, cnt, vec, a);
    loadPack(w, j, cnt, vec, g);
#pragma unroll
    for (int k = 0; k < kNormPack; ++k)
      a[k] = g[k] * (a[k] * r);
    storePack(yr, j, cnt, vec, a);
  }
}
} // namespace norm_detail

// x[rows, hidden] T, w[hidden] W (float or T) -> y[rows, hidden] Y: the
// value computed in fp32 is rounded to Y when stored (Y = T: rmsnorm_fwd;
// Y narrower: rmsnorm_fwd_cast, the norm fused with the cast of its output,
// which rounds the same fp32 value the cast would have read).
// Vector accesses need every row aligned: hidden % 4 == 0 and aligned bases.
template <typename T, typename W, typename Y>
__device__ __forceinline__ void rmsnormRow(const T *x, const W *w, Y *y,
                                           i64 rows, i64 hidden, float eps) {
  using namespace norm_detail;
  i64 row = static_cast<i64>(blockIdx.x) * blockDim.y + threadIdx.y;
  if (row >= rows)
    return; // warp-uniform: only warp shuffles follow
  bool vec = hidden % kNormPack == 0 && packAligned(x) && packAligned(y) &&
             packAligned(w);
  const T *xr = x + row * hidden;
  Y *yr = y + row * hidden;
  i64 first = threadIdx.x * kNormPack, step = 32 * kNormPack;
  float ss = 0.0f;
  for (i64 j = first; j < hidden; j += step) {
    float a[kNormPack];
    loadPack(xr, j, packCount(j, hidden), vec, a);
#pragma unroll
    for (int k = 0; k < kNormPack; ++k)
      ss += a[k] * a[k];
  }
  float r = rstdOf(warpSum(ss), hidden, eps);
  storeNormalized<T, W, Y>(xr, w, yr, hidden, r, vec);
}

template <typename T, typename W>
__global__ void rmsnorm_fwd(const T *x, const W *w, T *y, i64 rows, i64 hidden,
                            float eps) {
  MIND_CHECK_SIGNATURE_T(rmsnorm_fwd, (T, W), rmsnorm_fwd<T, W>);
  rmsnormRow<T, W, T>(x, w, y, rows, hidden, eps);
}

template <typename T, typename W, typename Y>
__global__ void rmsnorm_fwd_cast(const T *x, const W *w, Y *y, i64 rows,
                                 i64 hidden, float eps) {
  MIND_CHECK_SIGNATURE_T(rmsnorm_fwd_cast, (T, W, Y),
                         rmsnorm_fwd_cast<T, W, Y>);
  rmsnormRow<T, W, Y>(x, w, y, rows, hidden, eps);
}

// residual[rows, hidden] T + delta D (T or narrower, widened exactly) ->
// sum T, then y = rmsnorm(sum) stored as Y (T or narrower): the residual add
// and the norm of a decoder layer in one pass (mind.add_rmsnorm). Each lane
// reads back only the sum elements it wrote itself.
template <typename T, typename D, typename W, typename Y>
__global__ void add_rmsnorm_fwd(const T *residual, const D *delta, const W *w,
                                T *sum, Y *y, i64 rows, i64 hidden,
                                float eps) {
  MIND_CHECK_SIGNATURE_T(add_rmsnorm_fwd, (T, D, W, Y),
                         add_rmsnorm_fwd<T, D, W, Y>);
  using namespace norm_detail;
  i64 row = static_cast<i64>(blockIdx.x) * blockDim.y + threadIdx.y;
  if (row >= rows)
    return; // warp-uniform: only warp shuffles follow
  bool vec = hidden % kNormPack == 0 && packAligned(residual) &&
             packAligned(delta) && packAligned(sum) && packAligned(y) &&
             packAligned(w);
  const T *rr = residual + row * hidden;
  const D *dr = delta + row * hidden;
  T *sr = sum + row * hidden;
  Y *yr = y + row * hidden;
  i64 first = threadIdx.x * kNormPack, step = 32 * kNormPack;
  float ss = 0.0f;
  for (i64 j = first; j < hidden; j += step) {
    int cnt = packCount(j, hidden);
    float a[kNormPack], d[kNormPack];
    loadPack(rr, j, cnt, vec, a);
    loadPack(dr, j, cnt, vec, d);
#pragma unroll
    for (int k = 0; k < kNormPack; ++k) // the sum as stored, rounded to T
      a[k] = toF32(fromF32<T>(a[k] + d[k]));
    storePack(sr, j, cnt, vec, a);
#pragma unroll
    for (int k = 0; k < kNormPack; ++k)
      ss += a[k] * a[k];
  }
  float r = rstdOf(warpSum(ss), hidden, eps);
  storeNormalized<T, W, Y>(sr, w, yr, hidden, r, vec);
}

// Stage 1 of the backward. x, dy[rows, hidden] T, w[hidden] W ->
// dx[rows, hidden] T and partial[gridDim.x, hidden] f32 (this block's share
// of dw). With g = dy*w, r = rstd: dx = r*g - x * r^3 * mean(g*x).
// Dynamic shared memory: blockDim.y * hidden floats. Warps walk rows with a
// grid stride, so any grid size is correct; the workspace must hold
// gridDim.x rows.
// dy of type D: T (rmsnorm_grad), or narrower (rmsnorm_grad_dy, the norm's
// gradient fused with the widening cast of dy: loads widen exactly).
// With `residual` (rmsnorm_grad_residual): dx = residual + dx(T-rounded), and
// with `narrow` also that sum rounded to N (null: none).
template <typename T, typename W, typename D, typename N = T>
__device__ __forceinline__ void
rmsnormGradRows(const T *x, const W *w, const D *dy, T *dx, float *partial,
                i64 rows, i64 hidden, float eps, const T *residual = nullptr,
                N *narrow = nullptr) {
  using namespace norm_detail;
  extern __shared__ float normSmem[];
  float *sdw = normSmem + threadIdx.y * hidden; // this warp's dw
  for (i64 j = threadIdx.x; j < hidden; j += 32)
    sdw[j] = 0.0f;
  __syncwarp();

  bool vec = hidden % kNormPack == 0 && packAligned(x) && packAligned(dy) &&
             packAligned(dx) && packAligned(w) &&
             (!residual || packAligned(residual)) &&
             (!narrow || packAligned(narrow));
  i64 first = threadIdx.x * kNormPack, step = 32 * kNormPack;
  i64 warps = static_cast<i64>(gridDim.x) * blockDim.y;
  for (i64 row = static_cast<i64>(blockIdx.x) * blockDim.y + threadIdx.y;
       row < rows; row += warps) {
    const T *xr = x + row * hidden;
    const D *dyr = dy + row * hidden;
    T *dxr = dx + row * hidden;
    float ss = 0.0f, gx = 0.0f;
    for (i64 j = first; j < hidden; j += step) {
      int cnt = packCount(j, hidden);
      float a[kNormPack], d[kNormPack], g[kNormPack];
      loadPack(xr, j, cnt, vec, a);
      loadPack(dyr, j, cnt, vec, d);
      loadPack(w, j, cnt, vec, g);
#pragma unroll
      for (int k = 0; k < kNormPack; ++k) {
        ss += a[k] * a[k];
        gx += d[k] * g[k] * a[k];
      }
    }
    float r = rstdOf(warpSum(ss), hidden, eps);
    float c = r * r * r * (warpSum(gx) / static_cast<float>(hidden));
    for (i64 j = first; j < hidden; j += step) {
      int cnt = packCount(j, hidden);
      float a[kNormPack], d[kNormPack], g[kNormPack], o[kNormPack];
      loadPack(xr, j, cnt, vec, a);
      loadPack(dyr, j, cnt, vec, d);
      loadPack(w, j, cnt, vec, g);
#pragma unroll
      for (int k = 0; k < kNormPack; ++k) {
        o[k] = r * d[k] * g[k] - a[k] * c;
        if (k < cnt)
          sdw[j + k] += d[k] * a[k] * r; // only this lane touches j..j+3
      }
      if (residual) { // dx as stored (T), then the add in T
        float s[kNormPack];
        loadPack(residual + row * hidden, j, cnt, vec, s);
#pragma unroll
        for (int k = 0; k < kNormPack; ++k)
          o[k] = toF32(fromF32<T>(s[k] + toF32(fromF32<T>(o[k]))));
      }
      storePack(dxr, j, cnt, vec, o);
      if (narrow)
        storePack(narrow + row * hidden, j, cnt, vec, o);
    }
  }
  __syncthreads();
  int tid = threadIdx.y * 32 + threadIdx.x;
  for (i64 j = tid; j < hidden; j += 32 * blockDim.y) {
    float s = 0.0f;
    for (unsigned wi = 0; wi < blockDim.y; ++wi)
      s += normSmem[wi * hidden + j];
    partial[static_cast<i64>(blockIdx.x) * hidden + j] = s;
  }
}

template <typename T, typename W>
__global__ void rmsnorm_grad(const T *x, const W *w, const T *dy, T *dx,
                             float *partial, i64 rows, i64 hidden, float eps) {
  MIND_CHECK_SIGNATURE_T(rmsnorm_grad, (T, W), rmsnorm_grad<T, W>);
  rmsnormGradRows<T, W, T>(x, w, dy, dx, partial, rows, hidden, eps);
}

template <typename T, typename W, typename D>
__global__ void rmsnorm_grad_dy(const T *x, const W *w, const D *dy, T *dx,
                                float *partial, i64 rows, i64 hidden,
                                float eps) {
  MIND_CHECK_SIGNATURE_T(rmsnorm_grad_dy, (T, W, D), rmsnorm_grad_dy<T, W, D>);
  rmsnormGradRows<T, W, D>(x, w, dy, dx, partial, rows, hidden, eps);
}

template <typename T, typename W, typename D>
__global__ void rmsnorm_grad_residual(const T *x, const W *w, const D *dy,
                                      const T *residualGrad, T *dx,
                                      float *partial, i64 rows, i64 hidden,
                                      float eps) {
  MIND_CHECK_SIGNATURE_T(rmsnorm_grad_residual, (T, W, D),
                         rmsnorm_grad_residual<T, W, D>);
  rmsnormGradRows<T, W, D>(x, w, dy, dx, partial, rows, hidden, eps,
                           residualGrad);
}

template <typename T, typename W, typename D, typename N>
__global__ void rmsnorm_grad_residual_cast(const T *x, const W *w, const D *dy,
                                           const T *residualGrad, T *dx,
                                           N *dxNarrow, float *partial,
                                           i64 rows, i64 hidden, float eps) {
  MIND_CHECK_SIGNATURE_T(rmsnorm_grad_residual_cast, (T, W, D, N),
                         rmsnorm_grad_residual_cast<T, W, D, N>);
  rmsnormGradRows<T, W, D, N>(x, w, dy, dx, partial, rows, hidden, eps,
                              residualGrad, dxNarrow);
}

// Stage 2: dw[j] = (accumulate ? dw[j] : 0) + sum_p partial[p, j], summed in
// a fixed order. Block (columns <= 32, 8): threadIdx.x picks the column,
// threadIdx.y a strided share of the partial rows (4 loads in flight, added
// in order); shared memory adds the 8 shares.
__global__ void rmsnorm_grad_dw(const float *partial, float *dw, i64 numPartial,
                                i64 hidden, i64 accumulate) {
  MIND_CHECK_SIGNATURE(rmsnorm_grad_dw, rmsnorm_grad_dw);
  __shared__ float share[8][33];
  i64 j = static_cast<i64>(blockIdx.x) * blockDim.x + threadIdx.x;
  float s = 0.0f;
  if (j < hidden) {
    const i64 by = blockDim.y;
    i64 p = threadIdx.y;
    for (; p + 3 * by < numPartial; p += 4 * by) {
      float a = partial[p * hidden + j], b = partial[(p + by) * hidden + j];
      float c = partial[(p + 2 * by) * hidden + j];
      float d = partial[(p + 3 * by) * hidden + j];
      s += a;
      s += b;
      s += c;
      s += d;
    }
    for (; p < numPartial; p += by)
      s += partial[p * hidden + j];
  }
  share[threadIdx.y][threadIdx.x] = s;
  __syncthreads();
  if (threadIdx.y != 0 || j >= hidden)
    return;
  float total = 0.0f;
  for (unsigned y = 0; y < blockDim.y; ++y)
    total += share[y][threadIdx.x];
  dw[j] = accumulate ? dw[j] + total : total;
}

} // namespace mind
