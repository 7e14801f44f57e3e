//===- KernelAbi.h - kernel signatures as data, typed arguments -*- C++ -*-===//
//
// The host's reading of KernelSignatures.h. A signature becomes a list of
// ParamSpecs (kind, element type: a kernel template parameter, a fixed dtype
// or an opaque struct); resolved against an instantiation's name expression
// it becomes the ResolvedParams a bundle records per kernel. Arguments are
// built through Builder<S>, whose parameter list is the signature's, so a
// launch with a missing, extra or wrong-kind argument does not compile;
// checkArguments and marshalArguments check and pack an argument list by the
// resolved signature (the bundle validator, the executor, the GPU tests).
//
//===----------------------------------------------------------------------===//

#ifndef MIND_ABI_KERNELABI_H
#define MIND_ABI_KERNELABI_H

#include "mind/abi/DType.h"
#include "mind/abi/KernelSignatures.h"

#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace mind::runtime {

/// How a kernel template is launched: the instantiation's NVRTC name
/// expression and its launch shape. Produced by the launch rules of
/// KernelSpecs.h (shared by the compiler and the GPU tests).
struct LaunchConfig {
  std::string nameExpr; // e.g. "mind::silu_fwd<float>"
  std::array<uint32_t, 3> grid{1, 1, 1};
  std::array<uint32_t, 3> block{1, 1, 1};
  uint32_t sharedBytes = 0;
};

