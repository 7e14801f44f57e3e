//===- Interpreter.cpp - reference CPU executor of mind IR ----------------===//
//
// Dispatches each op to its reference kernel (RefKernels.h). Values are freed
// after their last use so that whole training steps fit in little memory.
//
//===----------------------------------------------------------------------===//

#include "mind/Interpreter/Interpreter.h"

#include "mind/Dialect/Mind/IR/MindOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mind;
using ref::Tensor;

ref::ElemKind mind::elemKindOf(Type type) {
  Type elem = cast<RankedTensorType>(type).getElementType();
  if (elem.isF64())
    return ref::ElemKind::F64;
  if (elem.isF32())
    return ref::ElemKind::F32;
  if (elem.isBF16())
    return ref::ElemKind::BF16;
  if (elem.isF16())
    return ref::ElemKind::F16;
  return ref::ElemKind::Int;
}

namespace {
std::string describe(Operation *op) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "'" << op->getName() << "' at " << op->getLoc();
  return s;
}

std::vector<int64_t> shapeOf(Type t) {
  auto shape = cast<RankedTensorType>(t).getShape();
  return {shape.begin(), shape.end()};
}

/// Evaluates one op given its operand values; returns one tensor per result.
class OpEvaluator {
public:
  /// `round`: values are rounded to their types (InterpreterPrecision::
  /// AsTyped), also inside ops that round twice.
  OpEvaluator(ArrayRef<const Tensor *> in, bool round) : in(in), round(round) {}

