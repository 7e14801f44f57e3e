//===- BundleValidate.cpp - the rules a plan must satisfy -----------------===//
//
// validatePlan makes a loaded plan safe to execute (no index out of range,
// no byte outside the arena, no persistent buffer clobbered by another);
// paramLayout and trainingInterface check what the trainer and the device
// optimizer rely on. docs/BundleFormat.md states the same rules in prose.
//
//===----------------------------------------------------------------------===//

#include "mind/abi/Bundle.h"
#include "mind/abi/OptimizerSpecs.h"
#include "mind/abi/DType.h"

#include <algorithm>
#include <numeric>
#include <set>

namespace mind::runtime {

namespace {

[[noreturn]] void fail(const std::string &msg) {
  throw BundleError("plan: " + msg);
}

std::string bufName(const Plan &plan, int64_t id) {
  return "buffer " + std::to_string(id) + " '" +
         plan.buffers[static_cast<size_t>(id)].name + "'";
}

std::string stepName(const Plan &plan, size_t i) {
  const Step &s = plan.steps[i];
  const std::string *label = nullptr;
  if (auto *k = std::get_if<KernelStep>(&s))
    label = &k->label;
  else if (auto *g = std::get_if<GemmStep>(&s))
    label = &g->label;
  else
    label = &std::get<MemsetStep>(s).label;
  return "step " + std::to_string(i) +
         (label->empty() ? "" : " (" + *label + ")");
}

bool persistent(BufferKind k) { return k != BufferKind::Activation; }

/// What a buffer is for every check of who may write it: a view is its
/// source (checkBuffers has checked the index before anything asks).
BufferKind effectiveKind(const Plan &plan, int64_t id) {
  const BufferDesc &b = plan.buffers[static_cast<size_t>(id)];
  return b.kind == BufferKind::View
             ? plan.buffers[static_cast<size_t>(b.viewOf)].kind
             : b.kind;
}

/// A view: of a buffer that is not a view, inside it, 16-byte aligned.
void checkView(const Plan &plan, size_t i, const std::string &what) {
  const BufferDesc &v = plan.buffers[i];
  if (v.viewOf < 0 || v.viewOf >= static_cast<int64_t>(plan.buffers.size()) ||
      v.viewOf == static_cast<int64_t>(i))
    fail(what + ": view of buffer " + std::to_string(v.viewOf) +
         ", not another buffer of the plan");
  const BufferDesc &src = plan.buffers[static_cast<size_t>(v.viewOf)];
  if (src.kind == BufferKind::View)
    fail(what + ": views a view ('" + src.name + "'); view its source");
  if (v.offset % 16 != 0)
    fail(what + ": offset " + std::to_string(v.offset) +
         " is not a multiple of 16");
  if (v.offset < src.offset || v.offset - src.offset > src.bytes ||
      v.bytes > src.bytes - (v.offset - src.offset))
    fail(what + ": bytes [" + std::to_string(v.offset) + ", " +
         std::to_string(v.offset + v.bytes) + ") lie outside '" + src.name +
         "' [" + std::to_string(src.offset) + ", " +
         std::to_string(src.offset + src.bytes) + ")");
}

void checkBufferId(const Plan &plan, int64_t id, const std::string &where) {
  if (id < 0 || id >= static_cast<int64_t>(plan.buffers.size()))
    fail(where + ": buffer index " + std::to_string(id) + " out of range (" +
         std::to_string(plan.buffers.size()) + " buffers)");
}

bool overlaps(const BufferDesc &a, const BufferDesc &b) {
  return a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes;
}

void checkBuffers(const Plan &plan) {
  std::set<std::string> names;
  for (size_t i = 0; i < plan.buffers.size(); ++i) {
    const BufferDesc &b = plan.buffers[i];
    std::string what = "buffer " + std::to_string(i) + " '" + b.name + "'";
    if (b.name.empty())
      fail("buffer " + std::to_string(i) + " has an empty name");
    if (!names.insert(b.name).second)
      fail(what + ": duplicate name");
    uint64_t numel;
    try {
      numel = numElements(b.shape);
    } catch (const std::exception &) {
      fail(what + ": bad shape " + shapeText(b.shape));
    }
    if (numel == 0)
      fail(what + ": empty shape " + shapeText(b.shape));
    if (numel > (UINT64_MAX / 8) || b.bytes != numel * dtypeSize(b.dtype))
      fail(what + ": " + std::to_string(b.bytes) + " bytes, but shape " +
           shapeText(b.shape) + " of " + dtypeName(b.dtype) + " needs " +
           std::to_string(numel * dtypeSize(b.dtype)));
    if (b.kind == BufferKind::View) {
      checkView(plan, i, what);
      continue; // no storage of its own: the checks below concern sources
    }
    // A param copy sits at half its param's offset in the copy region
    // (ParamLayout), hence half the alignment.
    uint64_t align = b.kind == BufferKind::ParamCopy ? kArenaAlignment / 2
                                                     : kArenaAlignment;
    if (b.offset % align != 0)
      fail(what + ": offset " + std::to_string(b.offset) +
           " is not a multiple of " + std::to_string(align));
    if (b.offset > plan.arenaBytes || b.bytes > plan.arenaBytes - b.offset)
      fail(what + ": bytes [" + std::to_string(b.offset) + ", " +
           std::to_string(b.offset + b.bytes) + ") exceed the arena of " +
           std::to_string(plan.arenaBytes) + " bytes");
    if ((b.kind == BufferKind::Param || b.kind == BufferKind::Grad) &&
        b.dtype != DType::F32)
      fail(what + ": " + bufferKindName(b.kind) + " buffers must be F32, not " +
           dtypeName(b.dtype));
    if (b.kind == BufferKind::ParamCopy && b.dtype != DType::BF16 &&
        b.dtype != DType::F16)
      fail(what + ": param_copy buffers must be BF16 or F16, not " +
           dtypeName(b.dtype));
  }
  // Sweep in offset order: a buffer starting before the furthest end seen so
  // far overlaps the buffer owning that end. Activations may share memory
  // (the planner reuses it by liveness); nothing may overlap a persistent
  // buffer (params, grads, inputs, outputs: they outlive the micro-step).
  std::vector<size_t> order;
  for (size_t i = 0; i < plan.buffers.size(); ++i)
    if (plan.buffers[i].kind != BufferKind::View)
      order.push_back(i);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return plan.buffers[a].offset < plan.buffers[b].offset;
  });
  int64_t holder = -1;
  uint64_t maxEnd = 0;
  for (size_t i : order) {
    const BufferDesc &b = plan.buffers[i];
    if (holder >= 0 && b.offset < maxEnd) {
      const BufferDesc &h = plan.buffers[static_cast<size_t>(holder)];
      if (persistent(b.kind) || persistent(h.kind))
        fail(bufName(plan, static_cast<int64_t>(i)) + " (" +
             bufferKindName(b.kind) + ") overlaps " + bufName(plan, holder) +
             " (" + bufferKindName(h.kind) +
             "); only activations may share memory");
    }
    if (holder < 0 || b.offset + b.bytes > maxEnd) {
      maxEnd = b.offset + b.bytes;
      holder = static_cast<int64_t>(i);
    }
  }
}

