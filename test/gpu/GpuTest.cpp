//===- GpuTest.cpp - harness of the GPU kernel tests ----------------------===//

#include "GpuTest.h"

#include <cmath>
#include <cstring>

using namespace mind;
using namespace mind::gputest;
using runtime::DType;

DevTensor mind::gputest::upload(const ref::Tensor &t, DType dtype) {
  DevTensor d;
  d.dtype = dtype;
  d.shape = t.shape;
  size_t n = t.data.size();
  std::vector<uint8_t> bytes(n * runtime::dtypeSize(dtype));
  for (size_t i = 0; i < n; ++i) {
    double v = t.data[i];
    switch (dtype) {
    case DType::F32: {
      float f = static_cast<float>(v);
      std::memcpy(&bytes[4 * i], &f, 4);
      break;
    }
    case DType::BF16: {
      uint16_t h = runtime::floatToBf16(static_cast<float>(v));
      std::memcpy(&bytes[2 * i], &h, 2);
      break;
    }
    case DType::F16: {
      uint16_t h = runtime::floatToF16(static_cast<float>(v));
      std::memcpy(&bytes[2 * i], &h, 2);
      break;
    }
    case DType::I64: {
      int64_t x = static_cast<int64_t>(v);
      std::memcpy(&bytes[8 * i], &x, 8);
      break;
    }
    case DType::I32: {
      int32_t x = static_cast<int32_t>(v);
      std::memcpy(&bytes[4 * i], &x, 4);
      break;
    }
    default:
      throw std::invalid_argument("upload: unsupported dtype");
    }
  }
  d.buf = runtime::DeviceBuffer(bytes.size());
  d.buf.upload(bytes.data(), bytes.size());
  return d;
}

DevTensor mind::gputest::poisoned(const std::vector<int64_t> &shape,
                                  DType dtype) {
  DevTensor d;
  d.dtype = dtype;
  d.shape = shape;
  d.buf = runtime::DeviceBuffer(runtime::numElements(shape) *
                                runtime::dtypeSize(dtype));
  d.buf.fill(0xFF);
  return d;
}

ref::Tensor mind::gputest::download(const DevTensor &d) {
  size_t n = runtime::numElements(d.shape);
  std::vector<uint8_t> bytes(n * runtime::dtypeSize(d.dtype));
  d.buf.download(bytes.data(), bytes.size());
  ref::Tensor t(d.shape);
  for (size_t i = 0; i < n; ++i) {
    switch (d.dtype) {
    case DType::F32: {
      float f;
      std::memcpy(&f, &bytes[4 * i], 4);
      t.data[i] = f;
      break;
    }
    case DType::BF16: {
      uint16_t h;
      std::memcpy(&h, &bytes[2 * i], 2);
      t.data[i] = runtime::bf16ToFloat(h);
      break;
    }
    case DType::F16: {
      uint16_t h;
      std::memcpy(&h, &bytes[2 * i], 2);
      t.data[i] = runtime::f16ToFloat(h);
      break;
    }
    case DType::I64: {
      int64_t x;
      std::memcpy(&x, &bytes[8 * i], 8);
      t.data[i] = static_cast<double>(x);
      break;
    }
    case DType::I32: {
      int32_t x;
      std::memcpy(&x, &bytes[4 * i], 4);
      t.data[i] = x;
      break;
    }
    default:
      throw std::invalid_argument("download: unsupported dtype");
    }
  }
  return t;
}

ref::Tensor mind::gputest::randomTensor(std::vector<int64_t> shape,
                                        std::mt19937 &rng, double lo,
                                        double hi) {
  std::uniform_real_distribution<double> dist(lo, hi);
  ref::Tensor t(std::move(shape));
  for (double &v : t.data)
    v = dist(rng);
  return t;
}

