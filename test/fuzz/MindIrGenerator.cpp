//===- MindIrGenerator.cpp - random verifier-valid mind functions ---------===//
//
// Every op is built through the generic OperationState so that one helper
// covers them all; the shapes and attributes follow each op's verifier
// (dialects/lib/Dialect/Mind/IR/MindOps.cpp), so what comes out verifies.
//
//===----------------------------------------------------------------------===//

#include "MindIrGenerator.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>
#include <limits>
#include <random>

using namespace mlir;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int64_t kHugeDim = (int64_t(1) << 31) + 3;

class FunctionBuilder {
public:
  FunctionBuilder(MLIRContext &ctx, uint64_t seed)
      : rng(seed), b(&ctx), loc(UnknownLoc::get(&ctx)) {}

  OwningOpRef<ModuleOp> build();

private:
  // Random choices.
  bool chance(double p) { return std::bernoulli_distribution(p)(rng); }
  int64_t uniform(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  }
  template <typename T> T pick(std::initializer_list<T> values) {
    return *(values.begin() + uniform(0, values.size() - 1));
  }
  /// Small sizes, zero among them; rarely one past 2^31 (a tensor of it
  /// may still be empty when another dimension is 0).
  int64_t dim() {
    if (chance(0.01))
      return kHugeDim;
    if (!allowEmpty)
      return pick<int64_t>({1, 1, 2, 2, 3, 3, 4, 5, 7, 8});
    return pick<int64_t>({0, 1, 1, 2, 2, 3, 3, 4, 5, 7, 8});
  }
  int64_t positiveDim() { return pick<int64_t>({1, 1, 2, 3, 4, 5, 8}); }
  int64_t evenDim() { return pick<int64_t>({2, 2, 4, 6, 8}); }
  SmallVector<int64_t> shape(int minRank, int maxRank) {
    SmallVector<int64_t> s(uniform(minRank, maxRank));
    for (int64_t &d : s)
      d = dim();
    return s;
  }
  Type floatType() {
    return pick<Type>({b.getF32Type(), b.getF32Type(), b.getF32Type(),
                       b.getBF16Type(), b.getF16Type(), b.getF64Type()});
  }
  Type intType() { return chance(0.8) ? b.getI64Type() : b.getI32Type(); }
  RankedTensorType tensor(ArrayRef<int64_t> s, Type elem) {
    return RankedTensorType::get(s, elem);
  }
  NamedAttribute f64(StringRef name, double v) {
    return b.getNamedAttr(name, b.getF64FloatAttr(v));
  }
  NamedAttribute i64(StringRef name, int64_t v) {
    return b.getNamedAttr(name, b.getI64IntegerAttr(v));
  }
  NamedAttribute flag(StringRef name) {
    return b.getNamedAttr(name, b.getBoolAttr(chance(0.5)));
  }
  double positiveFinite() {
    return pick<double>({1e-5, 1e-6, 1.0, 0.5, 5e-324, 1e-300, 1e300,
                         std::numeric_limits<double>::max()});
  }

  // Operands: a value of the op results so far with the right type, or a
  // new function argument.
  Value argument(Type type, bool param) {
    Value v = body->addArgument(type, loc);
    std::string name;
    if (param) {
      // Rarely a repeated parameter name: the lowering matches gradients
      // by name and must refuse it cleanly.
      name = chance(0.005) && params > 0 ? "p0" : "p" + std::to_string(params);
      ++params;
    } else {
      name = "in" + std::to_string(inputs++);
    }
    argAttrs.push_back(b.getDictionaryAttr(b.getNamedAttr(
        param ? "mind.param" : "mind.input", b.getStringAttr(name))));
    return v;
  }
  Value operand(RankedTensorType type) {
    SmallVector<Value> matching;
    for (Value v : pool)
      if (v.getType() == type)
        matching.push_back(v);
    if (!matching.empty() && chance(0.6))
      return matching[uniform(0, matching.size() - 1)];
    bool isFloat = isa<FloatType>(type.getElementType());
    // Parameters are float; rarely an integer one (autodiff must cope).
    return argument(type, isFloat ? chance(0.9) : chance(0.03));
  }
  Value floatOperand(ArrayRef<int64_t> s) { return operand(tensor(s, ft)); }
  Value intOperand(ArrayRef<int64_t> s) { return operand(tensor(s, it)); }