void checkKernelStep(const Plan &plan, const KernelStep &k,
                     const std::string &where) {
  if (k.kernel < 0 || k.kernel >= static_cast<int64_t>(plan.kernels.size()))
    fail(where + ": kernel index " + std::to_string(k.kernel) +
         " out of range (" + std::to_string(plan.kernels.size()) + " kernels)");
  uint64_t threads = 1;
  for (int d = 0; d < 3; ++d) {
    if (k.grid[d] == 0 || k.block[d] == 0)
      fail(where + ": zero grid or block dimension");
    threads *= k.block[d];
  }
  // Each of x and y is bounded too: 2^31 x 2^31 x 16 wraps to 0 threads.
  if (threads > 1024 || k.block[0] > 1024 || k.block[1] > 1024 ||
      k.block[2] > 64 || k.grid[1] > 65535 || k.grid[2] > 65535 ||
      k.grid[0] > 0x7FFFFFFFu)
    fail(where + ": launch shape exceeds CUDA's limits (block " +
         std::to_string(k.block[0]) + "x" + std::to_string(k.block[1]) + "x" +
         std::to_string(k.block[2]) + ")");
  if (k.sharedBytes > 227 * 1024)
    fail(where + ": " + std::to_string(k.sharedBytes) +
         " bytes of shared memory exceed 227 KiB");
  for (size_t a = 0; a < k.args.size(); ++a) {
    const KernelArg &arg = k.args[a];
    std::string what = where + " argument " + std::to_string(a);
    if (arg.kind == KernelArg::Kind::Buffer)
      checkBufferId(plan, arg.buffer, what);
    for (int64_t id : arg.buffers)
      checkBufferId(plan, id, what);
  }
  const KernelEntry &entry = plan.kernels[static_cast<size_t>(k.kernel)];
  try {
    kabi::checkArguments<int64_t>(
        entry.params, k.args,
        [&](const int64_t &id) {
          return plan.buffers[static_cast<size_t>(id)].dtype;
        },
        where + " kernel " + entry.nameExpr);
  } catch (const std::invalid_argument &e) {
    fail(e.what());
  }
  // Params are read-only in a micro-step; inputs belong to the host.
  for (size_t a = 0; a < k.args.size(); ++a) {
    kabi::ParamKind kind = entry.params[a].kind;
    if (kind != kabi::ParamKind::Out && kind != kabi::ParamKind::OutArray)
      continue;
    std::vector<int64_t> ids = k.args[a].buffers;
    if (k.args[a].kind == KernelArg::Kind::Buffer)
      ids.push_back(k.args[a].buffer);
    for (int64_t id : ids) {
      BufferKind bk = effectiveKind(plan, id);
      if (bk == BufferKind::Param || bk == BufferKind::ParamCopy ||
          bk == BufferKind::Input)
        fail(where + " kernel " + entry.nameExpr + " writes " +
             bufName(plan, id) + " (" + bufferKindName(bk) +
             ") through argument " + std::to_string(a) + " (" +
             kabi::describe(entry.params[a]) +
             "): params and inputs are read-only in a micro-step");
    }
  }
}