namespace kabi {

enum class ParamKind {
  In,       // const T *: a buffer the kernel reads
  Out,      // T *: a buffer the kernel writes (and may read)
  InArray,  // const T *const *: a device array of buffers it reads
  OutArray, // T *const *: a device array of buffers it writes
  I64,
  F32,
  F64,
};
const char *paramKindName(ParamKind kind);
bool isBufferKind(ParamKind kind);
bool isArrayKind(ParamKind kind);

/// One parameter as the signature declares it.
struct ParamSpec {
  std::string name;
  ParamKind kind = ParamKind::I64;
  int templateParam = -1;   // buffers: element type = template parameter #i
  DType dtype = DType::F32; // buffers with templateParam < 0 and !opaque
  bool opaque = false;      // buffers of a struct (OptimizerState)
};

struct KernelSignature {
  std::string name; // without "mind::", e.g. "attention_fwd_mma"
  std::vector<ParamSpec> params;
  /// Per template parameter: a type (true) or an integer value (false).
  std::vector<bool> templateIsType;
};

/// A parameter of one instantiation: buffers carry their element type
/// (nullopt: an opaque struct no plan buffer can bind), scalars none.
struct ResolvedParam {
  std::string name;
  ParamKind kind = ParamKind::I64;
  std::optional<DType> dtype;
  bool operator==(const ResolvedParam &o) const {
    return name == o.name && kind == o.kind && dtype == o.dtype;
  }
};

/// "in bf16 x", "i64 rows": for messages and the plan text.
std::string describe(const ResolvedParam &p);

//===----------------------------------------------------------------------===//
// Signatures from KernelSignatures.h
//===----------------------------------------------------------------------===//

namespace detail {
template <class E> struct Elem; // element type of a pointer parameter
template <int I> struct Elem<sig::Tp<I>> {
  static void fill(ParamSpec &p) { p.templateParam = I; }
};
template <DType D> struct Fixed {
  static void fill(ParamSpec &p) { p.dtype = D; }
};
template <> struct Elem<float> : Fixed<DType::F32> {};
template <> struct Elem<double> : Fixed<DType::F64> {};
template <> struct Elem<long long> : Fixed<DType::I64> {};
template <> struct Elem<int> : Fixed<DType::I32> {};
template <> struct Elem<OptimizerState> {
  static void fill(ParamSpec &p) { p.opaque = true; }
};

template <class P> struct Param; // one parameter type
template <ParamKind K> struct Scalar {
  static ParamSpec spec() { return {"", K}; }
};
template <> struct Param<long long> : Scalar<ParamKind::I64> {};
template <> struct Param<float> : Scalar<ParamKind::F32> {};
template <> struct Param<double> : Scalar<ParamKind::F64> {};
template <ParamKind K, class E> struct Pointer {
  static ParamSpec spec() {
    ParamSpec p{"", K};
    Elem<E>::fill(p);
    return p;
  }
};
template <class E> struct Param<const E *> : Pointer<ParamKind::In, E> {};
template <class E> struct Param<E *> : Pointer<ParamKind::Out, E> {};
template <class E>
struct Param<const E *const *> : Pointer<ParamKind::InArray, E> {};
template <class E>
struct Param<E *const *> : Pointer<ParamKind::OutArray, E> {};

template <class F> struct Params;
template <class... Ps> struct Params<void(Ps...)> {
  static std::vector<ParamSpec> specs() { return {Param<Ps>::spec()...}; }
};

/// The parameter names of a signature's text ("const T *x, i64 n").
std::vector<std::string> paramNames(const char *text);
/// Per template parameter of "(class T, int D)": whether it is a type.
std::vector<bool> templateKinds(const char *text);
} // namespace detail

/// The signature `S` (a sig:: struct) read as data; `kernelName` names a
/// kernel sharing it (default: S's own).
template <class S>
KernelSignature signatureOf(const char *kernelName = S::name) {
  KernelSignature s;
  s.name = kernelName;
  s.params = detail::Params<typename S::generic>::specs();
  std::vector<std::string> names = detail::paramNames(S::params);
  if (names.size() != s.params.size())
    throw std::logic_error(std::string("signature ") + S::name +
                           ": cannot read its parameter names");
  for (size_t i = 0; i < names.size(); ++i)
    s.params[i].name = names[i];
  s.templateIsType = detail::templateKinds(S::templateParams);
  return s;
}

/// Every kernel of runtime/kernels, by name.
const std::vector<KernelSignature> &librarySignatures();
const KernelSignature *findLibrarySignature(std::string_view name);

/// "mind::NAME<arg, ...>" (no brackets without template arguments).
std::string nameExpression(std::string_view kernelName,
                           const std::vector<std::string> &templateArgs);
/// The resolved parameters of a library kernel instantiation such as
/// "mind::rmsnorm_fwd<__nv_bfloat16, float>". Throws std::invalid_argument
/// for an unknown kernel or template arguments that do not fit.
std::vector<ResolvedParam> resolveLibraryKernel(const std::string &nameExpr);

//===----------------------------------------------------------------------===//
// Arguments
//===----------------------------------------------------------------------===//

enum class ArgKind { Buffer, Buffers, I64, F32, F64 };

/// A launch argument; H identifies a buffer (a plan buffer id, an MLIR
/// value, a test's device tensor, a raw device pointer).
template <class H> struct Arg {
  using Kind = ArgKind;
  Kind kind = Kind::Buffer;
  H buffer{};             // Buffer
  std::vector<H> buffers; // Buffers
  int64_t i64 = 0;        // I64
  double f = 0;           // F32 / F64 value

  static Arg buf(H h) {
    Arg a;
    a.buffer = h;
    return a;
  }
  static Arg bufs(std::vector<H> hs) {
    Arg a;
    a.kind = Kind::Buffers;
    a.buffers = std::move(hs);
    return a;
  }
  static Arg int64(int64_t v) {
    Arg a;
    a.kind = Kind::I64;
    a.i64 = v;
    return a;
  }
  static Arg f32(double v) {
    Arg a;
    a.kind = Kind::F32;
    a.f = v;
    return a;
  }
  static Arg f64(double v) {
    Arg a;
    a.kind = Kind::F64;
    a.f = v;
    return a;
  }
};

/// Typed argument values for Builder: a parameter of the signature accepts
/// exactly one of these (explicit constructors: no silent conversions).
template <class H> struct Buffer {
  explicit Buffer(H h) : handle(h) {}
  H handle;
};
template <class H> struct Buffers {
  explicit Buffers(std::vector<H> hs) : handles(std::move(hs)) {}
  std::vector<H> handles;
};
struct I64 {
  explicit I64(int64_t v) : value(v) {}
  int64_t value;
};
struct F32 {
  explicit F32(double v) : value(v) {}
  double value;
};
struct F64 {
  explicit F64(double v) : value(v) {}
  double value;
};

namespace detail {
template <class P, class H> struct HostArg; // the Builder type of a parameter
template <class E, class H> struct HostArg<E *, H> {
  using type = Buffer<H>;
  static Arg<H> convert(const type &b) { return Arg<H>::buf(b.handle); }
};
template <class E, class H> struct HostArg<E *const *, H> {
  using type = Buffers<H>;
  static Arg<H> convert(const type &b) { return Arg<H>::bufs(b.handles); }
};
template <class H> struct HostArg<long long, H> {
  using type = I64;
  static Arg<H> convert(const type &v) { return Arg<H>::int64(v.value); }
};
template <class H> struct HostArg<float, H> {
  using type = F32;
  static Arg<H> convert(const type &v) { return Arg<H>::f32(v.value); }
};
template <class H> struct HostArg<double, H> {
  using type = F64;
  static Arg<H> convert(const type &v) { return Arg<H>::f64(v.value); }
};
} // namespace detail

/// Builder<S, H>::args(...) takes the signature's parameters in order, each
/// as Buffer<H>, Buffers<H>, I64, F32 or F64.
template <class S, class H, class F = typename S::generic> struct Builder;
template <class S, class H, class... Ps> struct Builder<S, H, void(Ps...)> {
  static std::vector<Arg<H>>
  args(const typename detail::HostArg<Ps, H>::type &...a) {
    return {detail::HostArg<Ps, H>::convert(a)...};
  }
};

/// A launch of a kernel with signature S (LaunchConfig + its signature type,
/// so that a lowering cannot pair a launch with another kernel's arguments).
template <class S> struct Launch : LaunchConfig { using Signature = S; };

/// Checks `args` against `params`: count, kinds (a buffer for a buffer
/// parameter, a non-empty array for an array one, the exact scalar kind),
/// and each buffer's dtype (`dtypeOf`). Throws std::invalid_argument naming
/// `where`, the argument's position and the parameter.
template <class H>
void checkArguments(const std::vector<ResolvedParam> &params,
                    const std::vector<Arg<H>> &args,
                    const std::function<DType(const H &)> &dtypeOf,
                    const std::string &where);

/// cudaLaunchKernel's argument array: one 8-byte slot per argument, packed
/// by the parameter's kind (f32 scalars as float, i64 as long long, buffers
/// and arrays as device pointers), and the pointers to the slots.
struct LaunchArgs {
  std::vector<uint64_t> slots;
  std::vector<void *> argv;
  LaunchArgs() = default;
  LaunchArgs(const LaunchArgs &o) : slots(o.slots) { point(); }
  LaunchArgs &operator=(const LaunchArgs &o) {
    slots = o.slots;
    point();
    return *this;
  }
  void point() {
    argv.clear();
    for (uint64_t &s : slots)
      argv.push_back(&s);
  }
};

/// Packs `args` by `params` (after checkArguments). `pointerOf` gives a
/// buffer's device address, `arrayOf(i)` the device address of argument i's
/// pointer array, which the caller has filled.
template <class H>
LaunchArgs marshalArguments(const std::vector<ResolvedParam> &params,
                            const std::vector<Arg<H>> &args,
                            const std::function<void *(const H &)> &pointerOf,
                            const std::function<void *(size_t)> &arrayOf);

//===----------------------------------------------------------------------===//
// Implementation of the templates above
//===----------------------------------------------------------------------===//

template <class H>
void checkArguments(const std::vector<ResolvedParam> &params,
                    const std::vector<Arg<H>> &args,
                    const std::function<DType(const H &)> &dtypeOf,
                    const std::string &where) {
  auto fail = [&](size_t i, const std::string &what) {
    throw std::invalid_argument(where + ": argument " + std::to_string(i) +
                                " (" + describe(params[i]) + ") " + what);
  };
  if (args.size() != params.size())
    throw std::invalid_argument(where + ": " + std::to_string(args.size()) +
                                " arguments for " +
                                std::to_string(params.size()) + " parameters");
  for (size_t i = 0; i < params.size(); ++i) {
    const ResolvedParam &p = params[i];
    const Arg<H> &a = args[i];
    auto checkBuffer = [&](const H &h) {
      if (!p.dtype)
        fail(i, "is an opaque struct no buffer can bind");
      DType d = dtypeOf(h);
      if (d != *p.dtype)
        fail(i, std::string("is given a ") + dtypeName(d) + " buffer");
    };
    switch (p.kind) {
    case ParamKind::In:
    case ParamKind::Out:
      if (a.kind != ArgKind::Buffer)
        fail(i, "needs a buffer");
      checkBuffer(a.buffer);
      break;
    case ParamKind::InArray:
    case ParamKind::OutArray:
      if (a.kind != ArgKind::Buffers || a.buffers.empty())
        fail(i, "needs a non-empty array of buffers");
      for (const H &h : a.buffers)
        checkBuffer(h);
      break;
    case ParamKind::I64:
      if (a.kind != ArgKind::I64)
        fail(i, "needs an i64 value");
      break;
    case ParamKind::F32:
      if (a.kind != ArgKind::F32)
        fail(i, "needs an f32 value");
      break;
    case ParamKind::F64:
      if (a.kind != ArgKind::F64)
        fail(i, "needs an f64 value");
      break;
    }
  }
}

template <class H>
LaunchArgs marshalArguments(const std::vector<ResolvedParam> &params,
                            const std::vector<Arg<H>> &args,
                            const std::function<void *(const H &)> &pointerOf,
                            const std::function<void *(size_t)> &arrayOf) {
  if (args.size() != params.size())
    throw std::invalid_argument("marshalArguments: argument count differs "
                                "from the signature's");
  LaunchArgs out;
  out.slots.resize(args.size());
  for (size_t i = 0; i < args.size(); ++i) {
    void *slot = &out.slots[i];
    const Arg<H> &a = args[i];
    switch (params[i].kind) {
    case ParamKind::In:
    case ParamKind::Out: {
      void *p = pointerOf(a.buffer);
      std::memcpy(slot, &p, sizeof(p));
      break;
    }
    case ParamKind::InArray:
    case ParamKind::OutArray: {
      void *p = arrayOf(i);
      std::memcpy(slot, &p, sizeof(p));
      break;
    }
    case ParamKind::I64: {
      long long v = a.i64;
      std::memcpy(slot, &v, sizeof(v));
      break;
    }
    case ParamKind::F32: {
      float v = static_cast<float>(a.f);
      std::memcpy(slot, &v, sizeof(v));
      break;
    }
    case ParamKind::F64:
      std::memcpy(slot, &a.f, sizeof(double));
      break;
    }
  }
  out.point();
  return out;
}

} // namespace kabi
} // namespace mind::runtime

#endif // MIND_ABI_KERNELABI_H
