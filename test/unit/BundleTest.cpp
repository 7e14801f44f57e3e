//===- BundleTest.cpp - plan JSON, bundle bytes, embedded bundles ---------===//

#include "SampleBundle.h"

#include "mind/abi/Bundle.h"
#include "mind/abi/OptimizerSpecs.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <sys/stat.h>
#include <unistd.h>

using namespace mind::runtime;
using nlohmann::json;
using namespace mind::runtime::samples;

namespace {

std::vector<uint8_t> rawFromPlanJson(const json &j) {
  return rawBundle({j.dump(), "cubin", "", "", ""});
}

// Expects `fn` to throw an exception whose message contains `needle`.
template <typename Ex = std::runtime_error>
void expectError(const std::function<void()> &fn, const std::string &needle) {
  try {
    fn();
    ADD_FAILURE() << "no error; expected one mentioning '" << needle << "'";
  } catch (const Ex &e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
        << "message: " << e.what() << "\nexpected to contain: " << needle;
  }
}

void expectPlanError(const std::function<void(Plan &)> &mutate,
                     const std::string &needle) {
  Plan p = samplePlan();
  mutate(p);
  expectError<BundleError>([&] { validatePlan(p); }, needle);
}

void expectTrainingError(const std::function<void(Plan &)> &mutate,
                         const std::string &needle) {
  Plan p = samplePlan();
  mutate(p);
  expectError<BundleError>([&] { trainingInterface(p); }, needle);
}

class BundleFiles : public ::testing::Test {
protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mind-bundle-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir = tmpl;
  }
  void TearDown() override {
    for (const std::string &f : created) {
      std::remove(f.c_str());
      std::remove((f + ".tmp").c_str());
    }
    rmdir(dir.c_str());
  }
  std::string path(const std::string &name) {
    created.push_back(dir + "/" + name);
    return created.back();
  }
  void writeBytes(const std::string &p, const std::vector<uint8_t> &bytes) {
    std::ofstream out(p, std::ios::binary);
    out.write(reinterpret_cast<const char *>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
  }
  std::string dir;
  std::vector<std::string> created;
};

void expectSameBundle(const Bundle &a, const Bundle &b) {
  EXPECT_EQ(toJson(a.plan), toJson(b.plan));
  EXPECT_EQ(a.cubin, b.cubin);
  EXPECT_EQ(a.ptx, b.ptx);
  EXPECT_EQ(a.cudaSource, b.cudaSource);
  EXPECT_EQ(a.mlir, b.mlir);
}

//===----------------------------------------------------------------------===//
// Plan JSON
//===----------------------------------------------------------------------===//

TEST(PlanJson, RoundTripsThroughText) {
  Plan p = samplePlan();
  json j = toJson(p);
  Plan q = planFromJson(json::parse(j.dump()));
  EXPECT_EQ(toJson(q), j);
  const auto &k = std::get<KernelStep>(q.steps[2]);
  EXPECT_EQ(k.args[1].i64, -5);
  EXPECT_EQ(k.args[2].kind, KernelArg::Kind::F32);
  EXPECT_TRUE(std::isinf(k.args[3].f) && k.args[3].f < 0);
  EXPECT_TRUE(std::isnan(k.args[4].f));
  EXPECT_EQ(k.args[5].kind, KernelArg::Kind::Buffers);
  EXPECT_EQ(k.args[5].buffers, (std::vector<int64_t>{10, 12}));
  EXPECT_EQ(q.kernels[3].params, p.kernels[3].params);
  EXPECT_EQ(q.kernels[0].params,
            mind::runtime::kabi::resolveLibraryKernel(p.kernels[0].nameExpr));
  EXPECT_TRUE(std::get<GemmStep>(q.steps[1]).transB);
  EXPECT_EQ(q.buffers[7].shape, std::vector<int64_t>{});
  EXPECT_EQ(q.meta["dtype"], "bfloat16");
}

TEST(PlanJson, MissingFieldIsNamed) {
  json j = toJson(samplePlan());
  j["buffers"][2].erase("offset");
  expectError([&] { planFromJson(j); }, "buffers[2].offset: missing");
  j = toJson(samplePlan());
  j.erase("arena_bytes");
  expectError([&] { planFromJson(j); }, "arena_bytes: missing");
  j = toJson(samplePlan());
  j["steps"][2]["args"][1].erase("value");
  expectError([&] { planFromJson(j); }, "steps[2].args[1].value: missing");
}

TEST(PlanJson, IllTypedFieldIsNamed) {
  json j = toJson(samplePlan());
  j["steps"][2]["grid"] = "big";
  expectError([&] { planFromJson(j); }, "steps[2].grid");
  j = toJson(samplePlan());
  j["steps"][1]["trans_a"] = 1;
  expectError([&] { planFromJson(j); }, "steps[1].trans_a: expected true");
  j = toJson(samplePlan());
  j["buffers"][0]["offset"] = -256;
  expectError([&] { planFromJson(j); }, "buffers[0].offset");
  j = toJson(samplePlan());
  j["buffers"][0]["dtype"] = "F33";
  expectError([&] { planFromJson(j); }, "unknown dtype 'F33'");
  j = toJson(samplePlan());
  j["buffers"][0]["kind"] = "weight";
  expectError([&] { planFromJson(j); }, "unknown buffer kind 'weight'");
  j = toJson(samplePlan());
  j["steps"][0]["kind"] = "collective";
  expectError([&] { planFromJson(j); }, "unknown step kind 'collective'");
  j = toJson(samplePlan());
  j["steps"][2]["args"][0]["kind"] = "ptr";
  expectError([&] { planFromJson(j); }, "unknown argument kind 'ptr'");
  j = toJson(samplePlan());
  j["meta"] = json::array();
  expectError([&] { planFromJson(j); }, "meta: expected an object");
  expectError([&] { planFromJson(json::array()); }, "expected an object");
}

//===----------------------------------------------------------------------===//
// Plan rules
//===----------------------------------------------------------------------===//

TEST(PlanRules, SamplePlanIsValid) {
  EXPECT_NO_THROW(validatePlan(samplePlan()));
  TrainingInterface t = trainingInterface(samplePlan());
  EXPECT_EQ(t.batch, 2);
  EXPECT_EQ(t.seq, 4);
  EXPECT_EQ(t.dtype, "bfloat16");
  EXPECT_EQ(t.ids, 4);
  EXPECT_EQ(t.auxLoss, 9);
  EXPECT_EQ(t.layout.paramBase, 0u);
  EXPECT_EQ(t.layout.gradBase, 768u);
  EXPECT_EQ(t.layout.regionBytes, 544u);
  EXPECT_EQ(t.layout.numElements(), 136u);
}

TEST(PlanRules, BufferViolations) {
  expectPlanError([](Plan &p) { p.buffers[11].offset = 3330; },
                  "offset 3330 is not a multiple of 256");
  expectPlanError([](Plan &p) { p.buffers[12].offset = 4096; },
                  "exceed the arena of 4096 bytes");
  expectPlanError([](Plan &p) { p.buffers[0].bytes = 500; },
                  "500 bytes, but shape [16, 8] of F32 needs 512");
  expectPlanError([](Plan &p) { p.buffers[13].name = "x"; },
                  "'x': duplicate name");
  expectPlanError([](Plan &p) { p.buffers[5].offset = 1536; }, "overlaps");
  expectPlanError([](Plan &p) { p.buffers[13].offset = 512; },
                  "only activations may share memory");
  expectPlanError(
      [](Plan &p) {
        p.buffers[1].dtype = DType::BF16;
        p.buffers[1].bytes = 16;
      },
      "param buffers must be F32");
  expectPlanError([](Plan &p) { p.arenaBytes = 4000; },
                  "not a multiple of 256");
  expectPlanError([](Plan &p) { p.buffers[10].shape = {8, 0}; }, "empty shape");
}

// A view (plan.view): bytes of another buffer, round-tripped with its
// source's index, checked against its source's range and treated as its
// source by the rules about who writes what.
Plan planWithView(int64_t source, uint64_t offset, std::vector<int64_t> shape,
                  DType dtype) {
  Plan p = samplePlan();
  BufferDesc v;
  v.name = p.buffers[static_cast<size_t>(source)].name + "@view";
  v.kind = BufferKind::View;
  v.dtype = dtype;
  v.shape = std::move(shape);
  v.offset = offset;
  v.bytes = numElements(v.shape) * dtypeSize(dtype);
  v.viewOf = source;
  p.buffers.push_back(v);
  return p;
}

TEST(PlanRules, ViewsLieInsideTheirSource) {
  // Rows 4..7 of y [8, 16] f32 (bytes 3328 + 256 .. + 512): valid, round trip.
  Plan ok = planWithView(11, 3328 + 256, {4, 16}, DType::F32);
  EXPECT_NO_THROW(validatePlan(ok));
  Plan back = planFromJson(json::parse(toJson(ok).dump()));
  EXPECT_EQ(back.buffers.back().kind, BufferKind::View);
  EXPECT_EQ(back.buffers.back().viewOf, 11);
  EXPECT_EQ(toJson(back), toJson(ok));
  // A view of a param may overlap it (the overlap rule ignores views).
  EXPECT_NO_THROW(validatePlan(planWithView(0, 256, {8, 8}, DType::F32)));

  auto expectViewError = [](Plan p, const std::string &needle) {
    expectError<BundleError>([&] { validatePlan(p); }, needle);
  };
  expectViewError(planWithView(11, 3328 + 384, {4, 16}, DType::F32),
                  "bytes [3712, 3968) lie outside 'y' [3328, 3840)");
  expectViewError(planWithView(11, 3328 + 8, {2}, DType::F32),
                  "offset 3336 is not a multiple of 16");
  for (int64_t bad : {int64_t{14}, int64_t{99}, int64_t{-1}}) {
    Plan p = ok; // the view is buffer 14: neither itself nor out of range
    p.buffers.back().viewOf = bad;
    expectViewError(p, "view of buffer " + std::to_string(bad) +
                           ", not another buffer of the plan");
  }
  Plan ofView = planWithView(11, 3328, {4, 16}, DType::F32);
  ofView.buffers.push_back(ofView.buffers.back());
  ofView.buffers.back().name = "y@view@view";
  ofView.buffers.back().viewOf = 14;
  expectViewError(ofView, "views a view ('y@view')");
  json j = toJson(ok);
  j["buffers"][14].erase("view_of");
  expectError([&] { planFromJson(j); }, "view_of");
}

TEST(PlanRules, AViewIsWrittenAsItsSource) {
  // The test kernel writes its first argument: a view of the input `ids`
  // (I64 [2, 4] at 1536) retyped as 16 bf16 elements is still the input.
  Plan p = planWithView(4, 1536, {16}, DType::BF16);
  std::get<KernelStep>(p.steps[2]).args[0] = KernelArg::buf(14);
  expectError<BundleError>([&] { validatePlan(p); },
                           "params and inputs are read-only");
  // A GEMM overwriting (beta 0) a view of a grad accumulator.
  Plan g = planWithView(2, 768, {8, 16}, DType::F32);
  std::get<GemmStep>(g.steps[1]).c = 14;
  std::get<GemmStep>(g.steps[1]).beta = 0.0f;
  expectError<BundleError>([&] { trainingInterface(g); },
                           "grads accumulate across micro-steps");
}

TEST(PlanRules, StepViolations) {
  expectPlanError([](Plan &p) { std::get<KernelStep>(p.steps[2]).kernel = 4; },
                  "step 2 (mind.rmsnorm): kernel index 4 out of range");
  expectPlanError(
      [](Plan &p) {
        std::get<KernelStep>(p.steps[2]).args[0] = KernelArg::buf(14);
      },
      "step 2 (mind.rmsnorm) argument 0: buffer index 14 out of range");
  expectPlanError(
      [](Plan &p) {
        std::get<KernelStep>(p.steps[2]).block = {64, 32, 1};
      },
      "exceeds CUDA's limits");
  expectPlanError(
      [](Plan &p) {
        std::get<KernelStep>(p.steps[2]).grid = {0, 1, 1};
      },
      "zero grid");
  expectPlanError([](Plan &p) { std::get<MemsetStep>(p.steps[0]).buffer = -1; },
                  "step 0 (zero y): buffer index -1 out of range");
  expectPlanError([](Plan &p) { std::get<GemmStep>(p.steps[1]).k = 9; },
                  "A 'x' has shape [8, 8], the GEMM reads 8x9");
  expectPlanError([](Plan &p) { std::get<GemmStep>(p.steps[1]).b = 11; },
                  "A and B must share one of F32/BF16/F16");
  expectPlanError([](Plan &p) { std::get<GemmStep>(p.steps[1]).c = 13; },
                  "has shape [32]");
  expectPlanError(
      [](Plan &p) { // C = scratch, reshaped to [8, 16], on top of B = w
        p.buffers[13].shape = {8, 16};
        p.buffers[13].bytes = 512;
        p.arenaBytes = 4352;
        std::get<GemmStep>(p.steps[1]).c = 13;
      },
      "overlaps an input operand");
  expectPlanError([](Plan &p) { std::get<GemmStep>(p.steps[1]).m = 0; },
                  "m, n, k must be positive");
  expectPlanError([](Plan &p) { p.kernels[1].loweredName.clear(); },
                  "kernel 1 has an empty name");
}

// Sizes whose product wraps around 2^64 to an accepted value (found by
// LoaderFuzzTest): m = 2^61 + 8 rows of A "were" 8 x 8 elements, since
// m * k wrapped to 64, and a block of 2^31 x 2^31 x 16 threads "was" 0.
TEST(PlanRules, SizeProductsDoNotWrapAround) {
  const int64_t wrap = int64_t(1) << 61;
  expectPlanError(
      [&](Plan &p) { std::get<GemmStep>(p.steps[1]).m = 8 + wrap; },
      "A 'x' has shape [8, 8], the GEMM reads 2305843009213693960x8");
  expectPlanError(
      [&](Plan &p) { std::get<GemmStep>(p.steps[1]).n = 16 + wrap; },
      "B 'w' has shape [8, 16], the GEMM reads 8x2305843009213693968");
  expectPlanError([&](Plan &p) { std::get<GemmStep>(p.steps[1]).k = 8 + wrap; },
                  "the GEMM reads 8x2305843009213693960");
  expectPlanError(
      [](Plan &p) {
        std::get<KernelStep>(p.steps[2]).block = {1u << 31, 1u << 31, 16};
      },
      "launch shape exceeds CUDA's limits (block 2147483648x2147483648x16)");
}

// Every launch is checked against its kernel's signature.
TEST(PlanRules, ArgumentsFollowTheSignature) {
  const std::string step = "step 2 (mind.rmsnorm) kernel mindtest::test_kernel";
  expectPlanError(
      [](Plan &p) { std::get<KernelStep>(p.steps[2]).args.pop_back(); },
      step + ": 5 arguments for 6 parameters");
  expectPlanError(
      [](Plan &p) {
        std::get<KernelStep>(p.steps[2]).args[1] = KernelArg::f64(3);
      },
      step + ": argument 1 (i64 a) needs an i64 value");
  expectPlanError(
      [](Plan &p) {
        std::get<KernelStep>(p.steps[2]).args[2] = KernelArg::f64(3);
      },
      "argument 2 (f32 b) needs an f32 value");
  expectPlanError(
      [](Plan &p) {
        std::get<KernelStep>(p.steps[2]).args[0] = KernelArg::buf(11);
      },
      "argument 0 (out BF16 x) is given a F32 buffer");
  expectPlanError(
      [](Plan &p) {
        std::get<KernelStep>(p.steps[2]).args[0] = KernelArg::int64(10);
      },
      "argument 0 (out BF16 x) needs a buffer");
  expectPlanError(
      [](Plan &p) {
        std::get<KernelStep>(p.steps[2]).args[5] = KernelArg::bufs({});
      },
      "argument 5 (in[] BF16 ws) needs a non-empty array of buffers");
  expectPlanError(
      [](Plan &p) {
        std::get<KernelStep>(p.steps[2]).args[5] = KernelArg::bufs({10, 11});
      },
      "argument 5 (in[] BF16 ws) is given a F32 buffer");
  expectPlanError(
      [](Plan &p) {
        std::get<KernelStep>(p.steps[2]).args[5] = KernelArg::bufs({10, 99});
      },
      "step 2 (mind.rmsnorm) argument 5: buffer index 99 out of range");
  expectPlanError(
      [](Plan &p) { // x made a param: the kernel would write a weight
        p.kernels[3].params[0].dtype = DType::F32;
        std::get<KernelStep>(p.steps[2]).args[0] = KernelArg::buf(1);
      },
      "writes buffer 1 'model.norm.weight' (param) through argument 0");
  expectPlanError(
      [](Plan &p) { p.kernels[0].params.pop_back(); },
      "kernel 0 'mind::grad_sqnorm_partial': recorded parameters (in F32 "
      "grad, i64 n, in opaque state) differ from the library's signature");
  expectPlanError(
      [](Plan &p) { p.kernels[0].nameExpr = "mind::no_such_kernel<float>"; },
      "no such kernel in the library");
}

// The sample plan with bf16 weight copies (mind-weight-copies): one per
// param at half its offset in a region at 4096, and the kernels that write
// them (the copy-writing AdamW, the cast that fills them after a load).
Plan planWithCopies() {
  Plan p = samplePlan();
  p.buffers.push_back(buffer("model.embed_tokens.weight.copy",
                             BufferKind::ParamCopy, DType::BF16, {16, 8},
                             4096));
  p.buffers.push_back(buffer("model.norm.weight.copy", BufferKind::ParamCopy,
                             DType::BF16, {8}, 4096 + 256));
  p.arenaBytes = 4608;
  for (const std::string &n : kernels::optimizerKernelNames(DType::BF16))
    if (std::none_of(p.kernels.begin(), p.kernels.end(),
                     [&](const KernelEntry &k) { return k.nameExpr == n; }))
      p.kernels.push_back({n, "_Z" + n, kabi::resolveLibraryKernel(n)});
  return p;
}

void expectCopiesError(const std::function<void(Plan &)> &mutate,
                       const std::string &needle) {
  Plan p = planWithCopies();
  mutate(p);
  expectError<BundleError>([&] { trainingInterface(p); }, needle);
}

TEST(PlanRules, ParamCopiesMirrorTheParamRegion) {
  TrainingInterface t = trainingInterface(planWithCopies());
  ASSERT_TRUE(t.layout.hasCopies());
  EXPECT_EQ(t.layout.copyBase, 4096u);
  EXPECT_EQ(t.layout.copyDtype, DType::BF16);
  EXPECT_EQ(t.layout.copies, (std::vector<int64_t>{14, 15}));
  EXPECT_FALSE(trainingInterface(samplePlan()).layout.hasCopies());

  expectCopiesError([](Plan &p) { p.buffers[15].offset = 4096 + 384; },
                    "'model.norm.weight.copy' is not at half the relative "
                    "offset of 'model.norm.weight'");
  expectCopiesError([](Plan &p) { p.buffers[15].offset = 4096 + 320; },
                    "offset 4416 is not a multiple of 128");
  expectCopiesError([](Plan &p) { p.buffers.pop_back(); },
                    "2 param buffers but 1 param_copy buffers");
  expectCopiesError([](Plan &p) { p.buffers[15].name = "norm.copy"; },
                    "expected 'model.norm.weight.copy'");
  expectCopiesError(
      [](Plan &p) {
        p.buffers[15].dtype = DType::F16;
        p.buffers[15].bytes = 16;
      },
      "'model.norm.weight.copy' is F16 [8], expected BF16 [8]");
  expectCopiesError(
      [](Plan &p) {
        p.buffers[15].dtype = DType::F32;
        p.buffers[15].bytes = 32;
      },
      "param_copy buffers must be BF16 or F16, not F32");
  expectCopiesError( // the copy region starts off the arena alignment
      [](Plan &p) {
        p.buffers[14].offset = 4096 + 128;
        p.buffers[15].offset = 4096 + 384;
      },
      "the param copy region starts at 4224");
  expectCopiesError(
      [](Plan &p) { std::get<KernelStep>(p.steps[2]).args[0].buffer = 14; },
      "writes buffer 14 'model.embed_tokens.weight.copy' (param_copy)");
  expectCopiesError(
      [](Plan &p) {
        auto it = std::find_if(p.kernels.begin(), p.kernels.end(),
                               [](const KernelEntry &k) {
                                 return k.nameExpr.find("adamw_fused_copy") !=
                                        std::string::npos;
                               });
        p.kernels.erase(it);
      },
      "lacks the optimizer kernel 'mind::adamw_fused_copy<__nv_bfloat16>'");
}

TEST(PlanRules, TrainingContractViolations) {
  expectTrainingError([](Plan &p) { p.buffers[4].name = "tokens"; },
                      "no input buffer 'ids'");
  expectTrainingError([](Plan &p) { p.buffers[6].shape = {8}; },
                      "'mask' must be a input I64 [2, 4]");
  expectTrainingError([](Plan &p) { p.buffers[3].name = "norm.grad"; },
                      "expected 'model.norm.weight.grad'");
  expectTrainingError(
      [](Plan &p) { // a gap of more than alignment padding
        p.arenaBytes = 4352;
        p.buffers[1].offset = 4096;
      },
      "does not follow the previous param");
  expectTrainingError([](Plan &p) { std::swap(p.buffers[2], p.buffers[3]); },
                      "expected 'model.embed_tokens.weight.grad'");
  expectTrainingError(
      [](Plan &p) {
        p.kernels.erase(p.kernels.begin());
        std::get<KernelStep>(p.steps[2]).kernel = 2;
      },
      "lacks the optimizer kernel 'mind::grad_sqnorm_partial'");
  expectTrainingError([](Plan &p) { p.meta.erase("batch_size"); },
                      "meta.batch_size must be a positive integer");
  expectTrainingError([](Plan &p) { p.meta["dtype"] = "fp8"; }, "meta.dtype");
  expectTrainingError([](Plan &p) { p.buffers[11].kind = BufferKind::Input; },
                      "unknown input 'y'");
  expectTrainingError([](Plan &p) { p.buffers[8].dtype = DType::I32; },
                      "'loss' must be a output F32");
  expectTrainingError(
      [](Plan &p) { std::get<MemsetStep>(p.steps[0]).buffer = 3; },
      "step 0 (zero y) overwrites buffer 3 'model.norm.weight.grad'");
  expectTrainingError(
      [](Plan &p) {
        auto &g = std::get<GemmStep>(p.steps[1]);
        g.m = 16; // C = the embedding grad [16, 8]; A, B resized to match
        g.n = 8;
        g.k = 8;
        g.c = 2;
        g.beta = 0.0f;
        p.buffers[10].shape = {16, 8};
        p.buffers[10].bytes = 256;
        p.buffers[12].shape = {8, 8};
        p.buffers[12].bytes = 128;
      },
      "grads accumulate across micro-steps");
  expectTrainingError(
      [](Plan &p) { std::get<MemsetStep>(p.steps[0]).buffer = 1; },
      "params are read-only");
  // aux_loss is optional (dense models may omit it).
  Plan p = samplePlan();
  p.buffers[9].name = "aux";
  p.buffers[9].kind = BufferKind::Activation;
  EXPECT_EQ(trainingInterface(p).auxLoss, -1);
}

TEST(PlanRules, GradRegionMustMirrorParamRegion) {
  expectTrainingError([](Plan &p) { p.buffers[3].offset = 1536; },
                      "overlaps"); // collides with ids first: also refused
  Plan p = samplePlan();
  // Move the second grad one alignment step further: same order, wrong
  // relative offset.
  p.buffers[3].offset = 3072;
  p.buffers[10].offset = 1280;
  expectError<BundleError>([&] { paramLayout(p); }, "same relative offset");
}

//===----------------------------------------------------------------------===//
// Bundle bytes
//===----------------------------------------------------------------------===//

TEST(Bundle, Crc32MatchesZlib) {
  const char *s = "123456789";
  EXPECT_EQ(crc32(s, 9), 0xCBF43926u);
  EXPECT_EQ(crc32(s + 4, 5, crc32(s, 4)), 0xCBF43926u);
}

TEST(Bundle, RoundTripsInMemory) {
  Bundle b = sampleBundle();
  std::vector<uint8_t> bytes = serializeBundle(b);
  EXPECT_EQ(std::memcmp(bytes.data(), "MINDBNDL", 8), 0);
  expectSameBundle(readBundleFromBytes(bytes), b);
}

TEST_F(BundleFiles, RoundTripsThroughAFile) {
  Bundle b = sampleBundle();
  std::string p = path("a.mindbundle");
  writeBundle(b, p);
  EXPECT_NE(access((p + ".tmp").c_str(), F_OK), 0);
  expectSameBundle(readBundle(p), b);
  expectError<BundleError>([&] { readBundle(path("missing")); },
                           "missing: no such file");
  expectError<BundleError>([&] { readBundle(dir); },
                           "is a directory, expected a bundle file");
}

TEST(Bundle, RefusesToWriteAnInvalidPlan) {
  Bundle b = sampleBundle();
  b.plan.buffers[0].offset = 8;
  expectError<BundleError>([&] { serializeBundle(b); },
                           "refusing to write an invalid bundle");
}

TEST(Bundle, RejectsEveryCorruption) {
  std::vector<uint8_t> good = serializeBundle(sampleBundle());
  auto reject = [](std::vector<uint8_t> bytes, const std::string &needle) {
    expectError<BundleError>([&] { readBundleFromBytes(bytes, "x.bundle"); },
                             needle);
  };
  reject({}, "x.bundle: truncated: 0 bytes");
  for (size_t n : {size_t(55), size_t(100), good.size() / 2, good.size() - 1})
    reject(std::vector<uint8_t>(good.begin(), good.begin() + n), "truncated");
  auto bad = good;
  bad[0] = 'X';
  reject(bad, "not a mind bundle (bad magic");
  reject(rawBundle({"{}", "", "", "", ""}, 1),
         "unsupported bundle version 1 (this runtime reads 3; recompile it");
  // A flipped bit inside the cubin section.
  size_t cubinStart = 12 + 8 + toJson(samplePlan()).dump().size() + 8;
  bad = good;
  bad[cubinStart + 10] ^= 0x40;
  reject(bad, "checksum mismatch");
  bad = good;
  bad.erase(bad.end() - 7, bad.end() - 4); // the mlir text lost 3 bytes
  reject(bad, "section 'mlir' declares");
  auto extra = rawBundle({"{}", "", "", "", ""});
  extra.insert(extra.end() - 4, {1, 2, 3});
  reject(extra, "3 unexpected bytes after the last section");
  bad = good;
  bad[19] = 0x7F; // plan length's top byte: far beyond the file
  reject(bad, "section 'plan' declares");
  reject(rawBundle({"{not json", "c", "", "", ""}), "plan JSON");
  json j = toJson(samplePlan());
  j["steps"][2].erase("label");
  reject(rawFromPlanJson(j), "steps[2].label: missing");
  j = toJson(samplePlan());
  j["steps"][2]["kernel"] = 17;
  reject(rawFromPlanJson(j), "kernel index 17 out of range");
  j = toJson(samplePlan());
  j["buffers"][4]["offset"] = 4096;
  reject(rawFromPlanJson(j), "exceed the arena");
  reject(rawBundle({toJson(samplePlan()).dump(), "", "", "", ""}),
         "neither cubin nor PTX");
}

//===----------------------------------------------------------------------===//
// Bundles embedded in an executable
//===----------------------------------------------------------------------===//

// 100,000 nested arrays in the plan's config parsed, then overflowed the
// stack when the plan copied it (found by LoaderFuzzTest).
TEST(Bundle, RejectsDeeplyNestedPlanJson) {
  std::string plan = toJson(samplePlan()).dump();
  size_t at = plan.find("\"config\":{");
  ASSERT_NE(at, std::string::npos);
  plan.insert(at + 10, "\"deep\":" + std::string(100000, '[') +
                           std::string(100000, ']') + ",");
  expectError<BundleError>(
      [&] {
        readBundleFromBytes(rawBundle({plan, "cubin", "", "", ""}), "x.bundle");
      },
      "x.bundle: the plan is JSON nested deeper than 128 levels");
}

TEST_F(BundleFiles, EmbedsIntoAnExecutable) {
  std::string exe = path("trainer"), out = path("model-trainer");
  std::vector<uint8_t> elf = {0x7F, 'E', 'L', 'F'};
  elf.resize(5000, 0xAB);
  writeBytes(exe, elf);
  EXPECT_FALSE(readEmbeddedBundle(exe).has_value());

  Bundle b = sampleBundle();
  writeEmbeddedExecutable(exe, b, out);
  auto got = readEmbeddedBundle(out);
  ASSERT_TRUE(got.has_value());
  expectSameBundle(*got, b);
  struct stat st {};
  ASSERT_EQ(stat(out.c_str(), &st), 0);
  EXPECT_TRUE(st.st_mode & S_IXUSR);
  size_t size1 = static_cast<size_t>(st.st_size);
  EXPECT_EQ(size1, elf.size() + serializeBundle(b).size() + 24);

  // Embedding into a trainer that already has a bundle replaces it.
  std::string again = path("again");
  b.mlir = "module { changed }";
  writeEmbeddedExecutable(out, b, again);
  got = readEmbeddedBundle(again);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->mlir, b.mlir);
  ASSERT_EQ(stat(again.c_str(), &st), 0);
  EXPECT_EQ(static_cast<size_t>(st.st_size),
            elf.size() + serializeBundle(b).size() + 24);
}

TEST_F(BundleFiles, RejectsADamagedEmbeddedBundle) {
  std::string exe = path("trainer"), out = path("model-trainer");
  writeBytes(exe, std::vector<uint8_t>(100, 1));
  writeEmbeddedExecutable(exe, sampleBundle(), out);
  std::ifstream in(out, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  in.close();

  auto corrupt = bytes;
  corrupt[150] ^= 1; // inside the bundle
  writeBytes(out, corrupt);
  expectError<BundleError>([&] { readEmbeddedBundle(out); },
                           "(embedded bundle): checksum mismatch");

  corrupt = bytes;
  corrupt[corrupt.size() - 24] ^= 1; // the trailer's offset
  writeBytes(out, corrupt);
  expectError<BundleError>([&] { readEmbeddedBundle(out); },
                           "trailer is inconsistent");

  corrupt.assign(bytes.begin() + 1, bytes.end()); // the prefix lost a byte
  writeBytes(out, corrupt);
  expectError<BundleError>([&] { readEmbeddedBundle(out); },
                           "trailer is inconsistent");
}

} // namespace