/// A library kernel's recorded signature must be the library's.
void checkKernelEntry(const KernelEntry &k, size_t i) {
  std::string where = "kernel " + std::to_string(i) + " '" + k.nameExpr + "'";
  if (k.nameExpr.empty() || k.loweredName.empty())
    fail("kernel " + std::to_string(i) + " has an empty name");
  if (k.nameExpr.rfind("mind::", 0) != 0)
    return; // emitted from the IR: its recorded signature is the truth
  std::vector<kabi::ResolvedParam> want;
  try {
    want = kabi::resolveLibraryKernel(k.nameExpr);
  } catch (const std::invalid_argument &e) {
    fail(e.what());
  }
  if (want != k.params) {
    std::string got, expected;
    for (const auto &p : k.params)
      got += (got.empty() ? "" : ", ") + kabi::describe(p);
    for (const auto &p : want)
      expected += (expected.empty() ? "" : ", ") + kabi::describe(p);
    fail(where + ": recorded parameters (" + got +
         ") differ from the library's signature (" + expected + ")");
  }
}

void checkGemmStep(const Plan &plan, const GemmStep &g,
                   const std::string &where) {
  checkBufferId(plan, g.a, where + " operand a");
  checkBufferId(plan, g.b, where + " operand b");
  checkBufferId(plan, g.c, where + " operand c");
  if (g.m <= 0 || g.n <= 0 || g.k <= 0)
    fail(where + ": m, n, k must be positive (got " + std::to_string(g.m) +
         ", " + std::to_string(g.n) + ", " + std::to_string(g.k) + ")");
  const BufferDesc &a = plan.buffers[static_cast<size_t>(g.a)];
  const BufferDesc &b = plan.buffers[static_cast<size_t>(g.b)];
  const BufferDesc &c = plan.buffers[static_cast<size_t>(g.c)];
  auto isFloat = [](DType t) {
    return t == DType::F32 || t == DType::BF16 || t == DType::F16;
  };
  if (!isFloat(a.dtype) || a.dtype != b.dtype)
    fail(where + ": A and B must share one of F32/BF16/F16 (got " +
         dtypeName(a.dtype) + ", " + dtypeName(b.dtype) + ")");
  if (c.dtype != a.dtype && c.dtype != DType::F32)
    fail(where + ": C must be " + dtypeName(a.dtype) + " or F32, not " +
         dtypeName(c.dtype));
  auto checkNumel = [&](const BufferDesc &buf, int64_t rows, int64_t cols,
                        const char *op) {
    // Checked: m = 2^61 + 8, k = 8 would wrap around to 64 elements.
    uint64_t reads;
    if (__builtin_mul_overflow(static_cast<uint64_t>(rows),
                               static_cast<uint64_t>(cols), &reads) ||
        numElements(buf.shape) != reads)
      fail(where + ": " + op + " '" + buf.name + "' has shape " +
           shapeText(buf.shape) + ", the GEMM reads " + std::to_string(rows) +
           "x" + std::to_string(cols));
  };
  checkNumel(a, g.m, g.k, "A");
  checkNumel(b, g.k, g.n, "B");
  checkNumel(c, g.m, g.n, "C");
  if (overlaps(c, a) || overlaps(c, b))
    fail(where + ": C '" + c.name + "' overlaps an input operand");
}

} // namespace