  Operation *create(StringRef name, ValueRange operands, TypeRange results,
                    ArrayRef<NamedAttribute> attrs = {}) {
    OperationState state(loc, name);
    state.addOperands(operands);
    state.addTypes(results);
    state.addAttributes(attrs);
    Operation *op = b.create(state);
    for (Value r : op->getResults())
      if (!trainable || differentiable(op, r))
        pool.push_back(r);
    return op;
  }
  /// Whether a loss may depend on `r` and still be differentiated: not the
  /// results of gradient or fused ops, nor attention's lse.
  static bool differentiable(Operation *op, Value r) {
    StringRef name = op->getName().getStringRef();
    if (name.ends_with("_grad") || name == "mind.fused_elementwise")
      return false;
    return name != "mind.attention" || r == op->getResult(0);
  }

  static bool fitsInt64(ArrayRef<int64_t> s) {
    int64_t n = 1;
    for (int64_t d : s)
      if (llvm::MulOverflow(n, d, n))
        return false;
    return true;
  }
  /// Another shape of as many elements (rank 0-4); `in`'s count fits int64.
  SmallVector<int64_t> sameElementCount(ArrayRef<int64_t> in) {
    int64_t numel = 1;
    for (int64_t d : in)
      numel *= d;
    SmallVector<int64_t> out;
    if (numel == 0) {
      out = shape(1, 4);
      out[uniform(0, out.size() - 1)] = 0;
      return out;
    }
    int rank = uniform(numel == 1 ? 0 : 1, 4);
    for (int i = 0; i + 1 < rank; ++i) {
      int64_t f = pick<int64_t>({1, 2, 3});
      if (numel % f == 0) {
        out.push_back(f);
        numel /= f;
      }
    }
    if (rank > 0)
      out.push_back(numel);
    return out;
  }

  void addRandomOp();
  void addFusedElementwise();
  Value toScalarLoss(Value v);
  void finish();

  std::mt19937_64 rng;
  OpBuilder b;
  Location loc;
  Block *body = nullptr;
  Type ft, it; // the function's float and integer element types
  // Most functions can be trained and lowered: gradient and fused ops then
  // only feed dead values (still lowered), and no tensor is empty (the GPU
  // lowering refuses empty tensors). The others may use anything anywhere.
  bool trainable = true, allowEmpty = true;
  SmallVector<DictionaryAttr> argAttrs;
  SmallVector<Value> pool;
  int params = 0, inputs = 0;
};

} // namespace

/// One entry per op: name and how to build it with `g`'s helpers. Kept as
/// a table so that generatedOpNames() lists exactly what is drawn.
#define MIND_FUZZ_OPS(X)                                                       \
  X("mind.embedding") X("mind.linear") X("mind.matmul") X("mind.rmsnorm")      \
  X("mind.rope_table") X("mind.rope") X("mind.attention") X("mind.add")        \
  X("mind.mul") X("mind.silu") X("mind.swiglu") X("mind.softmax")              \
  X("mind.cross_entropy") X("mind.topk") X("mind.moe_route")                   \
  X("mind.moe_dispatch") X("mind.grouped_linear") X("mind.moe_combine")        \
  X("mind.moe_aux_loss") X("mind.reshape") X("mind.transpose")                 \
  X("mind.cast") X("mind.fill") X("mind.embedding_grad")                       \
  X("mind.rmsnorm_grad") X("mind.attention_grad") X("mind.silu_grad")          \
  X("mind.swiglu_grad") X("mind.softmax_grad") X("mind.cross_entropy_grad")    \
  X("mind.topk_grad") X("mind.moe_dispatch_grad")                              \
  X("mind.grouped_linear_grad") X("mind.moe_combine_grad")                     \
  X("mind.moe_aux_loss_grad") X("mind.fused_elementwise")

