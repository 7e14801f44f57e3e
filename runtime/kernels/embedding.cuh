// Token embedding lookup and its gradient (scatter-add with fp32 atomics).
// Launch rules and argument orders: mind/runtime/DenseKernelSpecs.h.

namespace mind {
namespace emb_detail {

// 16-byte copies when rows allow it (H * sizeof(T) a multiple of 16).
struct alignas(16) EmbChunk {
  unsigned int v[4];
};

__device__ __forceinline__ bool chunkAligned(const void *p) {
  return reinterpret_cast<unsigned long long>(p) % 16 == 0;
}

} // namespace emb_detail

// out[r, :] = table[ids[r], :] for r < tokens. One block walks rows with a
// grid stride. An id outside [0, vocab) writes a NaN row (the reference
// throws; NaN makes the bad input visible in the loss instead of reading out
// of bounds).
template <typename T>
__global__ void embedding_fwd(const T *table, const i64 *ids, T *out,
                              i64 tokens, i64 hidden, i64 vocab) {
  using emb_detail::EmbChunk;
  constexpr int kPer = sizeof(EmbChunk) / sizeof(T);
  bool vec = hidden % kPer == 0 && emb_detail::chunkAligned(table) &&
             emb_detail::chunkAligned(out);
  for (i64 r = blockIdx.x; r < tokens; r += gridDim.x) {
    i64 id = ids[r];
    T *dst = out + r * hidden;
    if (id < 0 || id >= vocab) {
      T nan = fromF32<T>(__int_as_float(0x7fffffff));
      for (i64 j = threadIdx.x; j < hidden; j += blockDim.x)
        dst[j] = nan;
      continue;
    }
    const T *src = table + id * hidden;
    if (vec) {
      const EmbChunk *s = reinterpret_cast<const EmbChunk *>(src);
      EmbChunk *d = reinterpret_cast<EmbChunk *>(dst);
      for (i64 j = threadIdx.x; j < hidden / kPer; j += blockDim.x)
        d[j] = s[j];
    } else {
      for (i64 j = threadIdx.x; j < hidden; j += blockDim.x)
        dst[j] = src[j];
    }
  }
}

// dtable[ids[r], :] += dy[r, :] with fp32 atomicAdd: it ACCUMULATES into
// dtable (so it may target a persistent fp32 gradient accumulator directly;
// otherwise the caller zeroes dtable first, e.g. a MemsetStep or fill_fwd).
// Summation order across tokens sharing an id is not deterministic. Tokens
// with an out-of-range id are skipped.
template <typename T>
__global__ void embedding_grad(const T *dy, const i64 *ids, float *dtable,
                               i64 tokens, i64 hidden, i64 vocab) {
  for (i64 r = blockIdx.x; r < tokens; r += gridDim.x) {
    i64 id = ids[r];
    if (id < 0 || id >= vocab)
      continue;
    const T *src = dy + r * hidden;
    float *dst = dtable + id * hidden;
    for (i64 j = threadIdx.x; j < hidden; j += blockDim.x)
      atomicAdd(dst + j, toF32(src[j]));
  }
}

} // namespace mind
