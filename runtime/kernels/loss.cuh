// Softmax over the last dim and the masked cross-entropy loss, fp32 math.
// Launch rules and workspaces: mind/abi/DenseKernelSpecs.h; parameters:
// KernelSignatures.h.
//
// Row statistics use the online (max, sum of exp) form: one read of the row
// gives both, and partial results merge exactly like single elements.
// A row is owned by a group of blockDim.x threads: one warp (blockDim.x ==
// 32, blockDim.y rows per block) or the whole block (blockDim.y == 1).

namespace mind {
namespace loss_detail {

constexpr int kLossPack = 4;

template <typename T> struct alignas(sizeof(T) * kLossPack) LossPack {
  T v[kLossPack];
};

template <typename T> __device__ __forceinline__ bool packAligned(const T *p) {
  return reinterpret_cast<unsigned long long>(p) % (sizeof(T) * kLossPack) ==
         0;
}

template <typename T>
__device__ __forceinline__ void loadPack(const T *p, i64 i, int cnt, bool vec,
                                         float (&out)[kLossPack]) {
  if (vec && cnt == kLossPack) {
    LossPack<T> pk = *reinterpret_cast<const LossPack<T> *>(p + i);
#pragma unroll
    for (int k = 0; k < kLossPack; ++k)
      out[k] = toF32(pk.v[k]);
    return;
  }
#pragma unroll
  for (int k = 0; k < kLossPack; ++k)
    out[k] = k < cnt ? toF32(p[i + k]) : 0.0f;
}

template <typename T>
__device__ __forceinline__ void storePack(T *p, i64 i, int cnt, bool vec,
                                          const float (&in)[kLossPack]) {
  if (vec && cnt == kLossPack) {
    LossPack<T> pk;
#pragma unroll
    for (int k = 0; k < kLossPack; ++k)
      pk.v[k] = fromF32<T>(in[k]);
    *reinterpret_cast<LossPack<T> *>(p + i) = pk;
    return;
  }
#pragma unroll
  for (int k = 0; k < kLossPack; ++k)
    if (k < cnt)
      p[i + k] = fromF32<T>(in[k]);
}

__device__ __forceinline__ int packCount(i64 j, i64 n) {
  return n - j < kLossPack ? static_cast<int>(n - j) : kLossPack;
}

__device__ __forceinline__ float negInf() { return -__int_as_float(0x7f800000); }
__device__ __forceinline__ float qnan() { return __int_as_float(0x7fffffff); }

// Online softmax statistics: max m and s = sum exp(x - m).
struct MaxSum {
  float m, s;
};

__device__ __forceinline__ MaxSum mergeMaxSum(MaxSum a, MaxSum b) {
  float m = fmaxf(a.m, b.m);
  if (m == negInf())
    return {m, 0.0f}; // both empty (or all -inf): avoid -inf - -inf
  return {m, a.s * expf(a.m - m) + b.s * expf(b.m - m)};
}

__device__ __forceinline__ void pushMaxSum(MaxSum &acc, float x) {
  if (x > acc.m) {
    acc.s = acc.s * expf(acc.m - x) + 1.0f; // exp(-inf) = 0 for the first
    acc.m = x;
  } else if (acc.m != negInf()) { // else x is -inf too: adds exp(-inf) = 0
    acc.s += expf(x - acc.m);
  }
}

__device__ __forceinline__ MaxSum warpMaxSum(MaxSum v) {
  for (int o = 16; o > 0; o >>= 1) {
    MaxSum other{__shfl_xor_sync(0xffffffffu, v.m, o),
                 __shfl_xor_sync(0xffffffffu, v.s, o)};
    v = mergeMaxSum(v, other);
  }
  return v;
}

// Merges over the row's group; every thread gets the result. `scratch`
// holds 64 floats (used only when the group is the whole block).
__device__ __forceinline__ MaxSum groupMaxSum(MaxSum v, float *scratch) {
  v = warpMaxSum(v);
  if (blockDim.x == 32)
    return v;
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  __syncthreads();
  if (lane == 0) {
    scratch[warp] = v.m;
    scratch[32 + warp] = v.s;
  }
  __syncthreads();
  int warps = (blockDim.x + 31) >> 5;
  MaxSum w = lane < warps ? MaxSum{scratch[lane], scratch[32 + lane]}
                          : MaxSum{negInf(), 0.0f};
  return warpMaxSum(w);
}

__device__ __forceinline__ float groupSum(float v, float *scratch) {
  return blockDim.x == 32 ? warpSum(v) : blockSum(v, scratch);
}

// Statistics of row[0 ..< n], read by the group in packs.
template <typename T>
__device__ __forceinline__ MaxSum rowMaxSum(const T *row, i64 n, bool vec,
                                            float *scratch) {
  MaxSum acc{negInf(), 0.0f};
  for (i64 j = threadIdx.x * kLossPack; j < n; j += blockDim.x * kLossPack) {
    int cnt = packCount(j, n);
    float a[kLossPack];
    loadPack(row, j, cnt, vec, a);
#pragma unroll
    for (int k = 0; k < kLossPack; ++k)
      if (k < cnt)
        pushMaxSum(acc, a[k]);
  }
  return groupMaxSum(acc, scratch);
}

// Sum over the block of a double (fixed order: deterministic).
__device__ __forceinline__ double blockSumF64(double v, double *scratch) {
  for (int o = 16; o > 0; o >>= 1)
    v += __shfl_xor_sync(0xffffffffu, v, o);
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  __syncthreads();
  if (lane == 0)
    scratch[warp] = v;
  __syncthreads();
  int warps = (blockDim.x + 31) >> 5;
  v = lane < warps ? scratch[lane] : 0.0;
  for (int o = 16; o > 0; o >>= 1)
    v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

} // namespace loss_detail

// y[rows, cols] = softmax(x) over the last dim.
template <typename T>
__global__ void softmax_fwd(const T *x, T *y, i64 rows, i64 cols) {
  MIND_CHECK_SIGNATURE_T(softmax_fwd, (T), softmax_fwd<T>);
  using namespace loss_detail;
  __shared__ float scratch[64];
  i64 row = static_cast<i64>(blockIdx.x) * blockDim.y + threadIdx.y;
  if (row >= rows)
    return; // uniform per group (block groups have blockDim.y == 1)
  bool vec = cols % kLossPack == 0 && packAligned(x) && packAligned(y);
  const T *xr = x + row * cols;
  T *yr = y + row * cols;
  MaxSum st = rowMaxSum(xr, cols, vec, scratch);
  float inv = 1.0f / st.s;
  for (i64 j = threadIdx.x * kLossPack; j < cols; j += blockDim.x * kLossPack) {
    int cnt = packCount(j, cols);
    float a[kLossPack];
    loadPack(xr, j, cnt, vec, a);
#pragma unroll
    for (int k = 0; k < kLossPack; ++k)
      a[k] = expf(a[k] - st.m) * inv;
    storePack(yr, j, cnt, vec, a);
  }
}

// dx = y * (dy - sum(dy * y)) over the last dim.
template <typename T>
__global__ void softmax_grad(const T *y, const T *dy, T *dx, i64 rows,
                             i64 cols) {
  MIND_CHECK_SIGNATURE_T(softmax_grad, (T), softmax_grad<T>);
  using namespace loss_detail;
  __shared__ float scratch[64];
  i64 row = static_cast<i64>(blockIdx.x) * blockDim.y + threadIdx.y;
  if (row >= rows)
    return;
  bool vec = cols % kLossPack == 0 && packAligned(y) && packAligned(dy) &&
             packAligned(dx);
  const T *yr = y + row * cols, *dyr = dy + row * cols;
  T *dxr = dx + row * cols;
  i64 first = threadIdx.x * kLossPack, step = blockDim.x * kLossPack;
  float dot = 0.0f;
  for (i64 j = first; j < cols; j += step) {
    int cnt = packCount(j, cols);
    float a[kLossPack], d[kLossPack];
    loadPack(yr, j, cnt, vec, a);
    loadPack(dyr, j, cnt, vec, d);
#pragma unroll
    for (int k = 0; k < kLossPack; ++k)
      dot += a[k] * d[k];
  }
  dot = groupSum(dot, scratch);
  for (i64 j = first; j < cols; j += step) {
    int cnt = packCount(j, cols);
    float a[kLossPack], d[kLossPack];
    loadPack(yr, j, cnt, vec, a);
    loadPack(dyr, j, cnt, vec, d);
#pragma unroll
    for (int k = 0; k < kLossPack; ++k)
      a[k] = a[k] * (d[k] - dot);
    storePack(dxr, j, cnt, vec, a);
  }
}

// Cross entropy, stage 1: rowLoss[r] = (logsumexp(logits[r]) -
// logits[r, targets[r]]) * mask[r], or 0 where mask[r] == 0 (the target is
// then not read: padding may hold any id). A masked-in row whose target is
// outside [0, vocab) gets NaN. One block per row (grid stride over rows).
template <typename T>
__global__ void cross_entropy_fwd(const T *logits, const i64 *targets,
                                  const i64 *mask, float *rowLoss, i64 rows,
                                  i64 vocab) {
  MIND_CHECK_SIGNATURE_T(cross_entropy_fwd, (T), cross_entropy_fwd<T>);
  using namespace loss_detail;
  __shared__ float scratch[64];
  bool vec = vocab % kLossPack == 0 && packAligned(logits);
  for (i64 r = blockIdx.x; r < rows; r += gridDim.x) {
    i64 mk = mask[r];
    if (mk == 0) {
      if (threadIdx.x == 0)
        rowLoss[r] = 0.0f;
      continue; // block-uniform
    }
    const T *row = logits + r * vocab;
    MaxSum st = rowMaxSum(row, vocab, vec, scratch);
    if (threadIdx.x == 0) {
      i64 t = targets[r];
      rowLoss[r] = t < 0 || t >= vocab
                       ? qnan()
                       : (st.m + logf(st.s) - toF32(row[t])) *
                             static_cast<float>(mk);
    }
  }
}

// Cross entropy, stage 2 (one block): loss[0] = sum(rowLoss) / sum(mask),
// summed in double in a fixed order. An all-zero mask gives 0/0 = NaN, as in
// PyTorch and the reference.
__global__ void cross_entropy_finalize(const float *rowLoss, const i64 *mask,
                                       float *loss, i64 rows) {
  MIND_CHECK_SIGNATURE(cross_entropy_finalize, cross_entropy_finalize);
  __shared__ double scratch[32];
  double l = 0.0, m = 0.0;
  for (i64 r = threadIdx.x; r < rows; r += blockDim.x) {
    l += rowLoss[r];
    m += static_cast<double>(mask[r]);
  }
  l = loss_detail::blockSumF64(l, scratch);
  m = loss_detail::blockSumF64(m, scratch);
  if (threadIdx.x == 0)
    loss[0] = static_cast<float>(l / m);
}

// norm[0] = sum(mask) as f32 (one block, fixed order), for the backward.
__global__ void cross_entropy_mask_sum(const i64 *mask, float *norm, i64 rows) {
  MIND_CHECK_SIGNATURE(cross_entropy_mask_sum, cross_entropy_mask_sum);
  __shared__ double scratch[32];
  double m = 0.0;
  for (i64 r = threadIdx.x; r < rows; r += blockDim.x)
    m += static_cast<double>(mask[r]);
  m = loss_detail::blockSumF64(m, scratch);
  if (threadIdx.x == 0)
    norm[0] = static_cast<float>(m);
}

// dlogits = dloss * mask / sum(mask) * (softmax(logits) - onehot(targets)),
// with norm[0] = sum(mask) from cross_entropy_mask_sum and dloss a device
// scalar. Rows with mask 0 get 0; every row gets NaN when norm is 0 (the
// reference's 0/0); a masked-in row with an invalid target gets NaN.
template <typename T>
__global__ void cross_entropy_grad(const T *logits, const i64 *targets,
                                   const i64 *mask, const float *dloss,
                                   const float *norm, T *dlogits, i64 rows,
                                   i64 vocab) {
  MIND_CHECK_SIGNATURE_T(cross_entropy_grad, (T), cross_entropy_grad<T>);
  using namespace loss_detail;
  __shared__ float scratch[64];
  bool vec = vocab % kLossPack == 0 && packAligned(logits) &&
             packAligned(dlogits);
  float nrm = norm[0], dl = dloss[0];
  i64 first = threadIdx.x * kLossPack, step = blockDim.x * kLossPack;
  for (i64 r = blockIdx.x; r < rows; r += gridDim.x) {
    const T *row = logits + r * vocab;
    T *out = dlogits + r * vocab;
    i64 mk = mask[r], t = targets[r];
    if (nrm == 0.0f || mk == 0 || t < 0 || t >= vocab) {
      float v = nrm == 0.0f || mk != 0 ? qnan() : 0.0f;
      float a[kLossPack];
#pragma unroll
      for (int k = 0; k < kLossPack; ++k)
        a[k] = v;
      for (i64 j = first; j < vocab; j += step)
        storePack(out, j, packCount(j, vocab), vec, a);
      continue; // block-uniform
    }
    MaxSum st = rowMaxSum(row, vocab, vec, scratch);
    float c = dl * static_cast<float>(mk) / nrm;
    float inv = 1.0f / st.s;
    for (i64 j = first; j < vocab; j += step) {
      int cnt = packCount(j, vocab);
      float a[kLossPack];
      loadPack(row, j, cnt, vec, a);
#pragma unroll
      for (int k = 0; k < kLossPack; ++k)
        a[k] = c * (expf(a[k] - st.m) * inv - (j + k == t ? 1.0f : 0.0f));
      storePack(out, j, cnt, vec, a);
    }
  }
}

} // namespace mind