const std::vector<std::string> &mind::fuzz::generatedOpNames() {
#define MIND_FUZZ_NAME(n) n,
  static const std::vector<std::string> names = {MIND_FUZZ_OPS(MIND_FUZZ_NAME)};
#undef MIND_FUZZ_NAME
  return names;
}

void FunctionBuilder::addRandomOp() {
  const auto &names = mind::fuzz::generatedOpNames();
  StringRef name = names[uniform(0, names.size() - 1)];
  Type f32 = b.getF32Type();
  auto scalarF32 = tensor({}, f32);

  if (name == "mind.embedding" || name == "mind.embedding_grad") {
    int64_t v = dim(), h = dim();
    SmallVector<int64_t> ids = shape(0, 3);
    SmallVector<int64_t> out(ids);
    out.push_back(h);
    if (name == "mind.embedding") {
      create(name, {floatOperand({v, h}), intOperand(ids)}, {tensor(out, ft)});
    } else {
      int64_t vocab = pick<int64_t>({1, 2, 7, positiveDim()});
      create(name, {floatOperand(out), intOperand(ids)},
             {tensor({vocab, h}, ft)}, {i64("vocab_size", vocab)});
    }
  } else if (name == "mind.linear") {
    SmallVector<int64_t> in = shape(1, 4);
    int64_t n = dim();
    SmallVector<int64_t> out(in);
    out.back() = n;
    create(name, {floatOperand(in), floatOperand({n, in.back()})},
           {tensor(out, ft)});
  } else if (name == "mind.matmul") {
    int64_t m = dim(), k = dim(), n = dim();
    bool ta = chance(0.5), tb = chance(0.5);
    SmallVector<int64_t> lhs = ta ? SmallVector<int64_t>{k, m}
                                  : SmallVector<int64_t>{m, k};
    SmallVector<int64_t> rhs = tb ? SmallVector<int64_t>{n, k}
                                  : SmallVector<int64_t>{k, n};
    create(name, {floatOperand(lhs), floatOperand(rhs)}, {tensor({m, n}, ft)},
           {b.getNamedAttr("transpose_lhs", b.getBoolAttr(ta)),
            b.getNamedAttr("transpose_rhs", b.getBoolAttr(tb))});
  } else if (name == "mind.rmsnorm" || name == "mind.rmsnorm_grad") {
    SmallVector<int64_t> in = shape(1, 4);
    Value x = floatOperand(in), w = floatOperand({in.back()});
    if (name == "mind.rmsnorm")
      create(name, {x, w}, {tensor(in, ft)}, {f64("epsilon", positiveFinite())});
    else
      create(name, {x, w, floatOperand(in)},
             {tensor(in, ft), tensor({in.back()}, ft)},
             {f64("epsilon", positiveFinite())});
  } else if (name == "mind.rope_table") {
    int64_t s = dim(), d = evenDim();
    int64_t maxPos = pick<int64_t>({s, s + 1, std::max<int64_t>(s, 32768),
                                    std::max<int64_t>(s, 2048),
                                    std::numeric_limits<int64_t>::max()});
    create(name, {}, {tensor({s, d}, ft), tensor({s, d}, ft)},
           {f64("theta", pick<double>({1e6, 1e4, 1.0000001, 2.0, 1e300})),
            i64("max_positions", maxPos),
            f64("yarn_factor", chance(0.5) ? 1.0 : positiveFinite()),
            i64("yarn_original_max",
                pick<int64_t>({2048, 1, 0, -5, 3,
                               std::numeric_limits<int64_t>::max(),
                               std::numeric_limits<int64_t>::min()})),
            f64("yarn_beta_fast", positiveFinite()),
            f64("yarn_beta_slow", positiveFinite()),
            f64("attention_factor", positiveFinite())});
  } else if (name == "mind.rope") {
    int64_t bsz = dim(), s = dim(), n = dim(), d = evenDim();
    create(name,
           {floatOperand({bsz, s, n, d}), floatOperand({s, d}),
            floatOperand({s, d})},
           {tensor({bsz, s, n, d}, ft)},
           {b.getNamedAttr("inverse", b.getBoolAttr(chance(0.3)))});
  } else if (name == "mind.attention" || name == "mind.attention_grad") {
    int64_t bsz = dim(), s = dim(), kv = positiveDim(), d = dim();
    int64_t hq = kv * pick<int64_t>({1, 1, 2, 3});
    auto q = tensor({bsz, s, hq, d}, ft), k = tensor({bsz, s, kv, d}, ft);
    auto lse = tensor({bsz, hq, s}, f32);
    SmallVector<NamedAttribute> attrs = {
        f64("scale", pick<double>({0.25, 1.0, 0.0, -1.0, 1e300, kNaN, kInf})),
        flag("causal")};
    if (name == "mind.attention")
      create(name, {operand(q), operand(k), operand(k)}, {q, lse}, attrs);
    else
      create(name,
             {operand(q), operand(k), operand(k), operand(q), operand(lse),
              operand(q)},
             {q, k, k}, attrs);
  } else if (name == "mind.add" || name == "mind.mul" ||
             name == "mind.silu" || name == "mind.softmax" ||
             name == "mind.swiglu" || name == "mind.silu_grad" ||
             name == "mind.softmax_grad") {
    bool unary = name == "mind.silu" || name == "mind.softmax";
    SmallVector<int64_t> s =
        shape(name.starts_with("mind.softmax") ? 1 : 0, 4);
    auto t = tensor(s, ft);
    if (unary)
      create(name, {operand(t)}, {t});
    else
      create(name, {operand(t), operand(t)}, {t});
  } else if (name == "mind.swiglu_grad") {
    auto t = tensor(shape(0, 4), ft);
    create(name, {operand(t), operand(t), operand(t)}, {t, t});
  } else if (name == "mind.cross_entropy" ||
             name == "mind.cross_entropy_grad") {
    SmallVector<int64_t> logits = shape(2, 4);
    ArrayRef<int64_t> lead = ArrayRef<int64_t>(logits).drop_back();
    Type maskElem = chance(0.7) ? it : ft;
    SmallVector<Value> ops = {floatOperand(logits), intOperand(lead),
                              operand(tensor(lead, maskElem))};
    if (name == "mind.cross_entropy") {
      create(name, ops, {scalarF32});
    } else {
      ops.push_back(operand(scalarF32));
      create(name, ops, {tensor(logits, ft)});
    }
  } else if (name == "mind.topk" || name == "mind.topk_grad") {
    int64_t t = dim(), e = positiveDim(), k = uniform(1, e);
    if (name == "mind.topk")
      create(name, {floatOperand({t, e})},
             {tensor({t, k}, ft), tensor({t, k}, it)},
             {i64("k", k), flag("normalize")});
    else
      create(name,
             {floatOperand({t, e}), intOperand({t, k}), floatOperand({t, k})},
             {tensor({t, e}, ft)}, {flag("normalize")});
  } else if (name == "mind.moe_route") {
    int64_t t = dim(), k = positiveDim(),
            e = pick<int64_t>({1, 2, 4, positiveDim(), 300});
    create(name, {intOperand({t, k})},
           {tensor({t * k}, intType()), tensor({e + 1}, intType())},
           {i64("num_experts", e)});
  } else if (name == "mind.moe_dispatch" || name == "mind.moe_dispatch_grad") {
    int64_t t = dim(), h = dim(), k = positiveDim();
    if (name == "mind.moe_dispatch")
      create(name, {floatOperand({t, h}), intOperand({t * k})},
             {tensor({t * k, h}, ft)}, {i64("top_k", k)});
    else
      create(name, {floatOperand({t * k, h}), intOperand({t * k})},
             {tensor({t, h}, ft)}, {i64("top_k", k)});
  } else if (name == "mind.grouped_linear" ||
             name == "mind.grouped_linear_grad") {
    int64_t r = dim(), k = dim(), n = dim(), e = uniform(1, 4);
    SmallVector<Value> ops = {floatOperand({r, k}), intOperand({e + 1})};
    if (name == "mind.grouped_linear_grad")
      ops.push_back(floatOperand({r, n}));
    SmallVector<Type> results = {name == "mind.grouped_linear"
                                     ? tensor({r, n}, ft)
                                     : tensor({r, k}, ft)};
    for (int64_t i = 0; i < e; ++i) {
      ops.push_back(floatOperand({n, k}));
      if (name == "mind.grouped_linear_grad")
        results.push_back(tensor({n, k}, ft));
    }
    create(name, ops, results);
  } else if (name == "mind.moe_combine" || name == "mind.moe_combine_grad") {
    int64_t t = dim(), k = positiveDim(), h = dim();
    SmallVector<Value> ops = {floatOperand({t * k, h}), intOperand({t * k}),
                              floatOperand({t, k})};
    if (name == "mind.moe_combine") {
      create(name, ops, {tensor({t, h}, ft)});
    } else {
      ops.push_back(floatOperand({t, h}));
      create(name, ops, {tensor({t * k, h}, ft), tensor({t, k}, ft)});
    }
  } else if (name == "mind.moe_aux_loss" || name == "mind.moe_aux_loss_grad") {
    int64_t batch = positiveDim(), t = batch * pick<int64_t>({0, 1, 2, 3}),
            e = dim(), k = positiveDim();
    SmallVector<NamedAttribute> attrs = {
        f64("alpha", pick<double>({0.01, 0.0, 1e-300, 1e300})),
        flag("seq_aux"), i64("batch", batch)};
    SmallVector<Value> ops = {floatOperand({t, e}), intOperand({t, k})};
    if (name == "mind.moe_aux_loss") {
      create(name, ops, {scalarF32}, attrs);
    } else {
      ops.push_back(operand(scalarF32));
      create(name, ops, {tensor({t, e}, ft)}, attrs);
    }
  } else if (name == "mind.reshape") {
    // The verifier refuses element counts past int64: draw another shape.
    SmallVector<int64_t> in = shape(0, 4);
    while (!fitsInt64(in))
      in = shape(0, 4);
    Type elem = chance(0.8) ? ft : it;
    create(name, {operand(tensor(in, elem))},
           {tensor(sameElementCount(in), elem)});
  } else if (name == "mind.transpose") {
    SmallVector<int64_t> in = shape(0, 4);
    SmallVector<int64_t> perm(in.size());
    for (size_t i = 0; i < perm.size(); ++i)
      perm[i] = static_cast<int64_t>(i);
    std::shuffle(perm.begin(), perm.end(), rng);
    SmallVector<int64_t> out;
    for (int64_t p : perm)
      out.push_back(in[p]);
    Type elem = chance(0.8) ? ft : it;
    create(name, {operand(tensor(in, elem))}, {tensor(out, elem)},
           {b.getNamedAttr("permutation", b.getDenseI64ArrayAttr(perm))});
  } else if (name == "mind.cast") {
    SmallVector<int64_t> s = shape(0, 4);
    Type from = chance(0.7) ? ft : it;
    Type to = isa<FloatType>(from) || chance(0.5) ? floatType() : intType();
    create(name, {operand(tensor(s, from))}, {tensor(s, to)});
  } else if (name == "mind.fill") {
    Type elem = chance(0.8) ? ft : it;
    create(name, {}, {tensor(shape(0, 4), elem)},
           {f64("value", pick<double>({0.0, 1.0, -1.0, 1e300, -1e300, kNaN,
                                       kInf, -kInf, 5e-324}))});
  } else {
    addFusedElementwise();
  }
}

