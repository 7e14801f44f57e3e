//===- AttentionSpecs.cpp - launch rules of the attention kernels ---------===//

#include "mind/abi/AttentionSpecs.h"
#include "mind/abi/KernelSpecs.h"

#include <stdexcept>
#include <string>

using namespace mind::runtime;
using namespace mind::runtime::kernels;
namespace sig = mind::sig;

namespace {
constexpr uint32_t kThreads = 128; // attn::kThreads
constexpr uint32_t kRowThreads = 256;

void check(bool ok, const std::string &msg) {
  if (!ok)
    throw std::invalid_argument("attention: " + msg);
}

/// Validates the problem.
void checkProblem(DType dtype, int64_t batch, int64_t seq, int64_t qHeads,
                  int64_t kvHeads, int64_t headDim) {
  cudaTypeName(dtype); // throws for non-float dtypes
  check(headDim == 16 || headDim == 32 || headDim == 64 || headDim == 96 ||
            headDim == 128,
        "head dim must be 16, 32, 64, 96 or 128, got " +
            std::to_string(headDim));
  check(batch > 0 && seq > 0 && qHeads > 0 && kvHeads > 0,
        "batch, seq and head counts must be positive");
  check(qHeads % kvHeads == 0, "query heads (" + std::to_string(qHeads) +
                                   ") must be a multiple of KV heads (" +
                                   std::to_string(kvHeads) + ")");
  // Grid y/z carry heads and batch.
  check(batch <= 65535 && qHeads <= 65535, "batch or heads exceed the grid");
  check(seq < (int64_t(1) << 31), "sequence too long");
}

// fp32 storage: attention.cuh (register-blocked FMA tiles). Mirrors
// attn::Cfg<float, D> and the kernels' shared-memory layouts.
struct FmaTiles {
  uint64_t bk, ldT, ldS, ldO;
  explicit FmaTiles(int64_t d)
      : bk(d > 64 ? 32 : 64), ldT(d + 1), ldS(bk + 1), ldO(d + 1) {}
};
constexpr uint64_t kFmaFwdQTile = 64, kFmaBwdQTile = 32, kFmaDqQTile = 32;

uint32_t fmaFwdShared(const FmaTiles &t) {
  uint64_t bq = kFmaFwdQTile; // Q, K, V; S (P in place), O, m, l
  return static_cast<uint32_t>(
      ((bq + 2 * t.bk) * t.ldT + bq * t.ldS + bq * t.ldO + 2 * bq) * 4);
}
uint32_t fmaBwdShared(const FmaTiles &t) {
  uint64_t bq = kFmaBwdQTile; // K, V, Q, dO; S, dP, dK, dV, lse, delta
  return static_cast<uint32_t>(((2 * t.bk + 2 * bq) * t.ldT + 2 * bq * t.ldS +
                                2 * t.bk * t.ldO + 2 * bq) *
                               4);
}
uint32_t fmaDqShared(const FmaTiles &t) {
  uint64_t bq = kFmaDqQTile; // Q, dO, K, V; S, dP (dS in place), dQ, stats
  return static_cast<uint32_t>(
      ((2 * bq + 2 * t.bk) * t.ldT + 2 * bq * t.ldS + bq * t.ldO + 2 * bq) * 4);
}

// bf16/f16 storage: attention_mma.cuh. 64-row tiles of D + 8 elements; the
// streamed tiles (K/V, or Q/dO in the dK/dV pass) are double-buffered. For
// D > 96 the dQ pass streams 32-key tiles and the dK/dV pass 32-query tiles
// (register budget).
constexpr uint64_t kMmaTile = 64;
uint64_t mmaLd(int64_t d) { return static_cast<uint64_t>(d) + 8; }
uint64_t mmaSmallTile(int64_t d) { return d > 96 ? 32 : 64; }
uint32_t mmaFwdShared(int64_t d) { // Q, 2 x (K, V)
  return static_cast<uint32_t>((kMmaTile + 4 * kMmaTile) * mmaLd(d) * 2);
}
uint32_t mmaDqShared(int64_t d) { // Q, dO, 2 x (K, V)
  return static_cast<uint32_t>((2 * kMmaTile + 4 * mmaSmallTile(d)) * mmaLd(d) *
                               2);
}
uint32_t mmaDkdvShared(int64_t d) { // K, V, 2 x (Q, dO, lse, delta)
  uint64_t bq = mmaSmallTile(d);
  return static_cast<uint32_t>((2 * kMmaTile + 4 * bq) * mmaLd(d) * 2 +
                               4 * bq * 4);
}

/// The instantiation <dtype, headDim> of S's kernel or of `kernel`.
template <class S>
std::string tmpl(const char *kernel, DType dtype, int64_t headDim) {
  std::vector<std::string> args = {cudaTypeName(dtype)};
  if (headDim > 0)
    args.push_back(std::to_string(headDim));
  return instance<S>(args, kernel);
}

uint32_t blocks(uint64_t n, uint64_t per) {
  uint64_t g = (n + per - 1) / per;
  check(g < (uint64_t(1) << 31), "problem exceeds the grid");
  return static_cast<uint32_t>(g);
}
} // namespace

