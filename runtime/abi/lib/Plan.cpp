//===- Plan.cpp - the plan's JSON form ------------------------------------===//
//
// Strict both ways: toJson writes every field, planFromJson requires every
// field with its exact JSON type and names the offending one (as a path such
// as "steps[3].args[1].value") when it is missing or ill-typed. Semantic
// checks (indices in range, offsets in the arena) are validatePlan's
// (Bundle.h); this file only translates. docs/BundleFormat.md has the schema.
//
//===----------------------------------------------------------------------===//

#include "mind/abi/Plan.h"

#include <cmath>
#include <limits>
#include <stdexcept>

using nlohmann::json;

namespace mind::runtime {

const char *bufferKindName(BufferKind kind) {
  switch (kind) {
  case BufferKind::Param:
    return "param";
  case BufferKind::Grad:
    return "grad";
  case BufferKind::Input:
    return "input";
  case BufferKind::Output:
    return "output";
  case BufferKind::Activation:
    return "activation";
  case BufferKind::ParamCopy:
    return "param_copy";
  case BufferKind::View:
    return "view";
  }
  return "?";
}

namespace {

const char *kArgKindNames[] = {"buffer", "buffers", "i64", "f32", "f64"};

// JSON has no NaN/Inf: such float arguments are written as strings.
json floatToJson(double v) {
  if (std::isnan(v))
    return "nan";
  if (std::isinf(v))
    return v > 0 ? "inf" : "-inf";
  return v;
}

json dims(const std::array<uint32_t, 3> &d) {
  return json::array({d[0], d[1], d[2]});
}

json stepToJson(const Step &step) {
  if (const auto *k = std::get_if<KernelStep>(&step)) {
    json args = json::array();
    for (const KernelArg &a : k->args) {
      json j = {{"kind", kArgKindNames[static_cast<int>(a.kind)]}};
      switch (a.kind) {
      case KernelArg::Kind::Buffer:
        j["buffer"] = a.buffer;
        break;
      case KernelArg::Kind::Buffers:
        j["buffers"] = a.buffers;
        break;
      case KernelArg::Kind::I64:
        j["value"] = a.i64;
        break;
      case KernelArg::Kind::F32:
      case KernelArg::Kind::F64:
        j["value"] = floatToJson(a.f);
        break;
      }
      args.push_back(std::move(j));
    }
    return {{"kind", "kernel"},
            {"kernel", k->kernel},
            {"grid", dims(k->grid)},
            {"block", dims(k->block)},
            {"shared_bytes", k->sharedBytes},
            {"args", std::move(args)},
            {"label", k->label}};
  }
  if (const auto *g = std::get_if<GemmStep>(&step))
    return {{"kind", "gemm"},
            {"a", g->a},
            {"b", g->b},
            {"c", g->c},
            {"m", g->m},
            {"n", g->n},
            {"k", g->k},
            {"trans_a", g->transA},
            {"trans_b", g->transB},
            {"alpha", floatToJson(g->alpha)},
            {"beta", floatToJson(g->beta)},
            {"label", g->label}};
  const auto &m = std::get<MemsetStep>(step);
  return {{"kind", "memset"}, {"buffer", m.buffer}, {"label", m.label}};
}

//===----------------------------------------------------------------------===//
// Reading: every accessor takes the path of the value for its messages.
//===----------------------------------------------------------------------===//

[[noreturn]] void bad(const std::string &path, const std::string &what) {
  throw std::runtime_error("plan JSON: " + path + ": " + what);
}

const json &field(const json &obj, const char *key, const std::string &path) {
  if (!obj.is_object())
    bad(path, "expected an object");
  auto it = obj.find(key);
  if (it == obj.end())
    bad(path.empty() ? key : path + "." + key, "missing");
  return *it;
}

std::string sub(const std::string &path, const char *key) {
  return path.empty() ? key : path + "." + key;
}
std::string at(const std::string &path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

int64_t getI64(const json &obj, const char *key, const std::string &path) {
  const json &v = field(obj, key, path);
  if (!v.is_number_integer())
    bad(sub(path, key), "expected an integer, got " + v.dump());
  if (v.is_number_unsigned() &&
      v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
    bad(sub(path, key), "integer out of range");
  return v.get<int64_t>();
}

uint64_t getU64(const json &obj, const char *key, const std::string &path) {
  const json &v = field(obj, key, path);
  if (!v.is_number_integer() ||
      (!v.is_number_unsigned() && v.get<int64_t>() < 0))
    bad(sub(path, key), "expected a non-negative integer, got " + v.dump());
  return v.get<uint64_t>();
}

uint32_t getU32(const json &obj, const char *key, const std::string &path) {
  uint64_t v = getU64(obj, key, path);
  if (v > std::numeric_limits<uint32_t>::max())
    bad(sub(path, key), "exceeds 32 bits");
  return static_cast<uint32_t>(v);
}

bool getBool(const json &obj, const char *key, const std::string &path) {
  const json &v = field(obj, key, path);
  if (!v.is_boolean())
    bad(sub(path, key), "expected true or false, got " + v.dump());
  return v.get<bool>();
}

std::string getString(const json &obj, const char *key,
                      const std::string &path) {
  const json &v = field(obj, key, path);
  if (!v.is_string())
    bad(sub(path, key), "expected a string, got " + v.dump());
  return v.get<std::string>();
}

double floatFromJson(const json &v, const std::string &path) {
  if (v.is_number())
    return v.get<double>();
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    if (s == "nan")
      return std::numeric_limits<double>::quiet_NaN();
    if (s == "inf")
      return std::numeric_limits<double>::infinity();
    if (s == "-inf")
      return -std::numeric_limits<double>::infinity();
  }
  bad(path,
      "expected a number (or \"nan\", \"inf\", \"-inf\"), got " + v.dump());
}

const json &getArray(const json &obj, const char *key,
                     const std::string &path) {
  const json &v = field(obj, key, path);
  if (!v.is_array())
    bad(sub(path, key), "expected an array");
  return v;
}

std::array<uint32_t, 3> getDims(const json &obj, const char *key,
                                const std::string &path) {
  const json &v = getArray(obj, key, path);
  if (v.size() != 3)
    bad(sub(path, key), "expected 3 integers");
  std::array<uint32_t, 3> d{};
  for (size_t i = 0; i < 3; ++i) {
    if (!v[i].is_number_integer() || v[i].get<int64_t>() < 0 ||
        v[i].get<int64_t>() > std::numeric_limits<uint32_t>::max())
      bad(at(sub(path, key), i), "expected a 32-bit unsigned integer");
    d[i] = v[i].get<uint32_t>();
  }
  return d;
}

BufferDesc bufferFromJson(const json &j, const std::string &path) {
  BufferDesc b;
  b.name = getString(j, "name", path);
  std::string kind = getString(j, "kind", path);
  static const BufferKind kinds[] = {
      BufferKind::Param,  BufferKind::Grad,       BufferKind::Input,
      BufferKind::Output, BufferKind::Activation, BufferKind::ParamCopy,
      BufferKind::View};
  bool found = false;
  for (BufferKind k : kinds)
    if (kind == bufferKindName(k)) {
      b.kind = k;
      found = true;
    }
  if (!found)
    bad(sub(path, "kind"), "unknown buffer kind '" + kind +
                               "' (param, grad, input, output, activation, "
                               "param_copy, view)");
  std::string dtype = getString(j, "dtype", path);
  auto dt = parseDType(dtype);
  if (!dt)
    bad(sub(path, "dtype"), "unknown dtype '" + dtype + "'");
  b.dtype = *dt;
  const json &shape = getArray(j, "shape", path);
  for (size_t i = 0; i < shape.size(); ++i) {
    if (!shape[i].is_number_integer())
      bad(at(sub(path, "shape"), i), "expected an integer");
    b.shape.push_back(shape[i].get<int64_t>());
  }
  b.offset = getU64(j, "offset", path);
  b.bytes = getU64(j, "bytes", path);
  if (b.kind == BufferKind::View)
    b.viewOf = getI64(j, "view_of", path); // validatePlan checks the index
  return b;
}

KernelArg argFromJson(const json &j, const std::string &path) {
  std::string kind = getString(j, "kind", path);
  if (kind == "buffer")
    return KernelArg::buf(getI64(j, "buffer", path));
  if (kind == "buffers") {
    const json &ids = getArray(j, "buffers", path);
    std::vector<int64_t> buffers;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (!ids[i].is_number_integer())
        bad(at(sub(path, "buffers"), i), "expected an integer");
      buffers.push_back(ids[i].get<int64_t>());
    }
    return KernelArg::bufs(std::move(buffers));
  }
  if (kind == "i64")
    return KernelArg::int64(getI64(j, "value", path));
  if (kind == "f32")
    return KernelArg::f32(
        floatFromJson(field(j, "value", path), sub(path, "value")));
  if (kind == "f64")
    return KernelArg::f64(
        floatFromJson(field(j, "value", path), sub(path, "value")));
  bad(sub(path, "kind"),
      "unknown argument kind '" + kind +
          "' (buffer, buffers, i64, f32, f64)");
}

kabi::ResolvedParam paramFromJson(const json &j, const std::string &path) {
  static const kabi::ParamKind kinds[] = {
      kabi::ParamKind::In,  kabi::ParamKind::Out, kabi::ParamKind::InArray,
      kabi::ParamKind::OutArray, kabi::ParamKind::I64, kabi::ParamKind::F32,
      kabi::ParamKind::F64};
  kabi::ResolvedParam p;
  p.name = getString(j, "name", path);
  std::string kind = getString(j, "kind", path);
  bool found = false;
  for (kabi::ParamKind k : kinds)
    if (kind == kabi::paramKindName(k)) {
      p.kind = k;
      found = true;
    }
  if (!found)
    bad(sub(path, "kind"), "unknown parameter kind '" + kind +
                               "' (in, out, in[], out[], i64, f32, f64)");
  if (kabi::isBufferKind(p.kind)) {
    std::string dtype = getString(j, "dtype", path);
    if (dtype != "opaque") {
      p.dtype = parseDType(dtype);
      if (!p.dtype)
        bad(sub(path, "dtype"), "unknown dtype '" + dtype + "'");
    }
  }
  return p;
}

Step stepFromJson(const json &j, const std::string &path) {
  std::string kind = getString(j, "kind", path);
  if (kind == "kernel") {
    KernelStep k;
    k.kernel = getI64(j, "kernel", path);
    k.grid = getDims(j, "grid", path);
    k.block = getDims(j, "block", path);
    k.sharedBytes = getU32(j, "shared_bytes", path);
    const json &args = getArray(j, "args", path);
    for (size_t i = 0; i < args.size(); ++i)
      k.args.push_back(argFromJson(args[i], at(sub(path, "args"), i)));
    k.label = getString(j, "label", path);
    return k;
  }
  if (kind == "gemm") {
    GemmStep g;
    g.a = getI64(j, "a", path);
    g.b = getI64(j, "b", path);
    g.c = getI64(j, "c", path);
    g.m = getI64(j, "m", path);
    g.n = getI64(j, "n", path);
    g.k = getI64(j, "k", path);
    g.transA = getBool(j, "trans_a", path);
    g.transB = getBool(j, "trans_b", path);
    g.alpha = static_cast<float>(
        floatFromJson(field(j, "alpha", path), sub(path, "alpha")));
    g.beta = static_cast<float>(
        floatFromJson(field(j, "beta", path), sub(path, "beta")));
    g.label = getString(j, "label", path);
    return g;
  }
  if (kind == "memset") {
    MemsetStep m;
    m.buffer = getI64(j, "buffer", path);
    m.label = getString(j, "label", path);
    return m;
  }
  bad(sub(path, "kind"),
      "unknown step kind '" + kind + "' (kernel, gemm, memset)");
}

} // namespace

json toJson(const Plan &plan) {
  json buffers = json::array();
  for (const BufferDesc &b : plan.buffers) {
    json d = {{"name", b.name},
              {"kind", bufferKindName(b.kind)},
              {"dtype", dtypeName(b.dtype)},
              {"shape", b.shape},
              {"offset", b.offset},
              {"bytes", b.bytes}};
    if (b.kind == BufferKind::View)
      d["view_of"] = b.viewOf;
    buffers.push_back(std::move(d));
  }
  json kernels = json::array();
  for (const KernelEntry &k : plan.kernels) {
    json params = json::array();
    for (const kabi::ResolvedParam &p : k.params) {
      json j = {{"name", p.name}, {"kind", kabi::paramKindName(p.kind)}};
      if (kabi::isBufferKind(p.kind))
        j["dtype"] = p.dtype ? dtypeName(*p.dtype) : "opaque";
      params.push_back(std::move(j));
    }
    kernels.push_back({{"name_expr", k.nameExpr},
                       {"lowered_name", k.loweredName},
                       {"params", std::move(params)}});
  }
  json steps = json::array();
  for (const Step &s : plan.steps)
    steps.push_back(stepToJson(s));
  return {{"arena_bytes", plan.arenaBytes},
          {"buffers", std::move(buffers)},
          {"kernels", std::move(kernels)},
          {"steps", std::move(steps)},
          {"config", plan.config.is_null() ? json::object() : plan.config},
          {"meta", plan.meta.is_null() ? json::object() : plan.meta}};
}

Plan planFromJson(const json &j) {
  if (!j.is_object())
    bad("<root>", "expected an object");
  Plan plan;
  plan.arenaBytes = getU64(j, "arena_bytes", "");
  const json &buffers = getArray(j, "buffers", "");
  for (size_t i = 0; i < buffers.size(); ++i)
    plan.buffers.push_back(bufferFromJson(buffers[i], at("buffers", i)));
  const json &kernels = getArray(j, "kernels", "");
  for (size_t i = 0; i < kernels.size(); ++i) {
    std::string path = at("kernels", i);
    KernelEntry k;
    k.nameExpr = getString(kernels[i], "name_expr", path);
    k.loweredName = getString(kernels[i], "lowered_name", path);
    const json &params = getArray(kernels[i], "params", path);
    for (size_t p = 0; p < params.size(); ++p)
      k.params.push_back(paramFromJson(params[p], at(sub(path, "params"), p)));
    plan.kernels.push_back(std::move(k));
  }
  const json &steps = getArray(j, "steps", "");
  for (size_t i = 0; i < steps.size(); ++i)
    plan.steps.push_back(stepFromJson(steps[i], at("steps", i)));
  plan.config = field(j, "config", "");
  if (!plan.config.is_object())
    bad("config", "expected an object");
  plan.meta = field(j, "meta", "");
  if (!plan.meta.is_object())
    bad("meta", "expected an object");
  return plan;
}

} // namespace mind::runtime