/// A fused_elementwise region: a chain of elementwise ops over one shape,
/// each value in one of the float types (casts between them).
void FunctionBuilder::addFusedElementwise() {
  SmallVector<int64_t> s = shape(0, 4);
  int numInputs = uniform(1, 3);
  SmallVector<Value> ins;
  SmallVector<Type> inTypes;
  for (int i = 0; i < numInputs; ++i) {
    Type t = tensor(s, chance(0.7) ? ft : floatType());
    ins.push_back(operand(cast<RankedTensorType>(t)));
    inTypes.push_back(t);
  }
  OperationState state(loc, "mind.fused_elementwise");
  state.addOperands(ins);
  Region *region = state.addRegion();
  Block *block = new Block();
  region->push_back(block);
  SmallVector<Value> vals;
  for (Type t : inTypes)
    vals.push_back(block->addArgument(t, loc));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToEnd(block);
  auto sameType = [&](Type t) {
    SmallVector<Value> m;
    for (Value v : vals)
      if (v.getType() == t)
        m.push_back(v);
    return m;
  };
  int numOps = uniform(1, 4);
  for (int i = 0; i < numOps; ++i) {
    Value a = vals[uniform(0, vals.size() - 1)];
    SmallVector<Value> peers = sameType(a.getType());
    Value c = peers[uniform(0, peers.size() - 1)];
    StringRef op = pick<StringRef>({"mind.add", "mind.mul", "mind.silu",
                                    "mind.silu_grad", "mind.swiglu",
                                    "mind.swiglu_grad", "mind.cast"});
    OperationState inner(loc, op);
    if (op == "mind.silu") {
      inner.addOperands({a});
      inner.addTypes({a.getType()});
    } else if (op == "mind.cast") {
      inner.addOperands({a});
      inner.addTypes({tensor(s, floatType())});
    } else if (op == "mind.swiglu_grad") {
      inner.addOperands({a, c, a});
      inner.addTypes({a.getType(), a.getType()});
    } else {
      inner.addOperands({a, c});
      inner.addTypes({a.getType()});
    }
    Operation *created = b.create(inner);
    for (Value r : created->getResults())
      vals.push_back(r);
  }
  SmallVector<Value> yielded = {vals.back()};
  if (vals.size() > 1 && chance(0.4))
    yielded.push_back(vals[uniform(0, vals.size() - 2)]);
  OperationState yield(loc, "mind.yield");
  yield.addOperands(yielded);
  b.create(yield);
  for (Value v : yielded)
    state.addTypes({v.getType()});
  b.setInsertionPointToEnd(body);
  Operation *fused = b.create(state);
  for (Value r : fused->getResults())
    if (!trainable)
      pool.push_back(r);
}

