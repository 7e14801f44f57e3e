//===- KernelAbi.cpp - the kernel library's signatures --------------------===//

#include "mind/abi/KernelAbi.h"

#include <cctype>

namespace mind::runtime::kabi {

const char *paramKindName(ParamKind kind) {
  switch (kind) {
  case ParamKind::In:
    return "in";
  case ParamKind::Out:
    return "out";
  case ParamKind::InArray:
    return "in[]";
  case ParamKind::OutArray:
    return "out[]";
  case ParamKind::I64:
    return "i64";
  case ParamKind::F32:
    return "f32";
  case ParamKind::F64:
    return "f64";
  }
  return "?";
}

bool isBufferKind(ParamKind kind) {
  return kind == ParamKind::In || kind == ParamKind::Out || isArrayKind(kind);
}

bool isArrayKind(ParamKind kind) {
  return kind == ParamKind::InArray || kind == ParamKind::OutArray;
}

std::string describe(const ResolvedParam &p) {
  std::string s = paramKindName(p.kind);
  if (isBufferKind(p.kind))
    s += std::string(" ") + (p.dtype ? dtypeName(*p.dtype) : "opaque");
  return s + " " + p.name;
}

std::vector<std::string> detail::paramNames(const char *text) {
  std::vector<std::string> names;
  std::string_view t(text);
  size_t start = 0;
  while (start <= t.size()) {
    size_t end = t.find(',', start);
    std::string_view part =
        t.substr(start, end == std::string_view::npos ? t.npos : end - start);
    size_t e = part.size();
    while (e > 0 && std::isspace(static_cast<unsigned char>(part[e - 1])))
      --e;
    size_t b = e;
    while (b > 0 && (std::isalnum(static_cast<unsigned char>(part[b - 1])) ||
                     part[b - 1] == '_'))
      --b;
    names.emplace_back(part.substr(b, e - b));
    if (end == std::string_view::npos)
      break;
    start = end + 1;
  }
  return names;
}

std::vector<bool> detail::templateKinds(const char *text) {
  std::vector<bool> kinds;
  std::string_view t(text);
  size_t start = 0;
  while (start < t.size()) {
    size_t end = t.find(',', start);
    std::string_view part =
        t.substr(start, end == std::string_view::npos ? t.npos : end - start);
    size_t b = part.find_first_not_of(" (");
    if (b != std::string_view::npos && part[b] != ')')
      kinds.push_back(part.substr(b, 5) == "class" ||
                      part.substr(b, 8) == "typename");
    if (end == std::string_view::npos)
      break;
    start = end + 1;
  }
  return kinds;
}

const std::vector<KernelSignature> &librarySignatures() {
  // One entry per __global__ function of runtime/kernels (KernelAbiTest
  // checks that every signature is listed and every kernel checks its own).
  static const std::vector<KernelSignature> all = {
      signatureOf<sig::silu_fwd>(),
      signatureOf<sig::silu_grad>(),
      signatureOf<sig::add_fwd>(),
      signatureOf<sig::mul_fwd>(),
      signatureOf<sig::swiglu_fwd>(),
      signatureOf<sig::swiglu_grad>(),
      signatureOf<sig::cast_fwd>(),
      signatureOf<sig::fill_fwd>(),
      signatureOf<sig::accumulate_f32>(),
      signatureOf<sig::rope_fwd>(),
      signatureOf<sig::transpose_fwd>(),
      signatureOf<sig::rope_table>(),
      signatureOf<sig::embedding_fwd>(),
      signatureOf<sig::embedding_grad_runs>(),
      signatureOf<sig::embedding_grad_reduce>(),
      signatureOf<sig::rmsnorm_fwd>(),
      signatureOf<sig::rmsnorm_fwd_cast>(),
      signatureOf<sig::rmsnorm_grad>(),
      signatureOf<sig::rmsnorm_grad_dy>(),
      signatureOf<sig::add_rmsnorm_fwd>(),
      signatureOf<sig::rmsnorm_grad_residual>(),
      signatureOf<sig::rmsnorm_grad_residual_cast>(),
      signatureOf<sig::rmsnorm_grad_dw>(),
      signatureOf<sig::softmax_fwd>(),
      signatureOf<sig::softmax_grad>(),
      signatureOf<sig::cross_entropy_fwd>(),
      signatureOf<sig::cross_entropy_finalize>(),
      signatureOf<sig::cross_entropy_mask_sum>(),
      signatureOf<sig::cross_entropy_grad>(),
      signatureOf<sig::attention_fwd>(),
      signatureOf<sig::attention_fwd>("attention_fwd_mma"),
      signatureOf<sig::attention_bwd_prep>(),
      signatureOf<sig::attention_bwd>(),
      signatureOf<sig::attention_bwd>("attention_bwd_dkdv_mma"),
      signatureOf<sig::attention_bwd_dq>(),
      signatureOf<sig::attention_bwd_dq>("attention_bwd_dq_mma"),
      signatureOf<sig::attention_bwd_dkdv_rope_mma>(),
      signatureOf<sig::attention_bwd_dq_rope_mma>(),
      signatureOf<sig::moe_topk_fwd>(),
      signatureOf<sig::moe_topk_bwd>(),
      signatureOf<sig::moe_route_count>(),
      signatureOf<sig::moe_route_scatter>(),
      signatureOf<sig::moe_invert_perm>(),
      signatureOf<sig::moe_dispatch_fwd>(),
      signatureOf<sig::moe_dispatch_bwd>(),
      signatureOf<sig::moe_combine_fwd>(),
      signatureOf<sig::moe_combine_bwd>(),
      signatureOf<sig::moe_aux_loss_fwd>(),
      signatureOf<sig::moe_aux_loss_bwd>(),
      signatureOf<sig::moe_grouped_linear_fwd>(),
      signatureOf<sig::moe_grouped_linear_bwd_x>(),
      signatureOf<sig::moe_grouped_linear_bwd_w>(),
      signatureOf<sig::grad_sqnorm_partial>(),
      signatureOf<sig::optimizer_prepare>(),
      signatureOf<sig::adamw_fused>(),
      signatureOf<sig::adamw_fused_copy>(),
  };
  return all;
}

const KernelSignature *findLibrarySignature(std::string_view name) {
  for (const KernelSignature &s : librarySignatures())
    if (s.name == name)
      return &s;
  return nullptr;
}

std::string nameExpression(std::string_view kernelName,
                           const std::vector<std::string> &templateArgs) {
  std::string s = "mind::" + std::string(kernelName);
  if (templateArgs.empty())
    return s;
  s += "<";
  for (size_t i = 0; i < templateArgs.size(); ++i)
    s += (i ? ", " : "") + templateArgs[i];
  return s + ">";
}

namespace {
std::optional<DType> dtypeOfCudaName(std::string_view t) {
  if (t == "float")
    return DType::F32;
  if (t == "__nv_bfloat16")
    return DType::BF16;
  if (t == "__half")
    return DType::F16;
  if (t == "long long")
    return DType::I64;
  if (t == "int")
    return DType::I32;
  return std::nullopt;
}

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b])))
    ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1])))
    --e;
  return std::string(s.substr(b, e - b));
}
} // namespace

