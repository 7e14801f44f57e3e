// RoPE cos/sin tables, computed on the device with the rounding steps of
// MiniMind's precompute_freqs_cis (f32 table, f64 pow/cos as the reference
// kernel does), YaRN included.
#pragma once

namespace mind {
// One thread per (position, frequency) pair. Arguments: cos, sin [seq, dim]
// float; seq, dim; theta; maxPositions; yarnFactor; yarnOriginalMax;
// betaFast; betaSlow; attentionFactor.
__global__ void rope_table(float *cosOut, float *sinOut, i64 seq, i64 dim,
                           double theta, i64 maxPositions, double yarnFactor,
                           i64 yarnOriginalMax, double betaFast,
                           double betaSlow, double attentionFactor) {
  MIND_CHECK_SIGNATURE(rope_table, rope_table);
  i64 half = dim / 2;
  i64 idx = blockIdx.x * (i64)blockDim.x + threadIdx.x;
  if (idx >= seq * half)
    return;
  i64 s = idx / half, j = idx % half;
  float expo = (float)(2 * j) / (float)dim;
  float p = (float)pow((double)(float)theta, (double)expo);
  float invFreq = 1.0f / p;
  if (yarnFactor != 1.0 && yarnOriginalMax > 0 &&
      (double)maxPositions / (double)yarnOriginalMax > 1.0) {
    const double kPi = 3.14159265358979323846;
    double corrFast = dim * log(yarnOriginalMax / (betaFast * 2.0 * kPi)) /
                      (2.0 * log(theta));
    double corrSlow = dim * log(yarnOriginalMax / (betaSlow * 2.0 * kPi)) /
                      (2.0 * log(theta));
    double low = fmax(floor(corrFast), 0.0);
    double high = fmin(ceil(corrSlow), (double)(half - 1));
    float denom = (float)fmax(high - low, 0.001);
    float ramp = ((float)j - (float)low) / denom;
    ramp = fminf(fmaxf(ramp, 0.0f), 1.0f);
    invFreq = invFreq * ((1.0f - ramp) + ramp / (float)yarnFactor);
  }
  float angle = (float)s * invFreq;
  float attn = (float)attentionFactor;
  float c = (float)cos((double)angle) * attn;
  float sn = (float)sin((double)angle) * attn;
  cosOut[s * dim + j] = cosOut[s * dim + j + half] = c;
  sinOut[s * dim + j] = sinOut[s * dim + j + half] = sn;
}
} // namespace mind
