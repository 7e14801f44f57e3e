//===- RopeTableSpecs.cpp - launch rule of the RoPE table kernel ----------===//

#include "mind/abi/KernelSpecs.h"

mind::runtime::LaunchConfig mind::runtime::kernels::ropeTable(int64_t seq,
                                                              int64_t dim) {
  LaunchConfig c;
  c.nameExpr = "mind::rope_table";
  int64_t work = seq * (dim / 2);
  c.block = {256, 1, 1};
  c.grid = {static_cast<uint32_t>((work + 255) / 256), 1, 1};
  return c;
}