std::vector<ResolvedParam> resolveLibraryKernel(const std::string &nameExpr) {
  auto bad = [&](const std::string &why) -> std::invalid_argument {
    return std::invalid_argument("kernel '" + nameExpr + "': " + why);
  };
  std::string_view e(nameExpr);
  if (e.rfind("mind::", 0) != 0)
    throw bad("not a kernel of the library (mind::...)");
  e.remove_prefix(6);
  size_t lt = e.find('<');
  std::string name = trim(e.substr(0, lt));
  std::vector<std::string> args;
  if (lt != std::string_view::npos) {
    if (e.back() != '>')
      throw bad("unbalanced template arguments");
    std::string_view inner = e.substr(lt + 1, e.size() - lt - 2);
    size_t start = 0;
    while (true) {
      size_t comma = inner.find(',', start);
      args.push_back(trim(inner.substr(start, comma == std::string_view::npos
                                                  ? inner.npos
                                                  : comma - start)));
      if (comma == std::string_view::npos)
        break;
      start = comma + 1;
    }
  }
  const KernelSignature *sig = findLibrarySignature(name);
  if (!sig)
    throw bad("no such kernel in the library (KernelSignatures.h)");
  if (args.size() != sig->templateIsType.size())
    throw bad("takes " + std::to_string(sig->templateIsType.size()) +
              " template arguments, got " + std::to_string(args.size()));
  for (size_t i = 0; i < args.size(); ++i) {
    bool isType = sig->templateIsType[i];
    if (isType && !dtypeOfCudaName(args[i]))
      throw bad("template argument '" + args[i] + "' is not an element type");
    if (!isType && (args[i].empty() ||
                    args[i].find_first_not_of("0123456789") != args[i].npos))
      throw bad("template argument '" + args[i] + "' is not an integer");
  }
  std::vector<ResolvedParam> out;
  for (const ParamSpec &p : sig->params) {
    ResolvedParam r{p.name, p.kind, std::nullopt};
    if (isBufferKind(p.kind) && !p.opaque) {
      // Template arguments were checked above: types name element types.
      r.dtype = p.templateParam < 0
                    ? p.dtype
                    : *dtypeOfCudaName(
                          args[static_cast<size_t>(p.templateParam)]);
    }
    out.push_back(std::move(r));
  }
  return out;
}

} // namespace mind::runtime::kabi