  std::vector<Tensor> eval(Operation *op) {
    using V = std::vector<Tensor>;
    return llvm::TypeSwitch<Operation *, V>(op)
        .Case([&](EmbeddingOp) { return V{ref::embedding(a(0), a(1))}; })
        .Case([&](LinearOp) { return V{ref::linear(a(0), a(1))}; })
        .Case([&](MatmulOp o) {
          return V{ref::matmul(a(0), a(1), o.getTransposeLhs(),
                               o.getTransposeRhs())};
        })
        .Case([&](RMSNormOp o) {
          Tensor y = ref::rmsnorm(a(0), a(1), eps(o.getEpsilon()));
          // A narrower result (mind-fuse-rmsnorm-cast) is the input-typed
          // value rounded again, as the norm and the cast it replaced did.
          if (round && o.getResult().getType() != o.getInput().getType())
            ref::roundTo(y, elemKindOf(o.getInput().getType()));
          return V{std::move(y)};
        })
        .Case([&](RopeTableOp o) {
          auto shape = shapeOf(o.getCos().getType());
          auto t = ref::ropeTable(
              shape[0], shape[1], o.getTheta().convertToDouble(),
              o.getMaxPositions(), o.getYarnFactor().convertToDouble(),
              o.getYarnOriginalMax(), o.getYarnBetaFast().convertToDouble(),
              o.getYarnBetaSlow().convertToDouble(),
              o.getAttentionFactor().convertToDouble());
          return V{std::move(t.cos), std::move(t.sin)};
        })
        .Case([&](RopeOp o) {
          return V{ref::rope(a(0), a(1), a(2), o.getInverse())};
        })
        .Case([&](AttentionOp o) {
          auto r = ref::attention(a(0), a(1), a(2), eps(o.getScale()),
                                  o.getCausal());
          return V{std::move(r.out), std::move(r.lse)};
        })
        .Case([&](AddOp) { return V{ref::add(a(0), a(1))}; })
        .Case([&](MulOp) { return V{ref::mul(a(0), a(1))}; })
        .Case([&](SiluOp) { return V{ref::silu(a(0))}; })
        .Case([&](SwiGLUOp) { return V{ref::swiglu(a(0), a(1))}; })
        .Case([&](SoftmaxOp) { return V{ref::softmax(a(0))}; })
        .Case([&](CrossEntropyOp) {
          return V{ref::crossEntropy(a(0), a(1), a(2))};
        })
        .Case([&](TopKOp o) {
          auto r = ref::topk(a(0), o.getK(), o.getNormalize());
          return V{std::move(r.weights), std::move(r.indices)};
        })
        .Case([&](MoeRouteOp o) {
          auto r = ref::moeRoute(a(0), o.getNumExperts());
          return V{std::move(r.perm), std::move(r.offsets)};
        })
        .Case([&](MoeDispatchOp o) {
          return V{ref::moeDispatch(a(0), a(1), o.getTopK())};
        })
        .Case([&](GroupedLinearOp) {
          return V{ref::groupedLinear(a(0), a(1), from(2))};
        })
        .Case(
            [&](MoeCombineOp) { return V{ref::moeCombine(a(0), a(1), a(2))}; })
        .Case([&](MoeAuxLossOp o) {
          return V{ref::moeAuxLoss(a(0), a(1), eps(o.getAlpha()),
                                   o.getSeqAux(), o.getBatch())};
        })
        .Case([&](ReshapeOp o) {
          return V{ref::reshape(a(0), shapeOf(o.getType()))};
        })
        .Case([&](TransposeOp o) {
          ArrayRef<int64_t> perm = o.getPermutation();
          return V{ref::transpose(a(0), {perm.begin(), perm.end()})};
        })
        .Case([&](CastOp) { return V{a(0)}; }) // Rounded to the result type.
        .Case([&](FillOp o) {
          return V{ref::fill(shapeOf(o.getType()), eps(o.getValue()))};
        })
        // Backward ops.
        .Case([&](EmbeddingGradOp o) {
          return V{ref::embeddingGrad(a(0), a(1), o.getVocabSize())};
        })
        .Case([&](AddRMSNormOp o) {
          Tensor sum = ref::add(a(0), a(1));
          if (round)
            ref::roundTo(sum, elemKindOf(o.getSum().getType()));
          Tensor y = ref::rmsnorm(sum, a(2), eps(o.getEpsilon()));
          if (round && o.getResult().getType() != o.getSum().getType())
            ref::roundTo(y, elemKindOf(o.getSum().getType()));
          return V{std::move(sum), std::move(y)};
        })
        .Case([&](RMSNormGradResidualOp o) {
          auto r = ref::rmsnormGrad(a(0), a(1), a(2), eps(o.getEpsilon()));
          if (round)
            ref::roundTo(r.dx, elemKindOf(o.getInputGrad().getType()));
          Tensor sum = ref::add(a(3), r.dx);
          V out{sum, std::move(r.dw)};
          if (o.getInputGradNarrow())
            out.push_back(std::move(sum)); // rounded to its type by the caller
          return out;
        })
        .Case([&](RMSNormGradOp o) {
          auto r = ref::rmsnormGrad(a(0), a(1), a(2), eps(o.getEpsilon()));
          return V{std::move(r.dx), std::move(r.dw)};
        })
        .Case([&](AttentionGradOp o) {
          auto r = ref::attentionGrad(a(0), a(1), a(2), a(3), a(4), a(5),
                                      eps(o.getScale()), o.getCausal());
          return V{std::move(r.dq), std::move(r.dk), std::move(r.dv)};
        })
        .Case([&](AttentionGradRopeOp o) {
          auto r = ref::attentionGrad(a(0), a(1), a(2), a(3), a(4), a(5),
                                      eps(o.getScale()), o.getCausal());
          // Each gradient is stored (rounded) before it is rotated back.
          if (round) {
            ref::roundTo(r.dq, elemKindOf(o.getQueryGrad().getType()));
            ref::roundTo(r.dk, elemKindOf(o.getKeyGrad().getType()));
          }
          return V{ref::rope(r.dq, a(6), a(7), /*inverse=*/true),
                   ref::rope(r.dk, a(6), a(7), /*inverse=*/true),
                   std::move(r.dv)};
        })
        .Case([&](SiluGradOp) { return V{ref::siluGrad(a(0), a(1))}; })
        .Case([&](SwiGLUGradOp) {
          auto r = ref::swigluGrad(a(0), a(1), a(2));
          return V{std::move(r.dgate), std::move(r.dup)};
        })
        .Case([&](SoftmaxGradOp) { return V{ref::softmaxGrad(a(0), a(1))}; })
        .Case([&](LmHeadLossOp o) {
          // The unchunked ops it stands for, each value rounded to its type.
          ref::ElemKind kind = elemKindOf(o.getInput().getType());
          Tensor logits = ref::linear(a(0), a(1));
          if (round)
            ref::roundTo(logits, kind);
          Tensor loss = ref::crossEntropy(logits, a(2), a(3));
          Tensor dlogits =
              ref::crossEntropyGrad(logits, a(2), a(3), a(4).data.at(0));
          if (round)
            ref::roundTo(dlogits, kind);
          int64_t vocab = logits.shape.back();
          int64_t rows = static_cast<int64_t>(logits.data.size()) / vocab;
          Tensor d2 = ref::reshape(dlogits, {rows, vocab});
          Tensor x2 = ref::reshape(a(0), {rows, a(0).shape.back()});
          Tensor dx =
              ref::reshape(ref::matmul(d2, a(1), false, false), a(0).shape);
          return V{std::move(loss), std::move(dx),
                   ref::matmul(d2, x2, true, false)};
        })
        .Case([&](CrossEntropyGradOp) {
          return V{ref::crossEntropyGrad(a(0), a(1), a(2), a(3).data.at(0))};
        })
        .Case([&](TopKGradOp o) {
          return V{ref::topkGrad(a(0), a(1), a(2), o.getNormalize())};
        })
        .Case([&](MoeDispatchGradOp o) {
          return V{ref::moeDispatchGrad(a(0), a(1), o.getTopK(),
                                        a(0).dim(0) / o.getTopK())};
        })
        .Case([&](GroupedLinearGradOp) {
          auto r = ref::groupedLinearGrad(a(0), a(1), a(2), from(3));
          V out{std::move(r.dx)};
          for (Tensor &t : r.dw)
            out.push_back(std::move(t));
          return out;
        })
        .Case([&](MoeCombineGradOp) {
          auto r = ref::moeCombineGrad(a(0), a(1), a(2), a(3));
          return V{std::move(r.dy), std::move(r.dweights)};
        })
        .Case([&](MoeAuxLossGradOp o) {
          return V{ref::moeAuxLossGrad(a(0), a(1), a(2).data.at(0),
                                       eps(o.getAlpha()), o.getSeqAux(),
                                       o.getBatch())};
        })
        .Default([&](Operation *) -> V {
          throw InterpreterError("the interpreter does not implement " +
                                 describe(op));
        });
  }

private:
  const Tensor &a(unsigned i) const { return *in[i]; }
  std::vector<Tensor> from(unsigned first) const {
    std::vector<Tensor> out;
    for (unsigned i = first; i < in.size(); ++i)
      out.push_back(*in[i]);
    return out;
  }
  static double eps(APFloat f) { return f.convertToDouble(); }