kabi::Launch<sig::attention_fwd>
mind::runtime::kernels::attentionForward(DType dtype, int64_t batch,
                                         int64_t seq, int64_t qHeads,
                                         int64_t kvHeads, int64_t headDim) {
  checkProblem(dtype, batch, seq, qHeads, kvHeads, headDim);
  bool fma = dtype == DType::F32;
  kabi::Launch<sig::attention_fwd> c;
  c.nameExpr = tmpl<sig::attention_fwd>(
      fma ? "attention_fwd" : "attention_fwd_mma", dtype, headDim);
  c.grid = {blocks(seq, fma ? kFmaFwdQTile : kMmaTile),
            static_cast<uint32_t>(qHeads), static_cast<uint32_t>(batch)};
  c.block = {kThreads, 1, 1};
  c.sharedBytes = fma ? fmaFwdShared(FmaTiles(headDim)) : mmaFwdShared(headDim);
  return c;
}

AttentionBackward
mind::runtime::kernels::attentionBackward(DType dtype, int64_t batch,
                                          int64_t seq, int64_t qHeads,
                                          int64_t kvHeads, int64_t headDim) {
  checkProblem(dtype, batch, seq, qHeads, kvHeads, headDim);
  bool fma = dtype == DType::F32;
  FmaTiles t(headDim);
  AttentionBackward r;
  uint64_t rows = uint64_t(batch) * seq * qHeads;
  r.prep.nameExpr =
      tmpl<sig::attention_bwd_prep>("attention_bwd_prep", dtype, 0);
  // attention_bwd_prep: a warp per 4 rows (grid stride, any grid works).
  r.prep.grid = {blocks(rows, kRowThreads / 32 * 4), 1, 1};
  r.prep.block = {kRowThreads, 1, 1};

  r.main.nameExpr = tmpl<sig::attention_bwd>(
      fma ? "attention_bwd" : "attention_bwd_dkdv_mma", dtype, headDim);
  r.main.grid = {blocks(seq, fma ? t.bk : kMmaTile),
                 static_cast<uint32_t>(kvHeads), static_cast<uint32_t>(batch)};
  r.main.block = {kThreads, 1, 1};
  r.main.sharedBytes = fma ? fmaBwdShared(t) : mmaDkdvShared(headDim);

  r.dq.nameExpr = tmpl<sig::attention_bwd_dq>(
      fma ? "attention_bwd_dq" : "attention_bwd_dq_mma", dtype, headDim);
  r.dq.grid = {blocks(seq, fma ? kFmaDqQTile : kMmaTile),
               static_cast<uint32_t>(qHeads), static_cast<uint32_t>(batch)};
  r.dq.block = {kThreads, 1, 1};
  r.dq.sharedBytes = fma ? fmaDqShared(t) : mmaDqShared(headDim);

  r.workspaces = {{"delta", DType::F32, {batch, qHeads, seq}}};
  return r;
}

AttentionBackwardRope mind::runtime::kernels::attentionBackwardRope(
    DType dtype, int64_t batch, int64_t seq, int64_t qHeads, int64_t kvHeads,
    int64_t headDim) {
  check(dtype != DType::F32,
        "the RoPE-fused attention backward needs bf16 or f16 storage");
  AttentionBackward plain =
      attentionBackward(dtype, batch, seq, qHeads, kvHeads, headDim);
  AttentionBackwardRope r;
  r.prep = plain.prep;
  static_cast<LaunchConfig &>(r.main) = plain.main;
  r.main.nameExpr = tmpl<sig::attention_bwd_dkdv_rope_mma>(
      "attention_bwd_dkdv_rope_mma", dtype, headDim);
  static_cast<LaunchConfig &>(r.dq) = plain.dq;
  r.dq.nameExpr = tmpl<sig::attention_bwd_dq_rope_mma>(
      "attention_bwd_dq_rope_mma", dtype, headDim);
  r.workspaces = plain.workspaces;
  return r;
}

std::vector<std::string>
mind::runtime::kernels::attentionKernelNames(DType dtype, int64_t headDim) {
  AttentionBackward b = attentionBackward(dtype, 1, 1, 1, 1, headDim);
  std::vector<std::string> names = {
      attentionForward(dtype, 1, 1, 1, 1, headDim).nameExpr, b.prep.nameExpr,
      b.main.nameExpr, b.dq.nameExpr};
  if (dtype != DType::F32) {
    AttentionBackwardRope r = attentionBackwardRope(dtype, 1, 1, 1, 1, headDim);
    names.push_back(r.main.nameExpr);
    names.push_back(r.dq.nameExpr);
  }
  return names;
}
