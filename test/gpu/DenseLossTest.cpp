//===- DenseLossTest.cpp - embedding, softmax, cross entropy on the GPU ---===//

#include "DenseTestUtil.h"

using namespace mind;
using namespace mind::gputest;
using namespace mind::gputest::dense;
namespace k = mind::runtime::kernels;

namespace {
/// A rank-0 reference result as the [1] tensor a device scalar downloads to.
ref::Tensor asVector1(const ref::Tensor &scalar) {
  return ref::Tensor::fromData({1}, {scalar.data.at(0)});
}
} // namespace

//===----------------------------------------------------------------------===//
// Embedding
//===----------------------------------------------------------------------===//

TEST(DenseEmbedding, ForwardCopiesRowsAndFlagsBadIds) {
  MIND_REQUIRE_GPU();
  std::mt19937 rng(301);
  struct ECase {
    int64_t vocab, hidden, tokens;
    DType t;
  };
  // MiniMind's vocab 6400 x hidden 512 with a ragged token count; hidden 300
  // is not a whole number of 16-byte chunks in bf16/f16 (scalar copies).
  std::vector<ECase> cases;
  for (DType t : {DType::F32, DType::BF16, DType::F16}) {
    cases.push_back({6400, 512, 1037, t});
    cases.push_back({97, 300, 61, t});
  }
  std::vector<runtime::LaunchConfig> cfgs;
  for (const ECase &c : cases)
    cfgs.push_back(k::embedding(c.t, c.tokens, c.hidden));
  KernelRunner run(cfgs);
  for (size_t i = 0; i < cases.size(); ++i) {
    const ECase &c = cases[i];
    auto table = rounded(randomTensor({c.vocab, c.hidden}, rng), c.t);
    auto ids = randomInts({c.tokens}, c.vocab, rng);
    DevTensor dTable = upload(table, c.t), dIds = upload(ids, DType::I64);
    DevTensor out = poisoned({c.tokens, c.hidden}, c.t);
    run.run(i, {&dTable, &dIds, &out, c.tokens, c.hidden, c.vocab});
    expectClose(download(out), ref::embedding(table, ids), 0, 0,
                "embedding (" + label(c.t) + ")");

    // An out-of-range id gives a NaN row instead of an out-of-bounds read.
    auto bad = ids;
    bad.data[3] = static_cast<double>(c.vocab);
    DevTensor dBad = upload(bad, DType::I64);
    run.run(i, {&dTable, &dBad, &out, c.tokens, c.hidden, c.vocab});
    ref::Tensor got = download(out);
    for (int64_t j = 0; j < c.hidden; ++j)
      ASSERT_TRUE(std::isnan(got.data[3 * c.hidden + j])) << j;
    EXPECT_EQ(got.data[4 * c.hidden],
              table.data[static_cast<int64_t>(ids.data[4]) * c.hidden]);
  }
}