/// A rank-0 f32 value from `v`: itself (cast) when rank 0, else the
/// cross-entropy of `v` (viewed as [rows, last] when rank 1, or at random)
/// against new targets and mask.
Value FunctionBuilder::toScalarLoss(Value v) {
  auto ty = cast<RankedTensorType>(v.getType());
  Type f32 = b.getF32Type();
  auto scalar = tensor({}, f32);
  if (ty.getRank() == 0)
    return ty == scalar ? v : create("mind.cast", {v}, {scalar})->getResult(0);
  Value logits = v;
  // A rank-1 count always fits; a larger one may not (then no reshape).
  if (fitsInt64(ty.getShape()) && (ty.getRank() == 1 || chance(0.5))) {
    int64_t rows = 1;
    for (int64_t d : ty.getShape().drop_back())
      rows *= d;
    SmallVector<int64_t> flat = {rows, ty.getShape().back()};
    logits = create("mind.reshape", {v}, {tensor(flat, ty.getElementType())})
                 ->getResult(0);
  }
  auto lt = cast<RankedTensorType>(logits.getType());
  ArrayRef<int64_t> lead = lt.getShape().drop_back();
  return create("mind.cross_entropy",
                {logits, argument(tensor(lead, it), false),
                 argument(tensor(lead, it), false)},
                {scalar})
      ->getResult(0);
}

