//===- CpuTrainer.cpp - MiniMind's training loop on the interpreter -------===//

#include "mind/Interpreter/CpuTrainer.h"

#include "mlir/IR/BuiltinAttributes.h"

#include <cmath>

using namespace mlir;
using namespace mind;
using ref::Tensor;

int64_t ParamInfo::numel() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::vector<ParamInfo> CpuTrainer::parameters(func::FuncOp trainStep) {
  std::vector<ParamInfo> out;
  for (unsigned i = 0, e = trainStep.getNumArguments(); i < e; ++i)
    if (auto name = trainStep.getArgAttrOfType<StringAttr>(i, "mind.param")) {
      auto shape =
          cast<RankedTensorType>(trainStep.getArgument(i).getType()).getShape();
      out.push_back({name.str(), {shape.begin(), shape.end()}});
    }
  return out;
}

CpuTrainer::CpuTrainer(func::FuncOp trainStep,
                       std::vector<std::vector<float>> initial,
                       CpuTrainerOptions options)
    : func(trainStep), options(options), info(parameters(trainStep)),
      master(std::move(initial)), adamw(options.adamw) {
  if (master.size() != info.size())
    throw InterpreterError("train step has " + std::to_string(info.size()) +
                           " parameters, got " +
                           std::to_string(master.size()) + " initial tensors");
  for (auto [p, w] : llvm::zip(info, master))
    if (static_cast<int64_t>(w.size()) != p.numel())
      throw InterpreterError("initial value of '" + p.name + "' has " +
                             std::to_string(w.size()) + " elements, expected " +
                             std::to_string(p.numel()));
  if (options.accumulationSteps < 1)
    throw InterpreterError("accumulation_steps must be positive");
  for (auto &w : master)
    gradAccum.emplace_back(w.size(), 0.0f);
}

MicroStepResult CpuTrainer::microStep(const Tensor &ids, const Tensor &targets,
                                      const Tensor &mask) {
  MicroStepResult r;

  // Arguments in @train_step order: params, then the tagged inputs (and the
  // weight copies, filled from the params).
  std::vector<Tensor> args;
  size_t paramIndex = 0;
  for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i) {
    if (func.getArgAttr(i, "mind.param")) {
      const ParamInfo &p = info[paramIndex];
      const std::vector<float> &w = master[paramIndex++];
      args.push_back(Tensor::fromData(p.shape, {w.begin(), w.end()}));
      continue;
    }
    if (func.getArgAttr(i, "mind.param_copy"))
      continue; // withWeightCopies adds it
    auto input = func.getArgAttrOfType<StringAttr>(i, "mind.input");
    std::string name = input ? input.str() : "";
    if (name == "ids")
      args.push_back(ids);
    else if (name == "targets")
      args.push_back(targets);
    else if (name == "mask")
      args.push_back(mask);
    else if (name == "grad_scale")
      args.push_back(Tensor::fromData(
          {}, {1.0 / static_cast<double>(options.accumulationSteps)}));
    else
      throw InterpreterError("train step argument #" + std::to_string(i) +
                             " is neither a parameter nor a known input");
  }

  Interpreter interp(options.interpreter);
  std::vector<Tensor> results =
      interp.run(func, withWeightCopies(func, std::move(args)));
  r.loss = results.at(0).data.at(0);
  r.auxLoss = results.at(1).data.at(0);
  for (size_t p = 0; p < info.size(); ++p) {
    const Tensor &g = results.at(2 + p);
    for (size_t j = 0; j < g.data.size(); ++j)
      gradAccum[p][j] += static_cast<float>(g.data[j]);
  }

  ++microInWindow;
  return r;
}

double CpuTrainer::optimizerStep(double lr) {
  std::vector<std::vector<float> *> grads, params;
  for (auto &g : gradAccum)
    grads.push_back(&g);
  for (auto &w : master)
    params.push_back(&w);
  double norm = runtime::clipGradNorm(grads, options.gradClip);
  std::vector<const std::vector<float> *> constGrads(grads.begin(),
                                                     grads.end());
  adamw.step(params, constGrads, lr);
  for (auto &g : gradAccum)
    std::fill(g.begin(), g.end(), 0.0f);
  microInWindow = 0;
  return norm;
}

CpuTrainerState CpuTrainer::exportState() const {
  if (microInWindow != 0)
    throw InterpreterError(
        "trainer state requested " + std::to_string(microInWindow) +
        " micro-steps into an accumulation window; states are taken at "
        "optimizer-step boundaries only");
  CpuTrainerState s;
  s.weights = master;
  s.optimizerSteps = adamw.stepCount();
  for (size_t i = 0; i < master.size(); ++i) {
    bool has = i < adamw.numParams();
    s.expAvg.push_back(has ? adamw.expAvg(i)
                           : std::vector<float>(master[i].size(), 0.0f));
    s.expAvgSq.push_back(has ? adamw.expAvgSq(i)
                             : std::vector<float>(master[i].size(), 0.0f));
  }
  return s;
}

void CpuTrainer::importState(CpuTrainerState s) {
  auto check = [&](const std::vector<std::vector<float>> &list,
                   const char *what) {
    if (list.size() != info.size())
      throw InterpreterError(std::string("trainer state: ") + what + " has " +
                             std::to_string(list.size()) +
                             " tensors, the model " +
                             std::to_string(info.size()));
    for (size_t i = 0; i < info.size(); ++i)
      if (static_cast<int64_t>(list[i].size()) != info[i].numel())
        throw InterpreterError(
            std::string("trainer state: ") + what + " of '" + info[i].name +
            "' has " + std::to_string(list[i].size()) + " elements, expected " +
            std::to_string(info[i].numel()));
  };
  check(s.weights, "weights");
  check(s.expAvg, "exp_avg");
  check(s.expAvgSq, "exp_avg_sq");
  if (s.optimizerSteps < 0)
    throw InterpreterError("trainer state: negative optimizer step count");
  master = std::move(s.weights);
  // Step 0 means no moments yet: leave AdamW fresh, exactly as a new run.
  if (s.optimizerSteps == 0)
    adamw.reset();
  else
    adamw.restore(s.optimizerSteps, std::move(s.expAvg), std::move(s.expAvgSq));
  for (auto &g : gradAccum)
    std::fill(g.begin(), g.end(), 0.0f);
  microInWindow = 0;
}