// The embedding gradient adds into dtable (here pre-filled with random
// values). The small vocab makes many tokens share a row; one case draws
// half of its ids from row 0 (like padding), so a row spans many chunks and
// one chunk holds a long run; a few ids are out of range and must be
// skipped. Two runs must agree to the bit (no float atomics).
TEST(DenseEmbedding, GradAccumulatesScatterAddDeterministically) {
  MIND_REQUIRE_GPU();
  std::mt19937 rng(302);
  struct GCase {
    int64_t vocab, hidden, tokens;
    DType t;
    bool skewed = false;
  };
  std::vector<GCase> cases;
  for (DType t : {DType::F32, DType::BF16, DType::F16}) {
    cases.push_back({97, 512, 1037, t});
    cases.push_back({6400, 300, 512, t});
    cases.push_back({6400, 64, 5000, t, true});
  }
  cases.push_back({13, 5, 1, DType::F32}); // one token, one partial chunk
  for (const GCase &c : cases) {
    SCOPED_TRACE(label(c.t) + " V" + std::to_string(c.vocab) + " H" +
                 std::to_string(c.hidden) + " N" + std::to_string(c.tokens));
    auto grad = k::embeddingGrad(c.t, c.tokens, c.hidden, c.vocab);
    ASSERT_EQ(grad.workspaces.size(), 3u);
    ASSERT_EQ(grad.chunks, (c.tokens + 255) / 256);
    KernelRunner run({grad.runs, grad.reduce});
    auto dy = rounded(randomTensor({c.tokens, c.hidden}, rng), c.t);
    auto ids = randomInts({c.tokens}, c.vocab, rng);
    if (c.skewed)
      for (int64_t i = 0; i < c.tokens; i += 2)
        ids.data[i] = 0;
    std::vector<int64_t> bad;
    if (c.tokens > 100)
      for (int64_t i : {int64_t(3), int64_t(77)}) {
        ids.data[i] = i == 3 ? -1 : c.vocab; // outside [0, V): skipped
        bad.push_back(i);
      }
    auto init = rounded(randomTensor({c.vocab, c.hidden}, rng), DType::F32);
    DevTensor dDy = upload(dy, c.t), dIds = upload(ids, DType::I64);
    auto runOnce = [&] {
      DevTensor dTable = upload(init, DType::F32);
      std::vector<DevTensor> ws;
      for (const auto &w : grad.workspaces)
        ws.push_back(poisoned(w.shape, w.dtype));
      run.run(0, {&dDy, &dIds, &ws[0], &ws[1], &ws[2], c.tokens, c.hidden,
                  c.vocab});
      run.run(1, {&ws[0], &ws[1], &ws[2], &dTable, grad.chunks, c.hidden,
                  c.vocab});
      return download(dTable);
    };
    ref::Tensor got = runOnce();
    // The reference throws on bad ids: give it the valid tokens only.
    ref::Tensor dyOk = dy, idsOk = ids;
    for (int64_t i : bad) {
      idsOk.data[i] = 0;
      for (int64_t j = 0; j < c.hidden; ++j)
        dyOk.data[i * c.hidden + j] = 0.0;
    }
    auto want = ref::add(init, ref::embeddingGrad(dyOk, idsOk, c.vocab));
    // ~tokens/vocab f32 additions per entry; the skewed row sums ~2500
    // terms to values near 50, so its absolute error scales with that size.
    double scale = 0;
    for (double x : want.data)
      scale = std::max(scale, std::abs(x));
    expectClose(got, want, c.skewed ? 1e-6 * scale : 1e-5, 1e-5,
                "embedding_grad");
    EXPECT_TRUE(got.data == runOnce().data) << "two runs differ";
  }
}

//===----------------------------------------------------------------------===//
// Softmax
//===----------------------------------------------------------------------===//

TEST(DenseSoftmax, ForwardAndGradMatchReference) {
  MIND_REQUIRE_GPU();
  std::mt19937 rng(303);
  struct SCase {
    int64_t rows, cols;
    DType t;
  };
  // Router-sized rows (warp per row; ragged cols 1001 too) and long rows
  // (block per row, ragged 4099 too).
  const std::pair<int64_t, int64_t> shapes[] = {
      {1037, 4}, {1037, 8}, {333, 64}, {37, 1001}, {37, 2000}, {9, 6400},
      {5, 4099}};
  std::vector<SCase> cases;
  for (auto [rows, cols] : shapes)
    for (DType t : {DType::F32, DType::BF16})
      cases.push_back({rows, cols, t});
  cases.push_back({37, 1001, DType::F16});
  std::vector<runtime::LaunchConfig> cfgs;
  for (const SCase &c : cases) {
    cfgs.push_back(k::softmax(c.t, c.rows, c.cols));
    cfgs.push_back(k::softmaxGrad(c.t, c.rows, c.cols));
  }
  KernelRunner run(cfgs);
  for (size_t i = 0; i < cases.size(); ++i) {
    const SCase &c = cases[i];
    std::string what = " rows " + std::to_string(c.rows) + " cols " +
                       std::to_string(c.cols);
    auto x = rounded(randomTensor({c.rows, c.cols}, rng, -8, 8), c.t);
    DevTensor dX = upload(x, c.t), y = poisoned({c.rows, c.cols}, c.t);
    run.run(2 * i, {&dX, &y, c.rows, c.cols});
    expectStorageClose(download(y), ref::softmax(x), c.t, "softmax" + what);

    auto yIn = rounded(ref::softmax(x), c.t);
    auto dy = rounded(randomTensor({c.rows, c.cols}, rng), c.t);
    DevTensor dY = upload(yIn, c.t), dDy = upload(dy, c.t);
    DevTensor dx = poisoned({c.rows, c.cols}, c.t);
    run.run(2 * i + 1, {&dY, &dDy, &dx, c.rows, c.cols});
    // dy - sum(dy*y) cancels: atol follows the output's scale.
    expectStorageClose(download(dx), ref::softmaxGrad(yIn, dy), c.t,
                       "softmax_grad" + what, 1e-5);
  }
}

//===----------------------------------------------------------------------===//
// Cross entropy
//===----------------------------------------------------------------------===//

