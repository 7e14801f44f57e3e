//===- RefKernelsInternal.h - Helpers shared by the ref kernels -*- C++ -*-===//
//
// Private to lib/Interpreter: argument checking and small numeric helpers.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_LIB_INTERPRETER_REFKERNELSINTERNAL_H
#define MIND_LIB_INTERPRETER_REFKERNELSINTERNAL_H

#include "mind/Interpreter/RefKernels.h"

#include <string>

namespace mind::ref::detail {

/// Throws std::invalid_argument("mind.<op>: <msg>").
[[noreturn]] void fail(const char *op, const std::string &msg);
std::string shapeStr(const std::vector<int64_t> &shape);

void requireRank(const Tensor &t, int64_t rank, const char *op,
                 const char *name);
void requireMinRank(const Tensor &t, int64_t rank, const char *op,
                    const char *name);
void requireShape(const Tensor &t, const std::vector<int64_t> &shape,
                  const char *op, const char *name);
/// Element i of t as an index in [0, bound); throws if not such an integer.
int64_t indexAt(const Tensor &t, int64_t i, int64_t bound, const char *op,
                const char *name);

/// Number of rows of t seen as [numel / dim(-1), dim(-1)].
inline int64_t rowsOf(const Tensor &t) {
  int64_t last = t.shape.back();
  return last == 0 ? 0 : t.numel() / last;
}

inline double dot(const double *a, const double *b, int64_t n) {
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i)
    s += a[i] * b[i];
  return s;
}

/// out[i] += alpha * a[i].
inline void axpy(double alpha, const double *a, double *out, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    out[i] += alpha * a[i];
}

} // namespace mind::ref::detail

#endif // MIND_LIB_INTERPRETER_REFKERNELSINTERNAL_H