void FunctionBuilder::finish() {
  // Sum a loss over the float results nothing else used.
  SmallVector<Value> losses;
  SmallVector<Value> produced(pool); // toScalarLoss adds to the pool
  for (Value v : produced) {
    auto ty = cast<RankedTensorType>(v.getType());
    if (!isa<FloatType>(ty.getElementType()) || !v.use_empty())
      continue;
    if (chance(0.8))
      losses.push_back(toScalarLoss(v));
  }
  SmallVector<Value> results;
  if (!losses.empty()) {
    Value total = losses.front();
    for (Value l : ArrayRef<Value>(losses).drop_front())
      total = create("mind.add", {total, l}, {total.getType()})->getResult(0);
    results.push_back(total);
  }
  // Rarely a second loss, a non-scalar result or none: autodiff refuses
  // or handles them, without crashing.
  if (!pool.empty() && chance(0.05))
    results.push_back(pool[uniform(0, pool.size() - 1)]);
  if (chance(0.03))
    results.clear();
  func::ReturnOp::create(b, loc, results);
}

OwningOpRef<ModuleOp> FunctionBuilder::build() {
  trainable = chance(0.75);
  allowEmpty = chance(0.4);
  ft = chance(0.7) ? b.getF32Type() : floatType();
  it = intType();
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module->getBody());
  auto fn = func::FuncOp::create(b, loc, "forward", b.getFunctionType({}, {}));
  body = fn.addEntryBlock();
  b.setInsertionPointToEnd(body);
  int numOps = uniform(1, 6);
  for (int i = 0; i < numOps; ++i)
    addRandomOp();
  finish();
  fn.setType(b.getFunctionType(body->getArgumentTypes(),
                               body->getTerminator()->getOperandTypes()));
  fn.setAllArgAttrs(argAttrs);
  return module;
}