namespace {
struct CeCase {
  int64_t rows, vocab;
  DType t;
};

// The four launches of a loss + gradient, in runner order.
void addCeLaunches(std::vector<runtime::LaunchConfig> &cfgs, const CeCase &c) {
  cfgs.push_back(k::crossEntropy(c.t, c.rows, c.vocab));
  cfgs.push_back(k::crossEntropyFinalize(c.rows));
  cfgs.push_back(k::crossEntropyMaskSum(c.rows));
  cfgs.push_back(k::crossEntropyGrad(c.t, c.rows, c.vocab));
}

struct CeResult {
  ref::Tensor loss, dlogits;
};

CeResult runCe(KernelRunner &run, size_t first, const CeCase &c,
               const ref::Tensor &logits, const ref::Tensor &targets,
               const ref::Tensor &mask, double dloss) {
  DevTensor dLogits = upload(logits, c.t);
  DevTensor dTargets = upload(targets, DType::I64),
            dMask = upload(mask, DType::I64);
  DevTensor dDloss = upload(ref::Tensor::fromData({1}, {dloss}), DType::F32);
  // Workspaces poisoned: the kernels must overwrite them fully.
  DevTensor rowLoss = poisoned({c.rows}, DType::F32);
  DevTensor norm = poisoned({1}, DType::F32);
  DevTensor loss = poisoned({1}, DType::F32);
  DevTensor dlogits = poisoned({c.rows, c.vocab}, c.t);
  run.run(first, {&dLogits, &dTargets, &dMask, &rowLoss, c.rows, c.vocab});
  run.run(first + 1, {&rowLoss, &dMask, &loss, c.rows});
  run.run(first + 2, {&dMask, &norm, c.rows});
  run.run(first + 3, {&dLogits, &dTargets, &dMask, &dDloss, &norm, &dlogits,
                      c.rows, c.vocab});
  return {download(loss), download(dlogits)};
}
} // namespace

TEST(DenseCrossEntropy, LossAndGradMatchReference) {
  MIND_REQUIRE_GPU();
  std::mt19937 rng(304);
  // MiniMind's vocab 6400 over 512 rows; a ragged vocab (scalar loads, not
  // a multiple of the block); a tiny vocab (one warp per row).
  std::vector<CeCase> cases;
  for (DType t : {DType::F32, DType::BF16}) {
    cases.push_back({512, 6400, t});
    cases.push_back({37, 1001, t});
    cases.push_back({100, 50, t});
  }
  cases.push_back({37, 1001, DType::F16});
  std::vector<runtime::LaunchConfig> cfgs;
  for (const CeCase &c : cases)
    addCeLaunches(cfgs, c);
  KernelRunner run(cfgs);
  std::bernoulli_distribution keep(0.75);
  for (size_t i = 0; i < cases.size(); ++i) {
    const CeCase &c = cases[i];
    std::string what = " rows " + std::to_string(c.rows) + " V " +
                       std::to_string(c.vocab) + " (" + label(c.t) + ")";
    auto logits = rounded(randomTensor({c.rows, c.vocab}, rng, -6, 6), c.t);
    auto targets = randomInts({c.rows}, c.vocab, rng);
    ref::Tensor mask({c.rows});
    for (int64_t r = 0; r < c.rows; ++r) {
      mask.data[r] = keep(rng) || r == 0 ? 1.0 : 0.0;
      if (mask.data[r] == 0.0)
        targets.data[r] = -100; // padding: must not be read
    }
    const double dloss = 0.7;
    CeResult got = runCe(run, 4 * i, c, logits, targets, mask, dloss);
    // The loss is f32 math on exact inputs (logsumexp over V in f32).
    expectClose(got.loss, asVector1(ref::crossEntropy(logits, targets, mask)),
                1e-6, 2e-5, "cross_entropy" + what);
    expectStorageClose(got.dlogits,
                       ref::crossEntropyGrad(logits, targets, mask, dloss),
                       c.t, "cross_entropy_grad" + what);
  }
}

TEST(DenseCrossEntropy, AllMaskedGivesNaNLikeReference) {
  MIND_REQUIRE_GPU();
  std::mt19937 rng(305);
  CeCase c{7, 300, DType::BF16};
  std::vector<runtime::LaunchConfig> cfgs;
  addCeLaunches(cfgs, c);
  KernelRunner run(cfgs);
  auto logits = rounded(randomTensor({c.rows, c.vocab}, rng), c.t);
  auto targets = randomInts({c.rows}, c.vocab, rng);
  ref::Tensor mask({c.rows}, 0.0);
  CeResult got = runCe(run, 0, c, logits, targets, mask, 1.0);
  EXPECT_TRUE(std::isnan(got.loss.data[0]));
  for (double v : got.dlogits.data)
    ASSERT_TRUE(std::isnan(v));
}