void validatePlan(const Plan &plan) {
  if (plan.arenaBytes % kArenaAlignment != 0)
    fail("arena_bytes " + std::to_string(plan.arenaBytes) +
         " is not a multiple of " + std::to_string(kArenaAlignment));
  checkBuffers(plan);
  for (size_t i = 0; i < plan.kernels.size(); ++i)
    checkKernelEntry(plan.kernels[i], i);
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    std::string where = stepName(plan, i);
    const Step &s = plan.steps[i];
    if (auto *k = std::get_if<KernelStep>(&s))
      checkKernelStep(plan, *k, where);
    else if (auto *g = std::get_if<GemmStep>(&s))
      checkGemmStep(plan, *g, where);
    else
      checkBufferId(plan, std::get<MemsetStep>(s).buffer, where);
  }
  if (!plan.config.is_object() && !plan.config.is_null())
    fail("config must be an object");
  if (!plan.meta.is_object() && !plan.meta.is_null())
    fail("meta must be an object");
}

int64_t findBuffer(const Plan &plan, const std::string &name) {
  for (size_t i = 0; i < plan.buffers.size(); ++i)
    if (plan.buffers[i].name == name)
      return static_cast<int64_t>(i);
  return -1;
}

/// Copies, if any: one per param, in param order, one dtype, at half their
/// param's relative offset in a region nothing else overlaps (the optimizer
/// rewrites all of it, padding included).
static void checkParamCopies(const Plan &plan, ParamLayout &l) {
  if (l.copies.empty())
    return;
  if (l.copies.size() != l.params.size())
    fail(std::to_string(l.params.size()) + " param buffers but " +
         std::to_string(l.copies.size()) +
         " param_copy buffers (all params have a copy, or none)");
  const BufferDesc &c0 = plan.buffers[static_cast<size_t>(l.copies[0])];
  l.copyBase = c0.offset;
  l.copyDtype = c0.dtype;
  if (l.copyBase % kArenaAlignment != 0)
    fail("the param copy region starts at " + std::to_string(l.copyBase) +
         ", not a multiple of " + std::to_string(kArenaAlignment));
  for (size_t i = 0; i < l.params.size(); ++i) {
    const BufferDesc &p = plan.buffers[static_cast<size_t>(l.params[i])];
    const BufferDesc &c = plan.buffers[static_cast<size_t>(l.copies[i])];
    if (c.name != p.name + ".copy")
      fail("param_copy buffer " + std::to_string(i) + " is '" + c.name +
           "', expected '" + p.name + ".copy' (copies follow the params' order)");
    if (c.shape != p.shape || c.dtype != l.copyDtype)
      fail("'" + c.name + "' is " + dtypeName(c.dtype) + " " +
           shapeText(c.shape) + ", expected " + dtypeName(l.copyDtype) + " " +
           shapeText(p.shape));
    if (c.offset != l.copyBase + (p.offset - l.paramBase) / 2)
      fail("'" + c.name + "' is not at half the relative offset of '" +
           p.name + "' in the param copy region");
  }
  uint64_t end = l.copyBase + l.regionBytes / 2;
  for (size_t i = 0; i < plan.buffers.size(); ++i) {
    const BufferDesc &b = plan.buffers[i];
    if (effectiveKind(plan, static_cast<int64_t>(i)) != BufferKind::ParamCopy &&
        b.offset < end && b.offset + b.bytes > l.copyBase)
      fail(bufName(plan, static_cast<int64_t>(i)) +
           " overlaps the param copy region [" + std::to_string(l.copyBase) +
           ", " + std::to_string(end) + ")");
  }
}

