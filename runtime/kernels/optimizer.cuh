// Optimizer kernels: global gradient norm, clipping, fp16 loss scaling and
// AdamW over the flat fp32 parameter/gradient regions (one launch each, no
// host synchronisation: every step-dependent scalar stays on the device).
// Launch rules: OptimizerSpecs.h; parameters: KernelSignatures.h. Math in double, like
// the CPU reference runtime::adamwUpdate, so fp32 results agree to rounding.
#pragma once

namespace mind {

// OptimizerState is defined once, in KernelSignatures.h (host and device).

__device__ __forceinline__ double optWarpSumD(double v) {
  for (int o = 16; o > 0; o >>= 1)
    v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// Sum over the block in a fixed order (deterministic); valid in thread 0.
__device__ __forceinline__ double optBlockSumD(double v) {
  __shared__ double scratch[32];
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  v = optWarpSumD(v);
  __syncthreads();
  if (lane == 0)
    scratch[warp] = v;
  __syncthreads();
  int warps = (blockDim.x + 31) >> 5;
  v = lane < warps ? scratch[lane] : 0.0;
  return optWarpSumD(v);
}

// Block b writes partials[b] = sum over its grid-stride share of
// (grad * state->invScale)^2, unscaled in fp32 as torch's GradScaler does,
// squared and summed in double. Fixed grid -> deterministic. A non-finite
// gradient makes its partial non-finite (squares of finite floats cannot
// overflow a double).
__global__ void grad_sqnorm_partial(const float *grad, i64 n,
                                    const OptimizerState *state,
                                    double *partials) {
  MIND_CHECK_SIGNATURE(grad_sqnorm_partial, grad_sqnorm_partial);
  const float inv = state->invScale;
  double acc = 0.0;
  i64 stride = (i64)gridDim.x * blockDim.x;
  i64 tid = (i64)blockIdx.x * blockDim.x + threadIdx.x;
  i64 n4 = n / 4;
  const float4 *g4 = reinterpret_cast<const float4 *>(grad);
  for (i64 i = tid; i < n4; i += stride) {
    float4 g = g4[i];
    float a = g.x * inv, b = g.y * inv, c = g.z * inv, d = g.w * inv;
    acc += (double)a * a + (double)b * b + (double)c * c + (double)d * d;
  }
  for (i64 i = 4 * n4 + tid; i < n; i += stride) {
    float a = grad[i] * inv;
    acc += (double)a * a;
  }
  double total = optBlockSumD(acc);
  if (threadIdx.x == 0)
    partials[blockIdx.x] = total;
}

// One block: the norm, the clip coefficient, the GradScaler update and the
// AdamW step scalars of this step. With dynamicScale, a non-finite norm
// skips the step (torch's scaler.step) and halves the scale; growthInterval
// finite steps in a row double it. Without, the step proceeds unclipped
// (as clip_grad_norm_ + AdamW would with a non-finite norm on the CPU
// reference). Writes the next window's grad_scale input (scale * invAccum).
// The learning rate is read from device memory (*lr, written by the host
// before the launch), so a captured CUDA graph of the step replays with
// every step's own lr.
__global__ void optimizer_prepare(const double *partials, i64 numPartials,
                                  OptimizerState *state, float *gradScaleOut,
                                  const double *lrIn, double maxNorm,
                                  double beta1,
                                  double beta2, double weightDecay,
                                  double invAccum, i64 dynamicScale,
                                  i64 growthInterval) {
  MIND_CHECK_SIGNATURE(optimizer_prepare, optimizer_prepare);
  double acc = 0.0;
  for (i64 i = threadIdx.x; i < numPartials; i += blockDim.x)
    acc += partials[i];
  double sumSq = optBlockSumD(acc);
  if (threadIdx.x != 0)
    return;
  double norm = sqrt(sumSq);
  bool finite = isfinite(norm);
  state->norm = norm;
  state->stepInvScale = state->invScale;
  bool skip = dynamicScale && !finite;
  state->skipped = skip ? 1 : 0;
  if (dynamicScale) {
    if (!finite) {
      state->scale *= 0.5f;
      state->goodSteps = 0;
    } else if (++state->goodSteps == growthInterval) {
      float grown = state->scale * 2.0f;
      if (isfinite(grown))
        state->scale = grown;
      state->goodSteps = 0;
    }
    state->invScale = (float)(1.0 / (double)state->scale);
    *gradScaleOut = (float)((double)state->scale * invAccum);
  }
  if (skip) {
    state->skippedSteps += 1;
    state->coef = 1.0;
    return;
  }
  double coef = maxNorm / (norm + 1e-6);
  state->coef = coef < 1.0 ? coef : 1.0; // NaN norm: unclipped
  const double lr = *lrIn;
  double t = (double)(++state->step);
  state->stepSize = lr / (1.0 - pow(beta1, t));
  state->bc2Sqrt = sqrt(1.0 - pow(beta2, t));
  state->decay = 1.0 - lr * weightDecay;
}

// One element of torch.optim.AdamW (single-tensor), in runtime::adamwUpdate's
// operation order.
__device__ __forceinline__ void adamwElement(float &p, float g, float &m,
                                             float &v, double coef,
                                             double stepSize, double bc2Sqrt,
                                             double decay, double beta1,
                                             double beta2, double eps) {
  if (coef < 1.0) // clip_grad_norm_ scales the fp32 gradient in place
    g = (float)((double)g * coef);
  double gd = g;
  double pd = (double)p * decay;
  double md = beta1 * (double)m + (1.0 - beta1) * gd;
  double vd = beta2 * (double)v + (1.0 - beta2) * gd * gd;
  double denom = sqrt(vd) / bc2Sqrt + eps;
  pd -= stepSize * md / denom;
  m = (float)md;
  v = (float)vd;
  p = (float)pd;
}

// Unscale + clip + AdamW over n flat elements, then zero the gradients for
// the next accumulation window (also when the step is skipped). Reads the
// step scalars optimizer_prepare wrote. With `copy`, also stores each new
// weight rounded to T there (the bf16/f16 weights the next window's matrix
// ops read, rounded as a cast in the micro-step would round them).
template <typename T>
__device__ __forceinline__ void
adamwRegion(float *param, float *grad, float *expAvg, float *expAvgSq,
            T *copy, i64 n, const OptimizerState *state, double beta1,
            double beta2, double eps) {
  const bool skip = state->skipped != 0;
  const float inv = state->stepInvScale;
  const double coef = state->coef, stepSize = state->stepSize,
               bc2Sqrt = state->bc2Sqrt, decay = state->decay;
  i64 stride = (i64)gridDim.x * blockDim.x;
  i64 tid = (i64)blockIdx.x * blockDim.x + threadIdx.x;
  i64 n4 = n / 4;
  float4 *p4 = reinterpret_cast<float4 *>(param);
  float4 *g4 = reinterpret_cast<float4 *>(grad);
  float4 *m4 = reinterpret_cast<float4 *>(expAvg);
  float4 *v4 = reinterpret_cast<float4 *>(expAvgSq);
  for (i64 i = tid; i < n4; i += stride) {
    float4 g = g4[i];
    g4[i] = make_float4(0.f, 0.f, 0.f, 0.f);
    if (skip)
      continue;
    float4 p = p4[i], m = m4[i], v = v4[i];
    adamwElement(p.x, g.x * inv, m.x, v.x, coef, stepSize, bc2Sqrt, decay,
                 beta1, beta2, eps);
    adamwElement(p.y, g.y * inv, m.y, v.y, coef, stepSize, bc2Sqrt, decay,
                 beta1, beta2, eps);
    adamwElement(p.z, g.z * inv, m.z, v.z, coef, stepSize, bc2Sqrt, decay,
                 beta1, beta2, eps);
    adamwElement(p.w, g.w * inv, m.w, v.w, coef, stepSize, bc2Sqrt, decay,
                 beta1, beta2, eps);
    p4[i] = p;
    m4[i] = m;
    v4[i] = v;
    if (copy) {
      copy[4 * i] = fromF32<T>(p.x);
      copy[4 * i + 1] = fromF32<T>(p.y);
      copy[4 * i + 2] = fromF32<T>(p.z);
      copy[4 * i + 3] = fromF32<T>(p.w);
    }
  }
  for (i64 i = 4 * n4 + tid; i < n; i += stride) {
    float g = grad[i];
    grad[i] = 0.f;
    if (skip)
      continue;
    adamwElement(param[i], g * inv, expAvg[i], expAvgSq[i], coef, stepSize,
                 bc2Sqrt, decay, beta1, beta2, eps);
    if (copy)
      copy[i] = fromF32<T>(param[i]);
  }
}

__global__ void adamw_fused(float *param, float *grad, float *expAvg,
                            float *expAvgSq, i64 n,
                            const OptimizerState *state, double beta1,
                            double beta2, double eps) {
  MIND_CHECK_SIGNATURE(adamw_fused, adamw_fused);
  adamwRegion<float>(param, grad, expAvg, expAvgSq, nullptr, n, state, beta1,
                     beta2, eps);
}

template <typename T>
__global__ void adamw_fused_copy(float *param, float *grad, float *expAvg,
                                 float *expAvgSq, T *copy, i64 n,
                                 const OptimizerState *state, double beta1,
                                 double beta2, double eps) {
  MIND_CHECK_SIGNATURE_T(adamw_fused_copy, (T), adamw_fused_copy<T>);
  adamwRegion<T>(param, grad, expAvg, expAvgSq, copy, n, state, beta1, beta2,
                 eps);
}

} // namespace mind