ref::Tensor mind::gputest::randomInts(std::vector<int64_t> shape, int64_t n,
                                      std::mt19937 &rng) {
  std::uniform_int_distribution<int64_t> dist(0, n - 1);
  ref::Tensor t(std::move(shape));
  for (double &v : t.data)
    v = static_cast<double>(dist(rng));
  return t;
}

KernelRunner::KernelRunner(const std::vector<runtime::LaunchConfig> &l)
    : launches(l) {
  std::vector<std::string> names;
  for (const auto &c : launches) {
    names.push_back(c.nameExpr);
    params.push_back(runtime::kabi::resolveLibraryKernel(c.nameExpr));
  }
  auto compiled = runtime::compileKernels(runtime::kernelLibrarySource(),
                                          names, runtime::deviceArch());
  module = std::make_unique<runtime::CudaModule>(compiled.cubin,
                                                 compiled.loweredNames);
}

void KernelRunner::run(size_t i, const std::vector<Arg> &args) {
  using TensorArg = runtime::kabi::Arg<const DevTensor *>;
  const auto &c = launches.at(i);
  std::vector<TensorArg> typed;
  for (const Arg &a : args) {
    if (auto *t = std::get_if<const DevTensor *>(&a))
      typed.push_back(TensorArg::buf(*t));
    else if (auto *ts = std::get_if<std::vector<const DevTensor *>>(&a))
      typed.push_back(TensorArg::bufs(*ts));
    else if (auto *v = std::get_if<int64_t>(&a))
      typed.push_back(TensorArg::int64(*v));
    else if (auto *f = std::get_if<float>(&a))
      typed.push_back(TensorArg::f32(*f));
    else
      typed.push_back(TensorArg::f64(std::get<double>(a)));
  }
  runtime::kabi::checkArguments<const DevTensor *>(
      params[i], typed, [](const DevTensor *const &t) { return t->dtype; },
      c.nameExpr);
  // Array arguments: device arrays of the tensors' pointers, alive until
  // the launch finished.
  std::vector<runtime::DeviceBuffer> arrays(typed.size());
  for (size_t a = 0; a < typed.size(); ++a) {
    if (typed[a].kind != runtime::kabi::ArgKind::Buffers)
      continue;
    std::vector<void *> ptrs;
    for (const DevTensor *t : typed[a].buffers)
      ptrs.push_back(t->ptr());
    arrays[a] = runtime::DeviceBuffer(ptrs.size() * sizeof(void *));
    arrays[a].upload(ptrs.data(), ptrs.size() * sizeof(void *));
  }
  runtime::kabi::LaunchArgs packed =
      runtime::kabi::marshalArguments<const DevTensor *>(
          params[i], typed,
          [](const DevTensor *const &t) { return t->ptr(); },
          [&](size_t a) { return arrays[a].data(); });
  module->launch(i, c.grid, c.block, c.sharedBytes, packed.argv.data(),
                 nullptr, c.nameExpr);
  MIND_CUDA_CHECK(cudaDeviceSynchronize(), "run " + c.nameExpr);
}

void mind::gputest::launchOnce(const runtime::LaunchConfig &cfg,
                               const std::vector<Arg> &args) {
  KernelRunner runner({cfg});
  runner.run(0, args);
}

void mind::gputest::expectClose(const ref::Tensor &got, const ref::Tensor &want,
                                double atol, double rtol,
                                const std::string &what) {
  ASSERT_EQ(got.shape, want.shape) << what;
  size_t worst = 0;
  double worstExcess = -1;
  for (size_t i = 0; i < got.data.size(); ++i) {
    double g = got.data[i], w = want.data[i];
    double excess = std::isnan(g) ? INFINITY
                                  : std::abs(g - w) - (atol + rtol * std::abs(w));
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = i;
    }
  }
  EXPECT_LE(worstExcess, 0.0)
      << what << ": element " << worst << " is " << got.data[worst]
      << ", expected " << want.data[worst] << " (atol " << atol << ", rtol "
      << rtol << ")";
}