  ArrayRef<const Tensor *> in;
  bool round;
};

/// A fused_elementwise region, op by op, each value rounded to its type
/// when `round` (as the unfused ops would be).
std::vector<Tensor> evalFused(FusedElementwiseOp fused,
                              ArrayRef<const Tensor *> inputs, bool round) {
  Block &block = fused.getBody().front();
  llvm::DenseMap<Value, Tensor> env;
  for (auto [arg, t] : llvm::zip(block.getArguments(), inputs))
    env[arg] = *t;
  for (Operation &op : block.without_terminator()) {
    SmallVector<const Tensor *> operands;
    for (Value v : op.getOperands())
      operands.push_back(&env.at(v));
    std::vector<Tensor> outs = OpEvaluator(operands, round).eval(&op);
    for (auto [res, t] : llvm::zip(op.getResults(), outs)) {
      if (round)
        ref::roundTo(t, elemKindOf(res.getType()));
      env[res] = std::move(t);
    }
  }
  std::vector<Tensor> results;
  for (Value v : block.getTerminator()->getOperands())
    results.push_back(env.at(v));
  return results;
}
} // namespace

std::vector<Tensor> Interpreter::run(func::FuncOp func,
                                     const std::vector<Tensor> &args,
                                     ArrayRef<Value> taps,
                                     std::vector<Tensor> *tapped) {
  if (!func.getBody().hasOneBlock())
    throw InterpreterError("the interpreter runs single-block functions only");
  Block &body = func.getBody().front();
  if (args.size() != body.getNumArguments())
    throw InterpreterError("@" + func.getSymName().str() + " takes " +
                           std::to_string(body.getNumArguments()) +
                           " arguments, got " + std::to_string(args.size()));
  bool round = options.precision == InterpreterPrecision::AsTyped;

  llvm::DenseMap<Value, Tensor> env;
  for (auto [i, arg] : llvm::enumerate(body.getArguments())) {
    if (args[i].shape != shapeOf(arg.getType()))
      throw InterpreterError("argument #" + std::to_string(i) +
                             " of @" + func.getSymName().str() +
                             " has the wrong shape");
    Tensor t = args[i];
    if (round)
      ref::roundTo(t, elemKindOf(arg.getType()));
    env[arg] = std::move(t);
  }

  // Last use of every value, to free it early.
  llvm::DenseMap<Value, Operation *> lastUse;
  for (Operation &op : body)
    for (Value v : op.getOperands())
      lastUse[v] = &op;
  llvm::SmallPtrSet<Value, 8> tapSet(taps.begin(), taps.end());
  if (tapped)
    tapped->assign(taps.size(), Tensor());

  for (Operation &op : body) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      std::vector<Tensor> results;
      for (Value v : ret.getOperands())
        results.push_back(env.at(v));
      return results;
    }
    SmallVector<const Tensor *> operands;
    for (Value v : op.getOperands())
      operands.push_back(&env.at(v));
    std::vector<Tensor> outs;
    try {
      if (auto fused = dyn_cast<FusedElementwiseOp>(op))
        outs = evalFused(fused, operands, round);
      else
        outs = OpEvaluator(operands, round).eval(&op);
    } catch (const InterpreterError &) {
      throw;
    } catch (const std::exception &e) {
      throw InterpreterError(describe(&op) + ": " + e.what());
    }
    if (outs.size() != op.getNumResults())
      throw InterpreterError(describe(&op) + ": kernel returned " +
                             std::to_string(outs.size()) + " results");
    for (auto [res, t] : llvm::zip(op.getResults(), outs)) {
      if (t.shape != shapeOf(res.getType()))
        throw InterpreterError(describe(&op) +
                               ": kernel result shape disagrees with the IR");
      if (round)
        ref::roundTo(t, elemKindOf(res.getType()));
      if (tapped && tapSet.contains(res))
        for (auto [k, tap] : llvm::enumerate(taps))
          if (tap == res)
            (*tapped)[k] = t;
      env[res] = std::move(t);
    }
    for (Value v : op.getOperands())
      if (lastUse.lookup(v) == &op && !isa<BlockArgument>(v))
        env.erase(v);
  }
  throw InterpreterError("@" + func.getSymName().str() + " has no return");
}

std::vector<Tensor> mind::withWeightCopies(func::FuncOp func,
                                           std::vector<Tensor> args) {
  llvm::StringMap<size_t> params; // name -> index into args
  std::vector<Tensor> out;
  size_t next = 0;
  for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i) {
    if (auto of = func.getArgAttrOfType<StringAttr>(i, "mind.param_copy")) {
      auto p = params.find(of.getValue());
      if (p == params.end())
        throw InterpreterError("weight copy of unknown parameter '" +
                               of.str() + "'");
      out.push_back(args[p->second]);
      continue;
    }
    if (next == args.size())
      throw InterpreterError("@" + func.getSymName().str() + " takes more than " +
                             std::to_string(args.size()) + " arguments");
    if (auto name = func.getArgAttrOfType<StringAttr>(i, "mind.param"))
      params[name.getValue()] = next;
    out.push_back(args[next++]);
  }
  if (next != args.size())
    throw InterpreterError("@" + func.getSymName().str() + " takes " +
                           std::to_string(next) + " arguments besides its "
                           "weight copies, got " + std::to_string(args.size()));
  return out;
}
