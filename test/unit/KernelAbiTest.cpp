//===- KernelAbiTest.cpp - kernel signatures as data, arguments -----------===//

#include "mind/abi/KernelAbi.h"
#include "mind/abi/KernelSpecs.h"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace rt = mind::runtime;
namespace kabi = mind::runtime::kabi;
namespace sig = mind::sig;
using kabi::ParamKind;
using rt::DType;

namespace {

std::string readSource(const std::string &rel) {
  std::ifstream in(std::string(MIND_SOURCE_DIR) + "/" + rel);
  EXPECT_TRUE(in) << rel;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(KernelAbi, ReadsKindsElementTypesAndNames) {
  kabi::KernelSignature s = kabi::signatureOf<sig::rmsnorm_grad>();
  ASSERT_EQ(s.params.size(), 8u);
  EXPECT_EQ(s.name, "rmsnorm_grad");
  EXPECT_EQ(s.params[0].name, "x");
  EXPECT_EQ(s.params[0].kind, ParamKind::In);
  EXPECT_EQ(s.params[0].templateParam, 0);
  EXPECT_EQ(s.params[1].templateParam, 1);
  EXPECT_EQ(s.params[3].kind, ParamKind::Out);
  EXPECT_EQ(s.params[4].kind, ParamKind::Out); // float *partial
  EXPECT_EQ(s.params[4].templateParam, -1);
  EXPECT_EQ(s.params[4].dtype, DType::F32);
  EXPECT_EQ(s.params[5].kind, ParamKind::I64);
  EXPECT_EQ(s.params[7].kind, ParamKind::F32);
  EXPECT_EQ(s.params[7].name, "eps");

  kabi::KernelSignature w = kabi::signatureOf<sig::moe_grouped_linear_bwd_w>();
  EXPECT_EQ(w.params.back().kind, ParamKind::OutArray);
  EXPECT_EQ(w.params.back().dtype, DType::F32);
  EXPECT_EQ(w.params.back().name, "dw");
  kabi::KernelSignature f = kabi::signatureOf<sig::moe_grouped_linear_fwd>();
  EXPECT_EQ(f.params.back().kind, ParamKind::InArray);
  EXPECT_EQ(f.params.back().templateParam, 0);

  kabi::KernelSignature o = kabi::signatureOf<sig::optimizer_prepare>();
  EXPECT_TRUE(o.params[2].opaque);
  EXPECT_EQ(o.params[4].kind, ParamKind::In); // const double *lrIn
  EXPECT_EQ(o.params[4].dtype, DType::F64);
  EXPECT_EQ(o.params[5].kind, ParamKind::F64);
}

TEST(KernelAbi, ResolvesInstantiations) {
  auto p = kabi::resolveLibraryKernel("mind::rmsnorm_fwd<__nv_bfloat16, float>");
  ASSERT_EQ(p.size(), 6u);
  EXPECT_EQ(p[0].dtype, DType::BF16);
  EXPECT_EQ(p[1].dtype, DType::F32);
  EXPECT_EQ(p[2].dtype, DType::BF16);
  EXPECT_EQ(p[3].dtype, std::nullopt);
  EXPECT_EQ(kabi::describe(p[2]), "out BF16 y");
  // A kernel sharing a signature, with a value template parameter.
  auto a = kabi::resolveLibraryKernel("mind::attention_fwd_mma<__half, 96>");
  EXPECT_EQ(a[0].dtype, DType::F16);
  EXPECT_EQ(a[4].dtype, DType::F32); // lse
  EXPECT_EQ(kabi::resolveLibraryKernel("mind::transpose_fwd<long long>")[0]
                .dtype,
            DType::I64);
  EXPECT_THROW(kabi::resolveLibraryKernel("mind::nope<float>"),
               std::invalid_argument);
  EXPECT_THROW(kabi::resolveLibraryKernel("mind::rmsnorm_fwd<float>"),
               std::invalid_argument); // W is missing
  EXPECT_THROW(kabi::resolveLibraryKernel("mind::silu_fwd<char>"),
               std::invalid_argument);
  // The launch rules name instantiations that resolve.
  namespace k = mind::runtime::kernels;
  for (DType d : {DType::F32, DType::BF16, DType::F16})
    for (const std::string &n : k::denseKernelNames(d))
      EXPECT_NO_THROW(kabi::resolveLibraryKernel(n)) << n;
  for (const std::string &n : k::attentionKernelNames(DType::BF16, 64))
    EXPECT_NO_THROW(kabi::resolveLibraryKernel(n)) << n;
}

// Every signature is registered, and every kernel of the library checks its
// own type against one (so an edited kernel fails to compile).
TEST(KernelAbi, EveryKernelHasARegisteredSignature) {
  std::string header =
      readSource("runtime/abi/include/mind/abi/KernelSignatures.h");
  std::regex decl(R"(\nMIND_SIGNATURE(?:_PLAIN)?\((\w+),)");
  std::set<std::string> declared;
  for (auto it = std::sregex_iterator(header.begin(), header.end(), decl);
       it != std::sregex_iterator(); ++it)
    declared.insert((*it)[1]);
  std::set<std::string> registered;
  for (const kabi::KernelSignature &s : kabi::librarySignatures())
    registered.insert(s.name);
  for (const std::string &d : declared)
    EXPECT_TRUE(registered.count(d)) << d << " is not in librarySignatures()";

  std::regex kernel(R"(__global__\s+void\s+(?:__launch_bounds__\([^)]*\)\s+)?(\w+)\s*\([^{]*\{\s*MIND_CHECK_SIGNATURE)");
  std::regex anyKernel(R"(__global__\s+void\s+(?:__launch_bounds__\([^)]*\)\s+)?(\w+)\s*\()");
  int kernels = 0;
  for (const char *f :
       {"attention.cuh", "attention_mma.cuh", "elementwise.cuh",
        "embedding.cuh", "loss.cuh", "moe.cuh", "moe_gemm.cuh", "norm.cuh",
        "optimizer.cuh", "rope_table.cuh"}) {
    std::string text = readSource(std::string("runtime/kernels/") + f);
    std::set<std::string> checked, all;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), kernel);
         it != std::sregex_iterator(); ++it)
      checked.insert((*it)[1]);
    for (auto it = std::sregex_iterator(text.begin(), text.end(), anyKernel);
         it != std::sregex_iterator(); ++it)
      all.insert((*it)[1]);
    for (const std::string &k : all) {
      ++kernels;
      EXPECT_TRUE(checked.count(k))
          << f << ": " << k << " does not begin with MIND_CHECK_SIGNATURE";
      EXPECT_TRUE(kabi::findLibrarySignature(k))
          << f << ": " << k << " has no registered signature";
    }
  }
  EXPECT_EQ(kernels, static_cast<int>(registered.size()));
}

