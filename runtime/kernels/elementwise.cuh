// Elementwise kernels (silu, add, mul, swiglu and their gradients, cast,
// fill, fp32 gradient accumulation), RoPE and rank <= 4 transposes.
// Launch rules: mind/abi/DenseKernelSpecs.h; parameters: KernelSignatures.h.
//
// Every flat kernel walks packs of kEwPack consecutive elements with a
// grid-stride loop; a pack is one vector load/store when all pointers are
// aligned to a whole pack, else (and for the ragged tail) scalar accesses.
// Math is fp32; results round once to the storage type.

namespace mind {
namespace ew_detail {

constexpr int kEwPack = 4;

template <typename T> struct alignas(sizeof(T) * kEwPack) EwPack {
  T v[kEwPack];
};

template <typename T> __device__ __forceinline__ bool packAligned(const T *p) {
  return reinterpret_cast<unsigned long long>(p) % (sizeof(T) * kEwPack) == 0;
}

// Elements i ..< i+cnt of p as fp32 (the rest of `out` is zero).
template <typename T>
__device__ __forceinline__ void loadPack(const T *p, i64 i, int cnt, bool vec,
                                         float (&out)[kEwPack]) {
  if (vec && cnt == kEwPack) {
    EwPack<T> pk = *reinterpret_cast<const EwPack<T> *>(p + i);
#pragma unroll
    for (int k = 0; k < kEwPack; ++k)
      out[k] = toF32(pk.v[k]);
    return;
  }
#pragma unroll
  for (int k = 0; k < kEwPack; ++k)
    out[k] = k < cnt ? toF32(p[i + k]) : 0.0f;
}

template <typename T>
__device__ __forceinline__ void storePack(T *p, i64 i, int cnt, bool vec,
                                          const float (&in)[kEwPack]) {
  if (vec && cnt == kEwPack) {
    EwPack<T> pk;
#pragma unroll
    for (int k = 0; k < kEwPack; ++k)
      pk.v[k] = fromF32<T>(in[k]);
    *reinterpret_cast<EwPack<T> *>(p + i) = pk;
    return;
  }
#pragma unroll
  for (int k = 0; k < kEwPack; ++k)
    if (k < cnt)
      p[i + k] = fromF32<T>(in[k]);
}

__device__ __forceinline__ i64 firstThread() {
  return static_cast<i64>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ i64 threadStride() {
  return static_cast<i64>(gridDim.x) * blockDim.x;
}
// First element of this thread's first pack, and the step between packs.
__device__ __forceinline__ i64 firstPack() { return firstThread() * kEwPack; }
__device__ __forceinline__ i64 packStride() {
  return threadStride() * kEwPack;
}
// Number of elements of the pack starting at i (kEwPack except at the tail).
__device__ __forceinline__ int packCount(i64 i, i64 n) {
  return n - i < kEwPack ? static_cast<int>(n - i) : kEwPack;
}

// expf saturates to inf for very negative x, giving 1/inf = 0: no NaN.
__device__ __forceinline__ float sigmoidF(float x) {
  return 1.0f / (1.0f + expf(-x));
}
// d silu(x)/dx = s * (1 + x * (1 - s)), s = sigmoid(x).
__device__ __forceinline__ float siluDerivF(float x) {
  float s = sigmoidF(x);
  return s * (1.0f + x * (1.0f - s));
}

} // namespace ew_detail

template <typename T> __global__ void silu_fwd(const T *x, T *y, i64 n) {
  MIND_CHECK_SIGNATURE_T(silu_fwd, (T), silu_fwd<T>);
  using namespace ew_detail;
  bool vec = packAligned(x) && packAligned(y);
  for (i64 i = firstPack(); i < n; i += packStride()) {
    int cnt = packCount(i, n);
    float a[kEwPack];
    loadPack(x, i, cnt, vec, a);
#pragma unroll
    for (int k = 0; k < kEwPack; ++k)
      a[k] = a[k] * sigmoidF(a[k]);
    storePack(y, i, cnt, vec, a);
  }
}

template <typename T>
__global__ void silu_grad(const T *x, const T *dy, T *dx, i64 n) {
  MIND_CHECK_SIGNATURE_T(silu_grad, (T), silu_grad<T>);
  using namespace ew_detail;
  bool vec = packAligned(x) && packAligned(dy) && packAligned(dx);
  for (i64 i = firstPack(); i < n; i += packStride()) {
    int cnt = packCount(i, n);
    float a[kEwPack], g[kEwPack];
    loadPack(x, i, cnt, vec, a);
    loadPack(dy, i, cnt, vec, g);
#pragma unroll
    for (int k = 0; k < kEwPack; ++k)
      a[k] = g[k] * siluDerivF(a[k]);
    storePack(dx, i, cnt, vec, a);
  }
}

template <typename T>
__global__ void add_fwd(const T *a, const T *b, T *y, i64 n) {
  MIND_CHECK_SIGNATURE_T(add_fwd, (T), add_fwd<T>);
  using namespace ew_detail;
  bool vec = packAligned(a) && packAligned(b) && packAligned(y);
  for (i64 i = firstPack(); i < n; i += packStride()) {
    int cnt = packCount(i, n);
    float u[kEwPack], v[kEwPack];
    loadPack(a, i, cnt, vec, u);
    loadPack(b, i, cnt, vec, v);
#pragma unroll
    for (int k = 0; k < kEwPack; ++k)
      u[k] += v[k];
    storePack(y, i, cnt, vec, u);
  }
}

template <typename T>
__global__ void mul_fwd(const T *a, const T *b, T *y, i64 n) {
  MIND_CHECK_SIGNATURE_T(mul_fwd, (T), mul_fwd<T>);
  using namespace ew_detail;
  bool vec = packAligned(a) && packAligned(b) && packAligned(y);
  for (i64 i = firstPack(); i < n; i += packStride()) {
    int cnt = packCount(i, n);
    float u[kEwPack], v[kEwPack];
    loadPack(a, i, cnt, vec, u);
    loadPack(b, i, cnt, vec, v);
#pragma unroll
    for (int k = 0; k < kEwPack; ++k)
      u[k] *= v[k];
    storePack(y, i, cnt, vec, u);
  }
}

template <typename T>
__global__ void swiglu_fwd(const T *gate, const T *up, T *y, i64 n) {
  MIND_CHECK_SIGNATURE_T(swiglu_fwd, (T), swiglu_fwd<T>);
  using namespace ew_detail;
  bool vec = packAligned(gate) && packAligned(up) && packAligned(y);
  for (i64 i = firstPack(); i < n; i += packStride()) {
    int cnt = packCount(i, n);
    float g[kEwPack], u[kEwPack];
    loadPack(gate, i, cnt, vec, g);
    loadPack(up, i, cnt, vec, u);
#pragma unroll
    for (int k = 0; k < kEwPack; ++k)
      g[k] = g[k] * sigmoidF(g[k]) * u[k];
    storePack(y, i, cnt, vec, g);
  }
}

template <typename T>
__global__ void swiglu_grad(const T *gate, const T *up, const T *dy, T *dgate,
                            T *dup, i64 n) {
  MIND_CHECK_SIGNATURE_T(swiglu_grad, (T), swiglu_grad<T>);
  using namespace ew_detail;
  bool vec = packAligned(gate) && packAligned(up) && packAligned(dy) &&
             packAligned(dgate) && packAligned(dup);
  for (i64 i = firstPack(); i < n; i += packStride()) {
    int cnt = packCount(i, n);
    float g[kEwPack], u[kEwPack], d[kEwPack], dg[kEwPack], du[kEwPack];
    loadPack(gate, i, cnt, vec, g);
    loadPack(up, i, cnt, vec, u);
    loadPack(dy, i, cnt, vec, d);
#pragma unroll
    for (int k = 0; k < kEwPack; ++k) {
      dg[k] = d[k] * u[k] * siluDerivF(g[k]);
      du[k] = d[k] * g[k] * sigmoidF(g[k]);
    }
    storePack(dgate, i, cnt, vec, dg);
    storePack(dup, i, cnt, vec, du);
  }
}

// Conversions go through fp32 (bf16 <-> half too), rounding to nearest even.
template <typename Tin, typename Tout>
__global__ void cast_fwd(const Tin *x, Tout *y, i64 n) {
  MIND_CHECK_SIGNATURE_T(cast_fwd, (Tin, Tout), cast_fwd<Tin, Tout>);
  using namespace ew_detail;
  bool vec = packAligned(x) && packAligned(y);
  for (i64 i = firstPack(); i < n; i += packStride()) {
    int cnt = packCount(i, n);
    float a[kEwPack];
    loadPack(x, i, cnt, vec, a);
    storePack(y, i, cnt, vec, a);
  }
}

template <typename T> __global__ void fill_fwd(T *y, i64 n, float value) {
  MIND_CHECK_SIGNATURE_T(fill_fwd, (T), fill_fwd<T>);
  using namespace ew_detail;
  bool vec = packAligned(y);
  float a[kEwPack];
#pragma unroll
  for (int k = 0; k < kEwPack; ++k)
    a[k] = value;
  for (i64 i = firstPack(); i < n; i += packStride())
    storePack(y, i, packCount(i, n), vec, a);
}

// acc += x: accumulates a gradient of any storage type into an fp32 buffer.
template <typename T>
__global__ void accumulate_f32(float *acc, const T *x, i64 n) {
  MIND_CHECK_SIGNATURE_T(accumulate_f32, (T), accumulate_f32<T>);
  using namespace ew_detail;
  bool vec = packAligned(acc) && packAligned(x);
  for (i64 i = firstPack(); i < n; i += packStride()) {
    int cnt = packCount(i, n);
    float s[kEwPack], a[kEwPack];
    loadPack(acc, i, cnt, vec, s);
    loadPack(x, i, cnt, vec, a);
#pragma unroll
    for (int k = 0; k < kEwPack; ++k)
      s[k] += a[k];
    storePack(acc, i, cnt, vec, s);
  }
}

// y = x*cos + rotate_half(x)*sign*sin over x[B,S,N,D] with cos/sin[S,D]
// (rotate_half([a, b]) = [-b, a]; sign = -1 when `inverse`, the VJP; each
// pair through ropePair). One
// thread owns 4 adjacent pairs (j..j+3, j+D/2..j+D/2+3) of a row when D/2 %
// 4 == 0 and the bases are aligned (vector loads), else one pair; so y may
// alias x. Flat grid-stride loop over (row, group).
template <typename T> struct alignas(4 * sizeof(T)) RopeQuad {
  T v[4];
};

template <typename T>
__global__ void rope_fwd(const T *x, const float *cos, const float *sin, T *y,
                         i64 batch, i64 seq, i64 heads, i64 dim, i64 inverse) {
  MIND_CHECK_SIGNATURE_T(rope_fwd, (T), rope_fwd<T>);
  using namespace ew_detail;
  auto aligned = [](const void *p, unsigned bytes) {
    return reinterpret_cast<unsigned long long>(p) % bytes == 0;
  };
  const i64 half = dim / 2, rows = batch * seq * heads;
  const float sign = inverse ? -1.0f : 1.0f;
  const bool vec = half % 4 == 0 && aligned(x, 4 * sizeof(T)) &&
                   aligned(y, 4 * sizeof(T)) && aligned(cos, 16) &&
                   aligned(sin, 16);
  const i64 groups = vec ? half / 4 : half, work = rows * groups;
  for (i64 i = firstThread(); i < work; i += threadStride()) {
    const i64 row = i / groups, s = (row / heads) % seq;
    const T *xr = x + row * dim;
    T *yr = y + row * dim;
    const float *c = cos + s * dim, *sn = sin + s * dim;
    if (!vec) {
      const i64 j = i % groups;
      float ya, yb;
      ropePair(toF32(xr[j]), toF32(xr[j + half]), c[j], sn[j], c[j + half],
               sn[j + half], sign, ya, yb);
      yr[j] = fromF32<T>(ya);
      yr[j + half] = fromF32<T>(yb);
      continue;
    }
    const i64 j = i % groups * 4;
    RopeQuad<T> qa = *reinterpret_cast<const RopeQuad<T> *>(xr + j);
    RopeQuad<T> qb = *reinterpret_cast<const RopeQuad<T> *>(xr + j + half);
    float4 c0 = *reinterpret_cast<const float4 *>(c + j);
    float4 c1 = *reinterpret_cast<const float4 *>(c + j + half);
    float4 s0 = *reinterpret_cast<const float4 *>(sn + j);
    float4 s1 = *reinterpret_cast<const float4 *>(sn + j + half);
    const float ca[4] = {c0.x, c0.y, c0.z, c0.w}, cb[4] = {c1.x, c1.y, c1.z, c1.w};
    const float sa[4] = {s0.x, s0.y, s0.z, s0.w}, sb[4] = {s1.x, s1.y, s1.z, s1.w};
    RopeQuad<T> ya, yb;
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      float a, b;
      ropePair(toF32(qa.v[k]), toF32(qb.v[k]), ca[k], sa[k], cb[k], sb[k], sign,
               a, b);
      ya.v[k] = fromF32<T>(a);
      yb.v[k] = fromF32<T>(b);
    }
    *reinterpret_cast<RopeQuad<T> *>(yr + j) = ya;
    *reinterpret_cast<RopeQuad<T> *>(yr + j + half) = yb;
  }
}

// out[o] = in[sum_i idx_i(o) * st_i] where idx(o) is o's row-major index
// over the output sizes (s0..s3) and st_i the input stride of output dim i.
// Lower ranks pad with leading size-1 dims (DenseKernelSpecs' transposeArgs
// computes the arguments). Output writes are coalesced; reads gather.
template <typename T>
__global__ void transpose_fwd(const T *in, T *out, i64 n, i64 s0, i64 s1,
                              i64 s2, i64 s3, i64 st0, i64 st1, i64 st2,
                              i64 st3) {
  MIND_CHECK_SIGNATURE_T(transpose_fwd, (T), transpose_fwd<T>);
  (void)s0;
  for (i64 o = ew_detail::firstThread(); o < n;
       o += ew_detail::threadStride()) {
    i64 r = o;
    i64 i3 = r % s3;
    r /= s3;
    i64 i2 = r % s2;
    r /= s2;
    i64 i1 = r % s1;
    i64 i0 = r / s1;
    out[o] = in[i0 * st0 + i1 * st1 + i2 * st2 + i3 * st3];
  }
}

} // namespace mind