ParamLayout paramLayout(const Plan &plan) {
  ParamLayout l;
  for (size_t i = 0; i < plan.buffers.size(); ++i) {
    if (plan.buffers[i].kind == BufferKind::Param)
      l.params.push_back(static_cast<int64_t>(i));
    else if (plan.buffers[i].kind == BufferKind::Grad)
      l.grads.push_back(static_cast<int64_t>(i));
    else if (plan.buffers[i].kind == BufferKind::ParamCopy)
      l.copies.push_back(static_cast<int64_t>(i));
  }
  if (l.params.empty())
    fail("no param buffers");
  if (l.params.size() != l.grads.size())
    fail(std::to_string(l.params.size()) + " param buffers but " +
         std::to_string(l.grads.size()) + " grad buffers");
  const BufferDesc &p0 = plan.buffers[static_cast<size_t>(l.params[0])];
  const BufferDesc &g0 = plan.buffers[static_cast<size_t>(l.grads[0])];
  l.paramBase = p0.offset;
  l.gradBase = g0.offset;
  uint64_t end = 0;
  for (size_t i = 0; i < l.params.size(); ++i) {
    const BufferDesc &p = plan.buffers[static_cast<size_t>(l.params[i])];
    const BufferDesc &g = plan.buffers[static_cast<size_t>(l.grads[i])];
    if (g.name != p.name + ".grad")
      fail("grad buffer " + std::to_string(i) + " is '" + g.name +
           "', expected '" + p.name +
           ".grad' (grads follow the params' order)");
    if (g.shape != p.shape)
      fail("'" + g.name + "' has shape " + shapeText(g.shape) + ", its param " +
           shapeText(p.shape));
    if (i > 0 && (p.offset < end || p.offset - end >= kArenaAlignment))
      fail("param '" + p.name + "' at offset " + std::to_string(p.offset) +
           " does not follow the previous param (ending at " +
           std::to_string(end) +
           ") contiguously: params must form one "
           "region in plan order, padded only to the 256-byte alignment");
    if (g.offset < l.gradBase ||
        g.offset - l.gradBase != p.offset - l.paramBase)
      fail("'" + g.name +
           "' is not at the same relative offset in the grad "
           "region as '" +
           p.name + "' in the param region");
    end = p.offset + p.bytes;
  }
  l.regionBytes = end - l.paramBase;
  checkParamCopies(plan, l);
  return l;
}

