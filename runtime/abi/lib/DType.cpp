//===- DType.cpp - element types ------------------------------------------===//

#include "mind/abi/DType.h"

#include <stdexcept>

namespace mind::runtime {

namespace {
struct DTypeInfo {
  DType dtype;
  const char *name;
  size_t size;
};

constexpr DTypeInfo kDTypes[] = {
    {DType::BOOL, "BOOL", 1},       {DType::U8, "U8", 1},
    {DType::I8, "I8", 1},           {DType::F8_E5M2, "F8_E5M2", 1},
    {DType::F8_E4M3, "F8_E4M3", 1}, {DType::I16, "I16", 2},
    {DType::U16, "U16", 2},         {DType::F16, "F16", 2},
    {DType::BF16, "BF16", 2},       {DType::I32, "I32", 4},
    {DType::U32, "U32", 4},         {DType::F32, "F32", 4},
    {DType::F64, "F64", 8},         {DType::I64, "I64", 8},
    {DType::U64, "U64", 8},
};

const DTypeInfo &info(DType dtype) {
  for (const DTypeInfo &i : kDTypes)
    if (i.dtype == dtype)
      return i;
  throw std::invalid_argument("invalid DType value");
}

} // namespace

size_t dtypeSize(DType dtype) { return info(dtype).size; }
const char *dtypeName(DType dtype) { return info(dtype).name; }

std::string shapeText(const std::vector<int64_t> &shape, const char *sep) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? sep : "") + std::to_string(shape[i]);
  return s + "]";
}

std::optional<DType> parseDType(std::string_view name) {
  for (const DTypeInfo &i : kDTypes)
    if (name == i.name)
      return i.dtype;
  return std::nullopt;
}

bool isFloatingPoint(DType d) {
  return d == DType::F8_E5M2 || d == DType::F8_E4M3 || d == DType::F16 ||
         d == DType::BF16 || d == DType::F32 || d == DType::F64;
}

uint64_t numElements(const std::vector<int64_t> &shape) {
  uint64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0)
      throw std::invalid_argument("negative dimension in shape " +
                                  shapeText(shape, ","));
    if (__builtin_mul_overflow(n, static_cast<uint64_t>(d), &n))
      throw std::invalid_argument("shape " + shapeText(shape, ",") +
                                  " overflows the element count");
  }
  return n;
}

} // namespace mind::runtime