OwningOpRef<ModuleOp> mind::fuzz::generateForward(MLIRContext &ctx,
                                                  uint64_t seed) {
  return FunctionBuilder(ctx, seed).build();
}

std::string mind::fuzz::mutateAttribute(ModuleOp module, uint64_t seed) {
  std::mt19937_64 rng(seed);
  SmallVector<std::pair<Operation *, NamedAttribute>> candidates;
  module.walk([&](Operation *op) {
    if (op->getDialect() && op->getDialect()->getNamespace() == "mind")
      for (NamedAttribute a : op->getAttrs())
        if (isa<FloatAttr, IntegerAttr>(a.getValue()))
          candidates.push_back({op, a});
  });
  if (candidates.empty())
    return "";
  auto [op, attr] = candidates[rng() % candidates.size()];
  Builder b(module.getContext());
  std::string text;
  if (auto f = dyn_cast<FloatAttr>(attr.getValue())) {
    const double values[] = {kNaN, kInf, -kInf, 0.0, -0.0, -1.0, 1e-320};
    double v = values[rng() % std::size(values)];
    op->setAttr(attr.getName(), b.getFloatAttr(f.getType(), v));
    text = std::to_string(v);
  } else if (auto i = dyn_cast<IntegerAttr>(attr.getValue())) {
    const int64_t values[] = {0, -1, std::numeric_limits<int64_t>::min(),
                              std::numeric_limits<int64_t>::max(),
                              int64_t(1) << 62, kHugeDim};
    int64_t v = values[rng() % std::size(values)];
    op->setAttr(attr.getName(), b.getIntegerAttr(i.getType(), v));
    text = std::to_string(v);
  }
  return op->getName().getStringRef().str() + " " +
         attr.getName().str() + " = " + text;
}
