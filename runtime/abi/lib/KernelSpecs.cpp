//===- KernelSpecs.cpp - launch rules shared by compiler and tests --------===//

#include "mind/abi/KernelSpecs.h"

#include <stdexcept>

std::string mind::runtime::kernels::cudaTypeName(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "float";
  case DType::BF16:
    return "__nv_bfloat16";
  case DType::F16:
    return "__half";
  default:
    throw std::invalid_argument(
        std::string("no CUDA kernel element type for ") + dtypeName(dtype));
  }
}
