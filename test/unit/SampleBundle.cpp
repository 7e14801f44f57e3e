//===- SampleBundle.cpp - a small complete training bundle for tests ------===//

#include "SampleBundle.h"

#include "mind/abi/OptimizerSpecs.h"

#include <cmath>

namespace mind::runtime::samples {

BufferDesc buffer(const std::string &name, BufferKind kind, DType dtype,
                  std::vector<int64_t> shape, uint64_t offset) {
  BufferDesc b{name, kind, dtype, shape, offset, 0};
  b.bytes = numElements(shape) * dtypeSize(dtype);
  return b;
}

Plan samplePlan() {
  using K = BufferKind;
  Plan p;
  p.buffers = {
      buffer("model.embed_tokens.weight", K::Param, DType::F32, {16, 8}, 0),
      buffer("model.norm.weight", K::Param, DType::F32, {8}, 512),
      buffer("model.embed_tokens.weight.grad", K::Grad, DType::F32, {16, 8},
             768),
      buffer("model.norm.weight.grad", K::Grad, DType::F32, {8}, 1280),
      buffer("ids", K::Input, DType::I64, {2, 4}, 1536),
      buffer("targets", K::Input, DType::I64, {2, 4}, 1792),
      buffer("mask", K::Input, DType::I64, {2, 4}, 2048),
      buffer("grad_scale", K::Input, DType::F32, {}, 2304),
      buffer("loss", K::Output, DType::F32, {}, 2560),
      buffer("aux_loss", K::Output, DType::F32, {}, 2816),
      buffer("x", K::Activation, DType::BF16, {8, 8}, 3072),
      buffer("y", K::Activation, DType::F32, {8, 16}, 3328),
      buffer("w", K::Activation, DType::BF16, {8, 16}, 3840),
      buffer("scratch", K::Activation, DType::F32, {32}, 3840),
  };
  p.arenaBytes = 4096;
  for (const std::string &n : kernels::optimizerKernelNames())
    p.kernels.push_back({n, "_Z" + n, kabi::resolveLibraryKernel(n)});
  using kabi::ParamKind;
  p.kernels.push_back({"mindtest::test_kernel",
                       "_ZN8mindtest11test_kernelEv",
                       {{"x", ParamKind::Out, DType::BF16},
                        {"a", ParamKind::I64, std::nullopt},
                        {"b", ParamKind::F32, std::nullopt},
                        {"c", ParamKind::F64, std::nullopt},
                        {"d", ParamKind::F32, std::nullopt},
                        {"ws", ParamKind::InArray, DType::BF16}}});
  KernelStep k;
  k.kernel = 3;
  k.grid = {4, 1, 1};
  k.block = {128, 1, 1};
  k.sharedBytes = 64;
  k.args = {KernelArg::buf(10),       KernelArg::int64(-5),
            KernelArg::f32(1.5),       KernelArg::f64(-INFINITY),
            KernelArg::f32(NAN),       KernelArg::bufs({10, 12})};
  k.label = "mind.rmsnorm";
  GemmStep g;
  g.a = 10;
  g.b = 12;
  g.c = 11;
  g.m = 8;
  g.n = 16;
  g.k = 8;
  g.transB = true;
  g.beta = 1.0f;
  g.label = "mind.linear";
  p.steps = {MemsetStep{11, "zero y"}, g, k};
  p.config = {{"hidden_size", 8}, {"vocab_size", 16}, {"use_moe", false}};
  p.meta = {{"batch_size", 2},
            {"seq_len", 4},
            {"dtype", "bfloat16"},
            {"arch", "sm_90a"}};
  return p;
}

Bundle sampleBundle() {
  Bundle b;
  b.plan = samplePlan();
  for (int i = 0; i < 1000; ++i)
    b.cubin.push_back(static_cast<uint8_t>(i * 7));
  b.ptx = ".version 8.0\n.target sm_90a\n";
  b.cudaSource = "// kernels\n";
  b.mlir = "module {}\n";
  return b;
}

std::vector<uint8_t> rawBundle(const std::vector<std::string> &sections,
                               uint32_t version, const char *magic) {
  std::vector<uint8_t> out(magic, magic + 8);
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<uint8_t>(version >> (8 * i)));
  for (const std::string &s : sections) {
    uint64_t n = s.size();
    for (int i = 0; i < 8; ++i)
      out.push_back(static_cast<uint8_t>(n >> (8 * i)));
    out.insert(out.end(), s.begin(), s.end());
  }
  uint32_t crc = crc32(out.data(), out.size());
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<uint8_t>(crc >> (8 * i)));
  return out;
}

} // namespace mind::runtime::samples