TrainingInterface trainingInterface(const Plan &plan) {
  validatePlan(plan);
  TrainingInterface t;
  auto metaInt = [&](const char *key) {
    auto it = plan.meta.is_object() ? plan.meta.find(key) : plan.meta.end();
    if (!plan.meta.is_object() || it == plan.meta.end() ||
        !it->is_number_integer() || it->get<int64_t>() < 1)
      fail(std::string("meta.") + key + " must be a positive integer");
    return it->get<int64_t>();
  };
  t.batch = metaInt("batch_size");
  t.seq = metaInt("seq_len");
  auto dt = plan.meta.find("dtype");
  if (dt == plan.meta.end() || !dt->is_string() ||
      (*dt != "float32" && *dt != "bfloat16" && *dt != "float16"))
    fail("meta.dtype must be \"float32\", \"bfloat16\" or \"float16\"");
  t.dtype = dt->get<std::string>();

  auto require = [&](const char *name, BufferKind kind, DType dtype,
                     const std::vector<int64_t> &shape, bool optional) {
    int64_t id = findBuffer(plan, name);
    if (id < 0) {
      if (optional)
        return id;
      fail(std::string("no ") + bufferKindName(kind) + " buffer '" + name +
           "'");
    }
    const BufferDesc &b = plan.buffers[static_cast<size_t>(id)];
    bool scalarOk = shape.empty() && numElements(b.shape) == 1;
    if (b.kind != kind || b.dtype != dtype || (b.shape != shape && !scalarOk))
      fail(std::string("'") + name + "' must be a " + bufferKindName(kind) +
           " " + dtypeName(dtype) + " " + shapeText(shape) + ", not a " +
           bufferKindName(b.kind) + " " + dtypeName(b.dtype) + " " +
           shapeText(b.shape));
    return id;
  };
  std::vector<int64_t> bs = {t.batch, t.seq};
  t.ids = require("ids", BufferKind::Input, DType::I64, bs, false);
  t.targets = require("targets", BufferKind::Input, DType::I64, bs, false);
  t.mask = require("mask", BufferKind::Input, DType::I64, bs, false);
  t.gradScale = require("grad_scale", BufferKind::Input, DType::F32, {}, false);
  t.loss = require("loss", BufferKind::Output, DType::F32, {}, false);
  t.auxLoss = require("aux_loss", BufferKind::Output, DType::F32, {}, true);
  for (size_t i = 0; i < plan.buffers.size(); ++i) {
    const BufferDesc &b = plan.buffers[i];
    int64_t id = static_cast<int64_t>(i);
    if ((b.kind == BufferKind::Input || b.kind == BufferKind::Output) &&
        id != t.ids && id != t.targets && id != t.mask && id != t.gradScale &&
        id != t.loss && id != t.auxLoss)
      fail("unknown " + std::string(bufferKindName(b.kind)) + " '" + b.name +
           "' (the trainer feeds ids, targets, mask, grad_scale and reads "
           "loss, aux_loss)");
  }
  t.layout = paramLayout(plan);
  // What can be checked statically of "grads accumulate, params are read":
  // GEMMs into a grad add (beta 1); nothing clears a grad or writes a param.
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    int64_t target = -1;
    bool accumulates = false;
    if (auto *g = std::get_if<GemmStep>(&plan.steps[i])) {
      target = g->c;
      accumulates = g->beta == 1.0f;
    } else if (auto *m = std::get_if<MemsetStep>(&plan.steps[i])) {
      target = m->buffer;
    }
    if (target < 0)
      continue;
    BufferKind kind = effectiveKind(plan, target);
    bool param =
        kind == BufferKind::Param || kind == BufferKind::ParamCopy;
    if (param || (kind == BufferKind::Grad && !accumulates))
      fail(stepName(plan, i) + " " + (param ? "writes" : "overwrites") + " " +
           bufName(plan, target) +
           (param
                ? ": params are read-only in a micro-step"
                : ": grads accumulate across micro-steps (GEMMs into a "
                  "grad need beta = 1; the optimizer zeroes them)"));
  }
  std::optional<DType> copies;
  if (t.layout.hasCopies())
    copies = t.layout.copyDtype;
  for (const std::string &name : kernels::optimizerKernelNames(copies)) {
    bool found =
        std::any_of(plan.kernels.begin(), plan.kernels.end(),
                    [&](const KernelEntry &k) { return k.nameExpr == name; });
    if (!found)
      fail("kernel list lacks the optimizer kernel '" + name +
           "' (add kernels::optimizerKernelNames() to a training plan)");
  }
  return t;
}

} // namespace mind::runtime