TEST(KernelAbi, BuilderFollowsTheSignature) {
  using B = kabi::Builder<sig::rmsnorm_fwd, int64_t>;
  auto args = B::args(kabi::Buffer<int64_t>(3), kabi::Buffer<int64_t>(4),
                      kabi::Buffer<int64_t>(5), kabi::I64(7), kabi::I64(8),
                      kabi::F32(1e-5));
  ASSERT_EQ(args.size(), 6u);
  EXPECT_EQ(args[0].kind, kabi::ArgKind::Buffer);
  EXPECT_EQ(args[2].buffer, 5);
  EXPECT_EQ(args[4].i64, 8);
  EXPECT_EQ(args[5].kind, kabi::ArgKind::F32);
  auto grouped = kabi::Builder<sig::moe_grouped_linear_fwd, int64_t>::args(
      kabi::Buffer<int64_t>(0), kabi::Buffer<int64_t>(1), kabi::Buffer<int64_t>(2),
      kabi::I64(1), kabi::I64(2), kabi::I64(3), kabi::I64(2),
      kabi::Buffers<int64_t>({7, 8}));
  EXPECT_EQ(grouped.back().kind, kabi::ArgKind::Buffers);
  EXPECT_EQ(grouped.back().buffers, (std::vector<int64_t>{7, 8}));
}

TEST(KernelAbi, ChecksAndPacksArguments) {
  auto params = kabi::resolveLibraryKernel("mind::rmsnorm_fwd<float, float>");
  using A = kabi::Arg<int64_t>;
  std::vector<A> args = {A::buf(0), A::buf(1),   A::buf(2),
                         A::int64(-3), A::int64(4), A::f32(0.25)};
  std::function<DType(const int64_t &)> dtypeOf = [](const int64_t &) {
    return DType::F32;
  };
  EXPECT_NO_THROW(kabi::checkArguments<int64_t>(params, args, dtypeOf, "k"));
  auto wrongDtype = [](const int64_t &id) {
    return id == 1 ? DType::BF16 : DType::F32;
  };
  try {
    kabi::checkArguments<int64_t>(params, args, wrongDtype, "k");
    ADD_FAILURE() << "a BF16 weight passed an f32 parameter";
  } catch (const std::invalid_argument &e) {
    EXPECT_STREQ(e.what(), "k: argument 1 (in F32 w) is given a BF16 buffer");
  }

  char arena[64];
  kabi::LaunchArgs packed = kabi::marshalArguments<int64_t>(
      params, args, [&](const int64_t &id) -> void * { return arena + id; },
      [](size_t) -> void * { return nullptr; });
  ASSERT_EQ(packed.argv.size(), 6u);
  EXPECT_EQ(*static_cast<void **>(packed.argv[2]), arena + 2);
  EXPECT_EQ(*static_cast<long long *>(packed.argv[3]), -3);
  EXPECT_EQ(*static_cast<float *>(packed.argv[5]), 0.25f);
  kabi::LaunchArgs copy = packed; // argv follows the copy's own slots
  EXPECT_EQ(copy.argv[3], static_cast<void *>(&copy.slots[3]));

  auto arrays = kabi::resolveLibraryKernel("mind::moe_grouped_linear_bwd_w<float>");
  std::vector<A> g = {A::buf(0),   A::buf(1),   A::buf(2),   A::int64(1),
                      A::int64(2), A::int64(3), A::int64(2), A::bufs({3, 4})};
  auto gDtype = [](const int64_t &id) { return id == 2 ? DType::I64 : DType::F32; };
  EXPECT_NO_THROW(kabi::checkArguments<int64_t>(arrays, g, gDtype, "g"));
  static char table[8];
  kabi::LaunchArgs ga = kabi::marshalArguments<int64_t>(
      arrays, g, [&](const int64_t &id) -> void * { return arena + id; },
      [&](size_t i) -> void * { return i == 7 ? table : nullptr; });
  EXPECT_EQ(*static_cast<void **>(ga.argv[7]), static_cast<void *>(table));
}

} // namespace
