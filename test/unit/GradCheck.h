//===- GradCheck.h - finite-difference gradient checks ----------*- C++ -*-===//
//-*-===//
//
// Shared helpers of GradCheckOpsTest.cpp and GradCheckModelTest.cpp: parse a
// module holding @forward, run `mind-autodiff`, execute @train_step on the
// reference interpreter and compare each parameter gradient against central
// differences of @forward. This checks the whole IR path (VJP rules, the
// autodiff pass, the backward kernels) against the forward kernels alone.
// MIND_GRADCHECK_VERBOSE=1 prints, per parameter, max |grad| and the worst
// error as a fraction of the tolerance.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_TEST_UNIT_GRADCHECK_H
#define MIND_TEST_UNIT_GRADCHECK_H

#include "mind/InitAll.h"
#include "mind/Interpreter/Interpreter.h"
#include "mind/Transforms/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <numeric>
#include <random>
#include <string>
#include <vector>

namespace mind::gradcheck {

using ref::Tensor;

/// An MLIR context with every dialect mindc's IR may contain.
inline std::unique_ptr<mlir::MLIRContext> makeContext() {
  mlir::DialectRegistry registry;
  mind::registerAllDialects(registry);
  auto ctx = std::make_unique<mlir::MLIRContext>(registry);
  ctx->loadAllAvailableDialects();
  return ctx;
}

/// Runs mind-autodiff on `module` (which must hold @forward); true on success.
inline bool differentiate(mlir::ModuleOp module) {
  mlir::PassManager pm(module.getContext());
  pm.addPass(mind::createMindAutodiff());
  return mlir::succeeded(pm.run(module));
}

/// Parses `text` and runs mind-autodiff; null (with a gtest failure) when
/// either step fails.
inline mlir::OwningOpRef<mlir::ModuleOp>
parseAndDifferentiate(mlir::MLIRContext &ctx, const std::string &text) {
  auto module = mlir::parseSourceString<mlir::ModuleOp>(text, &ctx);
  if (!module) {
    ADD_FAILURE() << "cannot parse:\n" << text;
    return nullptr;
  }
  if (!differentiate(*module)) {
    ADD_FAILURE() << "mind-autodiff failed on:\n" << text;
    return nullptr;
  }
  return module;
}

inline mlir::func::FuncOp lookupFunc(mlir::ModuleOp module,
                                     llvm::StringRef name) {
  return module.lookupSymbol<mlir::func::FuncOp>(name);
}

/// Indices of the arguments of `func` tagged `mind.param`, in order.
inline std::vector<unsigned> paramArgs(mlir::func::FuncOp func) {
  std::vector<unsigned> out;
  for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
    if (func.getArgAttr(i, "mind.param"))
      out.push_back(i);
  return out;
}

//===----------------------------------------------------------------------===//
// Random inputs (fixed seeds; never all zeros)
//===----------------------------------------------------------------------===//

/// Uniform in [lo, hi) elementwise.
inline Tensor uniform(std::vector<int64_t> shape, std::mt19937 &rng,
                      double lo = -1.0, double hi = 1.0) {
  Tensor t(std::move(shape));
  std::uniform_real_distribution<double> dist(lo, hi);
  for (double &v : t.data)
    v = dist(rng);
  return t;
}

/// Normal(mean, stddev) elementwise.
inline Tensor normal(std::vector<int64_t> shape, std::mt19937 &rng, double mean,
                     double stddev) {
  Tensor t(std::move(shape));
  std::normal_distribution<double> dist(mean, stddev);
  for (double &v : t.data)
    v = dist(rng);
  return t;
}

/// Integers uniform in [0, n), stored as doubles (ref::Tensor's convention).
inline Tensor randomInts(std::vector<int64_t> shape, int64_t n,
                         std::mt19937 &rng) {
  Tensor t(std::move(shape));
  std::uniform_int_distribution<int64_t> dist(0, n - 1);
  for (double &v : t.data)
    v = static_cast<double>(dist(rng));
  return t;
}

/// A 0/1 mask of `shape` with ones except every `zeroEvery`-th position
/// (starting at 1), so masking is exercised but the mask is never all zero.
inline Tensor mask(std::vector<int64_t> shape, int64_t zeroEvery = 4) {
  Tensor t(std::move(shape), 1.0);
  for (size_t i = 1; i < t.data.size(); i += zeroEvery)
    t.data[i] = 0.0;
  return t;
}

inline Tensor scalar(double v) { return Tensor::fromData({}, {v}); }

//===----------------------------------------------------------------------===//
// Running @forward / @train_step
//===----------------------------------------------------------------------===//

/// @forward's results summed: the function @train_step differentiates.
inline double forwardLoss(mlir::func::FuncOp forward,
                          const std::vector<Tensor> &args,
                          InterpreterPrecision precision) {
  Interpreter interp({precision});
  double sum = 0.0;
  for (const Tensor &r : interp.run(forward, args))
    sum += r.data.at(0);
  return sum;
}

/// @train_step on `args` + grad_scale; returns its results.
inline std::vector<Tensor> trainStep(mlir::func::FuncOp step,
                                     std::vector<Tensor> args,
                                     InterpreterPrecision precision,
                                     double gradScale = 1.0) {
  args.push_back(scalar(gradScale));
  Interpreter interp({precision});
  return interp.run(step, args);
}

//===----------------------------------------------------------------------===//
// The comparison
//===----------------------------------------------------------------------===//

struct CheckOptions {
  InterpreterPrecision precision = InterpreterPrecision::Float64;
  /// Central-difference step.
  double h = 1e-6;
  /// Pass when |analytic - fd| <= rtol * max(1, |fd|) (scale = PerElement)
  /// or <= rtol * max|analytic grad tensor| + atol (scale = TensorMax).
  double rtol = 1e-6;
  double atol = 0.0;
  enum class Scale { PerElement, TensorMax } scale = Scale::PerElement;
  /// Tensors with more elements are checked on `samples` random entries.
  int64_t checkAllUpTo = 256;
  int64_t samples = 40;
  uint32_t sampleSeed = 1234;
  /// Applied to every perturbed parameter value before the forward runs (e.g.
  /// rounding to f32 for an f32 argument in AsTyped precision); the
  /// difference quotient divides by the realised step.
  std::function<double(unsigned arg, double)> quantize;
  /// Require every parameter gradient to be nonzero somewhere (so that a
  /// check can't pass vacuously). Off for cases with a dead parameter.
  bool requireNonzero = true;
};

/// Entries of a tensor with `numel` elements to check.
inline std::vector<int64_t>
entriesToCheck(int64_t numel, const CheckOptions &opts, std::mt19937 &rng) {
  std::vector<int64_t> idx(numel);
  std::iota(idx.begin(), idx.end(), 0);
  if (numel <= opts.checkAllUpTo)
    return idx;
  std::shuffle(idx.begin(), idx.end(), rng);
  idx.resize(opts.samples);
  std::sort(idx.begin(), idx.end());
  return idx;
}

/// Checks every `mind.param` gradient of @train_step in `module` against
/// central differences of @forward at `args` (one tensor per @forward
/// argument), with grad_scale = 1. Returns the number of entries compared.
inline int64_t checkGradients(mlir::ModuleOp module,
                              const std::vector<Tensor> &args,
                              const CheckOptions &opts = {}) {
  mlir::func::FuncOp forward = lookupFunc(module, "forward");
  mlir::func::FuncOp step = lookupFunc(module, "train_step");
  if (!forward || !step) {
    ADD_FAILURE() << "module lacks @forward or @train_step";
    return 0;
  }
  std::vector<unsigned> params = paramArgs(forward);
  unsigned numLosses = forward.getNumResults();
  std::vector<Tensor> results = trainStep(step, args, opts.precision);
  EXPECT_EQ(results.size(), numLosses + params.size())
      << "@train_step must return the losses and one gradient per parameter";
  if (results.size() != numLosses + params.size())
    return 0;

  // The losses of @train_step are those of @forward.
  {
    Interpreter interp({opts.precision});
    auto fwd = interp.run(forward, args);
    for (unsigned i = 0; i < numLosses; ++i)
      EXPECT_EQ(fwd[i].data.at(0), results[i].data.at(0)) << "loss #" << i;
  }

  std::mt19937 rng(opts.sampleSeed);
  int64_t compared = 0;
  std::vector<Tensor> work = args;
  for (auto [k, argIdx] : llvm::enumerate(params)) {
    const Tensor &grad = results[numLosses + k];
    std::string name =
        llvm::cast<mlir::StringAttr>(forward.getArgAttr(argIdx, "mind.param"))
            .str();
    EXPECT_EQ(grad.shape, args[argIdx].shape) << "gradient of " << name;
    if (grad.shape != args[argIdx].shape)
      continue;
    // The result attribute names the parameter.
    auto gradAttr =
        step.getResultAttrOfType<mlir::StringAttr>(numLosses + k, "mind.grad");
    EXPECT_TRUE(gradAttr && gradAttr.getValue() == name)
        << "result #" << numLosses + k << " must be tagged mind.grad = \""
        << name << "\"";

    double maxAbs = 0.0;
    for (double g : grad.data)
      maxAbs = std::max(maxAbs, std::abs(g));
    if (opts.requireNonzero) {
      EXPECT_GT(maxAbs, 0.0) << "gradient of " << name << " is all zero";
    }
    double worst = 0.0; // max |a - fd| / tol over the checked entries

    for (int64_t i : entriesToCheck(grad.numel(), opts, rng)) {
      double x0 = args[argIdx].data[i];
      double xp = x0 + opts.h, xm = x0 - opts.h;
      if (opts.quantize) {
        xp = opts.quantize(argIdx, xp);
        xm = opts.quantize(argIdx, xm);
      }
      work[argIdx].data[i] = xp;
      double fp = forwardLoss(forward, work, opts.precision);
      work[argIdx].data[i] = xm;
      double fm = forwardLoss(forward, work, opts.precision);
      work[argIdx].data[i] = x0;
      double fd = (fp - fm) / (xp - xm);
      double a = grad.data[i];
      double tol = opts.scale == CheckOptions::Scale::PerElement
                       ? opts.rtol * std::max(1.0, std::abs(fd))
                       : opts.rtol * maxAbs + opts.atol;
      EXPECT_LE(std::abs(a - fd), tol)
          << "d loss / d " << name << "[flat " << i << "]: autodiff " << a
          << ", central difference " << fd << " (max |grad| " << maxAbs << ")";
      worst = std::max(worst, std::abs(a - fd) / tol);
      ++compared;
    }
    if (std::getenv("MIND_GRADCHECK_VERBOSE"))
      std::fprintf(stderr, "  %-50s max|grad| %.3g  worst err/tol %.3g\n",
                   name.c_str(), maxAbs, worst);
  }
  return compared;
}

} // namespace mind::gradcheck

#endif // MIND_TEST_UNIT_GRADCHECK_H
