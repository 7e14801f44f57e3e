//===- AttentionSpecs.cpp - launch rules of the attention kernels ---------===//

#include "mind/runtime/AttentionSpecs.h"
#include "mind/runtime/KernelSpecs.h"

#include <stdexcept>
#include <string>

using namespace mind::runtime;
using namespace mind::runtime::kernels;

namespace {
constexpr uint32_t kThreads = 128; // attn::kThreads
constexpr uint32_t kRowThreads = 256;

void check(bool ok, const std::string &msg) {
  if (!ok)
    throw std::invalid_argument("attention: " + msg);
}

/// Validates the problem; returns the element size of the storage type.
uint64_t checkProblem(DType dtype, int64_t batch, int64_t seq, int64_t qHeads,
                      int64_t kvHeads, int64_t headDim) {
  std::string t = cudaTypeName(dtype); // throws for non-float dtypes
  check(headDim == 16 || headDim == 32 || headDim == 64 || headDim == 96 ||
            headDim == 128,
        "head dim must be 16, 32, 64, 96 or 128, got " + std::to_string(headDim));
  check(batch > 0 && seq > 0 && qHeads > 0 && kvHeads > 0,
        "batch, seq and head counts must be positive");
  check(qHeads % kvHeads == 0, "query heads (" + std::to_string(qHeads) +
                                   ") must be a multiple of KV heads (" +
                                   std::to_string(kvHeads) + ")");
  // Grid y/z carry heads and batch.
  check(batch <= 65535 && qHeads <= 65535, "batch or heads exceed the grid");
  check(seq < (int64_t(1) << 31), "sequence too long");
  return dtype == DType::F32 ? 4 : 2;
}

// Mirrors attn::Cfg and the shared-memory layouts of attention.cuh.
struct Tiles {
  uint64_t es, padT, padF, bk, ldT, ldP, ldS, ldO;
  Tiles(uint64_t elem, int64_t d)
      : es(elem), padT(elem == 4 ? 1 : 8), padF(elem == 4 ? 1 : 4),
        bk(d > 64 ? 32 : 64), ldT(d + padT), ldP(bk + padT), ldS(bk + padF),
        ldO(d + padF) {}
  bool wide() const { return es == 4; } // fp32: P/dS overwrite S/dP
};
constexpr uint64_t kFwdQTile = 64, kBwdQTile = 32;
uint64_t dqQTile(const Tiles &t) { return t.wide() ? 32 : 64; }

uint32_t fwdShared(const Tiles &t) {
  uint64_t bq = kFwdQTile;
  uint64_t bytes = (bq + 2 * t.bk) * t.ldT * t.es; // Q, K, V
  if (!t.wide())
    bytes += bq * t.ldP * t.es;                    // P
  bytes += (bq * t.ldS + bq * t.ldO + 2 * bq) * 4; // S, O, m, l
  return static_cast<uint32_t>(bytes);
}

uint32_t bwdShared(const Tiles &t) {
  uint64_t bq = kBwdQTile;
  uint64_t bytes = (2 * t.bk + 2 * bq) * t.ldT * t.es; // K, V, Q, dO
  if (!t.wide())
    bytes += 2 * bq * t.ldP * t.es; // P, dS
  bytes += (2 * bq * t.ldS + 2 * t.bk * t.ldO + 2 * bq) * 4;
  return static_cast<uint32_t>(bytes); // S, dP, dK, dV, lse, delta
}

uint32_t dqShared(const Tiles &t) {
  uint64_t bq = dqQTile(t);
  uint64_t bytes = (2 * bq + 2 * t.bk) * t.ldT * t.es; // Q, dO, K, V
  if (!t.wide())
    bytes += bq * t.ldP * t.es;                         // dS
  bytes += (2 * bq * t.ldS + bq * t.ldO + 2 * bq) * 4; // S, dP, dQ, lse, delta
  return static_cast<uint32_t>(bytes);
}

std::string tmpl(const char *kernel, DType dtype, int64_t headDim) {
  std::string s = std::string("mind::") + kernel + "<" + cudaTypeName(dtype);
  if (headDim > 0)
    s += ", " + std::to_string(headDim);
  return s + ">";
}

uint32_t blocks(uint64_t n, uint64_t per) {
  uint64_t g = (n + per - 1) / per;
  check(g < (uint64_t(1) << 31), "problem exceeds the grid");
  return static_cast<uint32_t>(g);
}
} // namespace

LaunchConfig
mind::runtime::kernels::attentionForward(DType dtype, int64_t batch,
                                         int64_t seq, int64_t qHeads,
                                         int64_t kvHeads, int64_t headDim) {
  uint64_t es = checkProblem(dtype, batch, seq, qHeads, kvHeads, headDim);
  LaunchConfig c;
  c.nameExpr = tmpl("attention_fwd", dtype, headDim);
  c.grid = {blocks(seq, kFwdQTile), static_cast<uint32_t>(qHeads),
            static_cast<uint32_t>(batch)};
  c.block = {kThreads, 1, 1};
  c.sharedBytes = fwdShared(Tiles(es, headDim));
  return c;
}

AttentionBackward
mind::runtime::kernels::attentionBackward(DType dtype, int64_t batch,
                                          int64_t seq, int64_t qHeads,
                                          int64_t kvHeads, int64_t headDim) {
  uint64_t es = checkProblem(dtype, batch, seq, qHeads, kvHeads, headDim);
  Tiles t(es, headDim);
  AttentionBackward r;
  uint64_t rows = uint64_t(batch) * seq * qHeads;
  r.prep.nameExpr = tmpl("attention_bwd_prep", dtype, 0);
  r.prep.grid = {blocks(rows, kRowThreads / 32), 1, 1};
  r.prep.block = {kRowThreads, 1, 1};

  r.main.nameExpr = tmpl("attention_bwd", dtype, headDim);
  r.main.grid = {blocks(seq, t.bk), static_cast<uint32_t>(kvHeads),
                 static_cast<uint32_t>(batch)};
  r.main.block = {kThreads, 1, 1};
  r.main.sharedBytes = bwdShared(t);

  r.dq.nameExpr = tmpl("attention_bwd_dq", dtype, headDim);
  r.dq.grid = {blocks(seq, dqQTile(t)), static_cast<uint32_t>(qHeads),
               static_cast<uint32_t>(batch)};
  r.dq.block = {kThreads, 1, 1};
  r.dq.sharedBytes = dqShared(t);

  r.workspaces = {{"delta", DType::F32, {batch, qHeads, seq}}};
  return r;
}

std::vector<std::string>
mind::runtime::kernels::attentionKernelNames(DType dtype, int64_t headDim) {
  AttentionBackward b = attentionBackward(dtype, 1, 1, 1, 1, headDim);
  return {attentionForward(dtype, 1, 1, 1, 1, headDim).nameExpr,
          b.prep.nameExpr, b.main.nameExpr, b.dq.nameExpr};
}
