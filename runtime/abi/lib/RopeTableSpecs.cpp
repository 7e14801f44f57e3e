//===- RopeTableSpecs.cpp - launch rule of the RoPE table kernel ----------===//

#include "mind/abi/KernelSpecs.h"

mind::runtime::kabi::Launch<mind::sig::rope_table>
mind::runtime::kernels::ropeTable(int64_t seq, int64_t dim) {
  kabi::Launch<sig::rope_table> c;
  c.nameExpr = instance<sig::rope_table>();
  int64_t work = seq * (dim / 2);
  c.block = {256, 1, 1};
  c.grid = {static_cast<uint32_t>((work + 255) / 256), 1, 1};
  return c;
}
