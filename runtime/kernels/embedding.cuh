// Token embedding lookup and its gradient (a deterministic scatter-add: the
// tokens of a chunk are sorted by id, then each table row sums its chunk
// partials in chunk order; no float atomics).
// Launch rules: mind/abi/DenseKernelSpecs.h; parameters: KernelSignatures.h.

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
  MIND_CHECK_SIGNATURE_T(embedding_fwd, (T), embedding_fwd<T>);
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

namespace emb_detail {
constexpr int kChunk = 256; // tokens per chunk = threads of embedding_grad_runs
constexpr int kWarps = kChunk / 32;
constexpr int kColsPerLane = 4;
constexpr int kCols =
    32 * kColsPerLane; // columns per block of embedding_grad_runs
constexpr unsigned long long kNoKey = ~0ull;
} // namespace emb_detail

// Gradient, pass 1. Block (c, y) takes tokens [c*256, c*256+256), sorts them
// by (id, position) in shared memory and writes one fp32 partial row per run
// of equal ids (the run's dy rows summed in position order), columns
// [y*128, y*128+128) of it:
//   runIds[c*256 + r], partial[(c*256 + r) * H ...] for r < runCount[c].
// Tokens with an id outside [0, vocab) are dropped.
template <typename T>
__global__ void __launch_bounds__(emb_detail::kChunk)
    embedding_grad_runs(const T *dy, const i64 *ids, float *partial,
                        i64 *runIds, i64 *runCount, i64 tokens, i64 hidden,
                        i64 vocab) {
  MIND_CHECK_SIGNATURE_T(embedding_grad_runs, (T), embedding_grad_runs<T>);
  using namespace emb_detail;
  __shared__ unsigned long long key[kChunk];
  __shared__ int runStart[kChunk + 1];
  __shared__ int warpRuns[kWarps + 1];
  const int t = threadIdx.x, lane = t & 31, warp = t >> 5;
  const i64 base = static_cast<i64>(blockIdx.x) * kChunk;
  i64 id = base + t < tokens ? ids[base + t] : -1;
  key[t] = id >= 0 && id < vocab
               ? static_cast<unsigned long long>(id) * kChunk + t
               : kNoKey;
  __syncthreads();
  // Bitonic sort, ascending: valid keys are unique, so their order is total.
  for (int k = 2; k <= kChunk; k <<= 1)
    for (int j = k >> 1; j > 0; j >>= 1) {
      int o = t ^ j;
      if (o > t) {
        unsigned long long a = key[t], b = key[o];
        if ((a > b) == ((t & k) == 0)) {
          key[t] = b;
          key[o] = a;
        }
      }
      __syncthreads();
    }
  unsigned long long mine = key[t];
  bool start = mine != kNoKey &&
               (t == 0 || key[t - 1] / kChunk != mine / kChunk);
  // Invalid keys sort last: the valid ones are a prefix of this length.
  const int numValid = __syncthreads_count(mine != kNoKey);
  // Run index of each start: a block-wide exclusive scan of the flags.
  unsigned starts = __ballot_sync(0xffffffffu, start);
  if (lane == 0)
    warpRuns[warp] = __popc(starts);
  __syncthreads();
  if (t == 0) {
    int sum = 0;
    for (int w = 0; w < kWarps; ++w) {
      int c = warpRuns[w];
      warpRuns[w] = sum;
      sum += c;
    }
    warpRuns[kWarps] = sum;
    runStart[sum] = numValid; // the end of the last run
    if (blockIdx.y == 0)
      runCount[blockIdx.x] = sum;
  }
  __syncthreads();
  const int runs = warpRuns[kWarps];
  if (start) {
    int r = warpRuns[warp] + __popc(starts & ((1u << lane) - 1));
    runStart[r] = t;
    if (blockIdx.y == 0)
      runIds[base + r] = static_cast<i64>(mine / kChunk);
  }
  __syncthreads();
  // Block (c, y) sums columns [y*kCols, y*kCols + kCols): each lane takes 4
  // columns 32 apart, so a row costs a warp four independent coalesced loads
  // (the chunk alone is too few blocks to keep enough loads in flight). The
  // order of each column's sum is the run's position order, as before.
  const i64 col0 = static_cast<i64>(blockIdx.y) * kCols;
  for (int r = warp; r < runs; r += kWarps) {
    int first = runStart[r], last = runStart[r + 1];
    float *out = partial + (base + r) * hidden;
    float acc[kColsPerLane];
#pragma unroll
    for (int k = 0; k < kColsPerLane; ++k)
      acc[k] = 0.0f;
    for (int i = first; i < last; ++i) {
      const T *src = dy + (base + static_cast<i64>(key[i] % kChunk)) * hidden;
#pragma unroll
      for (int k = 0; k < kColsPerLane; ++k) {
        i64 j = col0 + lane + 32 * k;
        if (j < hidden)
          acc[k] += toF32(src[j]);
      }
    }
#pragma unroll
    for (int k = 0; k < kColsPerLane; ++k) {
      i64 j = col0 + lane + 32 * k;
      if (j < hidden)
        out[j] = acc[k];
    }
  }
}

// Gradient, pass 2: dtable[v, :] += the partials of row v, in chunk order.
// A block per row (grid-stride): each thread binary-searches one chunk's
// sorted run ids, then each column is summed by one thread. It ACCUMULATES
// into dtable (so it may target a persistent fp32 gradient accumulator);
// rows no token names are left untouched.
__global__ void __launch_bounds__(128)
    embedding_grad_reduce(const float *partial, const i64 *runIds,
                          const i64 *runCount, float *dtable, i64 chunks,
                          i64 hidden, i64 vocab) {
  MIND_CHECK_SIGNATURE(embedding_grad_reduce, embedding_grad_reduce);
  constexpr int kGroup = 128;
  __shared__ int slot[kGroup];
  for (i64 v = blockIdx.x; v < vocab; v += gridDim.x) {
    for (i64 g = 0; g < chunks; g += kGroup) {
      i64 c = g + threadIdx.x;
      int s = -1;
      if (c < chunks) {
        const i64 *list = runIds + c * emb_detail::kChunk;
        int lo = 0, hi = static_cast<int>(runCount[c]);
        while (lo < hi) {
          int mid = (lo + hi) >> 1;
          if (list[mid] < v)
            lo = mid + 1;
          else
            hi = mid;
        }
        if (lo < runCount[c] && list[lo] == v)
          s = lo;
      }
      slot[threadIdx.x] = s;
      if (__syncthreads_or(s >= 0)) {
        int n = static_cast<int>(min(static_cast<i64>(kGroup), chunks - g));
        for (i64 j = threadIdx.x; j < hidden; j += blockDim.x) {
          float acc = dtable[v * hidden + j];
          for (int i = 0; i < n; ++i)
            if (slot[i] >= 0)
              acc += partial[((g + i) * emb_detail::kChunk + slot[i]) *
                                 hidden +
                             j];
          dtable[v * hidden + j] = acc;
        }
      }
      __syncthreads();
    }
  }
}

} // namespace mind
