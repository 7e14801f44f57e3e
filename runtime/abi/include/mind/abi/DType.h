//===- DType.h - element types and their scalar conversions -----*- C++ -*-===//
//
// The element types every layer names (safetensors headers, plan buffers,
// kernel signatures), spelled as in the safetensors format, and the exact
// fp32 <-> bf16 / f16 conversions. Pure C++17: no file format here.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_ABI_DTYPE_H
#define MIND_ABI_DTYPE_H

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mind::runtime {

/// Element types of the safetensors format (names as in the header).
enum class DType {
  BOOL,
  U8,
  I8,
  F8_E5M2,
  F8_E4M3,
  I16,
  U16,
  F16,
  BF16,
  I32,
  U32,
  F32,
  F64,
  I64,
  U64,
};

/// Bytes per element.
size_t dtypeSize(DType dtype);
/// The header spelling, e.g. "BF16".
const char *dtypeName(DType dtype);
/// A shape for messages: "[2, 3]" (or "[2,3]", "[2x3]" with `sep`).
std::string shapeText(const std::vector<int64_t> &shape,
                      const char *sep = ", ");
/// Parses a header spelling; std::nullopt for an unknown one.
std::optional<DType> parseDType(std::string_view name);
bool isFloatingPoint(DType dtype);

namespace detail {
inline float bitsToFloat(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}
inline uint32_t floatToBits(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  return bits;
}
} // namespace detail

/// Scalar conversions used by the loaders and by the fp16 weights-only writer
/// (inline: data loaders and checkpointing call them per element). Exact
/// decoding; float-to-half rounds to nearest even and keeps NaN a NaN.
inline float bf16ToFloat(uint16_t bits) {
  return detail::bitsToFloat(static_cast<uint32_t>(bits) << 16);
}

inline float f16ToFloat(uint16_t bits) {
  uint32_t sign = static_cast<uint32_t>(bits & 0x8000) << 16;
  uint32_t exp = (bits >> 10) & 0x1F;
  uint32_t mant = bits & 0x3FF;
  if (exp == 0) { // zero or subnormal: mant * 2^-24, exact in float
    float mag = std::ldexp(static_cast<float>(mant), -24);
    return sign ? -mag : mag;
  }
  if (exp == 0x1F) // inf / NaN (payload kept)
    return detail::bitsToFloat(sign | 0x7F800000u | (mant << 13));
  return detail::bitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
}

inline uint16_t floatToBf16(float value) {
  uint32_t x = detail::floatToBits(value);
  if ((x & 0x7FFFFFFFu) > 0x7F800000u) // NaN: truncate but keep it quiet
    return static_cast<uint16_t>((x >> 16) | 0x40);
  x += 0x7FFFu + ((x >> 16) & 1); // round to nearest even
  return static_cast<uint16_t>(x >> 16);
}

inline uint16_t floatToF16(float value) {
  uint32_t x = detail::floatToBits(value);
  uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000);
  x &= 0x7FFFFFFFu;
  if (x > 0x7F800000u) // NaN
    return sign | 0x7E00 | static_cast<uint16_t>((x >> 13) & 0x3FF);
  if (x >= 0x477FF000u) // >= 65520 rounds to infinity (or is infinity)
    return sign | 0x7C00;
  if (x < 0x38800000u) { // below 2^-14: subnormal half or zero
    // Scaling by 2^24 is exact; nearbyint rounds to nearest even. A result
    // of 1024 is exactly the encoding of the smallest normal half.
    float scaled = std::ldexp(detail::bitsToFloat(x), 24);
    return sign | static_cast<uint16_t>(std::nearbyint(scaled));
  }
  x += 0xFFFu + ((x >> 13) & 1);         // round to nearest even
  x -= static_cast<uint32_t>(112) << 23; // rebias 127 -> 15
  return sign | static_cast<uint16_t>(x >> 13);
}

/// Number of elements of `shape`; throws std::invalid_argument on a negative
/// dimension or on overflow (the product of an empty shape is 1).
uint64_t numElements(const std::vector<int64_t> &shape);

} // namespace mind::runtime

#endif // MIND_ABI_DTYPE_H
