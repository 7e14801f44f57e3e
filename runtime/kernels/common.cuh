// Common device helpers of the mind kernel library. Compiled by NVRTC as one
// translation unit with the other kernels/*.cuh files (see Nvrtc.h).
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace mind {
typedef long long i64;

// Loads and stores convert between the storage type and fp32 compute.
__device__ __forceinline__ float toF32(float x) { return x; }
__device__ __forceinline__ float toF32(__nv_bfloat16 x) {
  return __bfloat162float(x);
}
__device__ __forceinline__ float toF32(__half x) { return __half2float(x); }

template <typename T> __device__ __forceinline__ T fromF32(float x);
template <> __device__ __forceinline__ float fromF32<float>(float x) {
  return x;
}
template <>
__device__ __forceinline__ __nv_bfloat16 fromF32<__nv_bfloat16>(float x) {
  return __float2bfloat16_rn(x);
}
template <> __device__ __forceinline__ __half fromF32<__half>(float x) {
  return __float2half_rn(x);
}

// One RoPE pair (rotate-half convention): a at column j and b at j + D/2 of a
// row, ca/sa and cb/sb the tables at those columns; sign = -1 rotates back
// (the VJP). Each product is rounded on its own before the sum, as
// `x*cos + rotate_half(x)*sin` rounds in PyTorch (no fused multiply-add).
// The RoPE kernel and the attention kernels that rotate dq/dk as they store
// them share this, so they agree to the bit.
__device__ __forceinline__ void ropePair(float a, float b, float ca, float sa,
                                         float cb, float sb, float sign,
                                         float &ya, float &yb) {
  ya = __fsub_rn(__fmul_rn(a, ca), __fmul_rn(__fmul_rn(sign, b), sa));
  yb = __fadd_rn(__fmul_rn(b, cb), __fmul_rn(__fmul_rn(sign, a), sb));
}

// Sum of `v` over the warp (all 32 lanes end with the result).
__device__ __forceinline__ float warpSum(float v) {
  for (int o = 16; o > 0; o >>= 1)
    v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ __forceinline__ float warpMax(float v) {
  for (int o = 16; o > 0; o >>= 1)
    v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Sum over the block; `scratch` holds 32 floats. Every thread gets the sum.
__device__ __forceinline__ float blockSum(float v, float *scratch) {
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  v = warpSum(v);
  __syncthreads();
  if (lane == 0)
    scratch[warp] = v;
  __syncthreads();
  int warps = (blockDim.x + 31) >> 5;
  v = lane < warps ? scratch[lane] : 0.0f;
  return warpSum(v);
}
__device__ __forceinline__ float blockMax(float v, float *scratch) {
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  v = warpMax(v);
  __syncthreads();
  if (lane == 0)
    scratch[warp] = v;
  __syncthreads();
  int warps = (blockDim.x + 31) >> 5;
  v = lane < warps ? scratch[lane] : -__int_as_float(0x7f800000);
  return warpMax(v);
}
} // namespace mind

namespace mind {
// 8 consecutive elements through 16-byte accesses (the pointer must be
// aligned to 8 elements: arena buffers are 256-byte aligned). Used by the
// elementwise kernels mindc emits from the IR.
template <typename T>
__device__ __forceinline__ void loadVec8(T (&dst)[8], const T *src) {
  static_assert(sizeof(T) * 8 % 16 == 0, "8 elements must fill 16-byte words");
  constexpr int kWords = sizeof(T) * 8 / 16;
  uint4 raw[kWords];
#pragma unroll
  for (int w = 0; w < kWords; ++w)
    raw[w] = reinterpret_cast<const uint4 *>(src)[w];
  memcpy(dst, raw, sizeof(raw));
}
template <typename T>
__device__ __forceinline__ void storeVec8(T *dst, const T (&src)[8]) {
  constexpr int kWords = sizeof(T) * 8 / 16;
  uint4 raw[kWords];
  memcpy(raw, src, sizeof(raw));
#pragma unroll
  for (int w = 0; w < kWords; ++w)
    reinterpret_cast<uint4 *>(dst)[w] = raw[w];
}
} // namespace mind
