//===- KernelAbiBuilderCases.cpp - the builder refuses wrong arguments ----===//
//
// Compiled by ctest (not linked): MIND_CASE 0 must compile, every other case
// must not, because Builder<S>::args takes exactly the signature's
// parameters, each as its own wrapper type.
//
//===----------------------------------------------------------------------===//

#include "mind/abi/KernelAbi.h"

namespace kabi = mind::runtime::kabi;
using B = kabi::Builder<mind::sig::rmsnorm_fwd, int64_t>;
using Buf = kabi::Buffer<int64_t>;

void build() {
#if MIND_CASE == 0 // the signature's list: compiles
  B::args(Buf(0), Buf(1), Buf(2), kabi::I64(4), kabi::I64(8), kabi::F32(1e-5));
#elif MIND_CASE == 1 // an argument missing
  B::args(Buf(0), Buf(1), Buf(2), kabi::I64(4), kabi::I64(8));
#elif MIND_CASE == 2 // f64 where the kernel takes a float
  B::args(Buf(0), Buf(1), Buf(2), kabi::I64(4), kabi::I64(8), kabi::F64(1e-5));
#elif MIND_CASE == 3 // a scalar where a buffer goes
  B::args(Buf(0), kabi::I64(1), Buf(2), kabi::I64(4), kabi::I64(8),
          kabi::F32(1e-5));
#elif MIND_CASE == 4 // a bare integer: no implicit conversion
  B::args(Buf(0), Buf(1), Buf(2), 4, kabi::I64(8), kabi::F32(1e-5));
#endif
}
