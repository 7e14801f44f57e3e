//===- SafetensorsTest.cpp - safetensors reader/writer tests --------------===//

#include "mind/io/Safetensors.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <string>
#include <unistd.h>

using namespace mind::runtime;

namespace {

// A private temporary directory per test, removed afterwards.
class SafetensorsTest : public ::testing::Test {
protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mind-safetensors-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    for (const std::string &f : created_) {
      std::remove(f.c_str());
      std::remove((f + ".tmp").c_str());
    }
    rmdir(dir_.c_str());
  }
  std::string path(const std::string &name) {
    created_.push_back(dir_ + "/" + name);
    return created_.back();
  }
  // Writes `header` (length-prefixed, unpadded) followed by `data`.
  std::string writeRaw(const std::string &header, const std::string &data,
                       const std::string &name = "bad.safetensors") {
    std::string bytes(8, '\0');
    uint64_t n = header.size();
    std::memcpy(&bytes[0], &n, 8);
    return writeBytes(bytes + header + data, name);
  }
  std::string writeBytes(const std::string &bytes,
                         const std::string &name = "bad.safetensors") {
    std::string p = path(name);
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
  // Loads `p` expecting failure; returns the message.
  static std::string loadError(const std::string &p) {
    try {
      SafetensorsFile::load(p);
    } catch (const SafetensorsError &e) {
      return e.what();
    }
    ADD_FAILURE() << "expected SafetensorsError loading " << p;
    return "";
  }
  std::string dir_;
  std::vector<std::string> created_;
};

#define EXPECT_ERROR(p, needle)                                                \
  do {                                                                         \
    std::string msg = loadError(p);                                            \
    EXPECT_NE(msg.find(needle), std::string::npos) << msg;                     \
    EXPECT_NE(msg.find(p), std::string::npos) << "no file name: " << msg;      \
  } while (0)

// A valid one-tensor header for 4 bytes of data, used as a base.
const std::string kU8x4 =
    R"({"t":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}})";

TEST_F(SafetensorsTest, RoundTripSeveralDTypes) {
  SafetensorsWriter w;
  std::vector<float> f32 = {1.5f, -2.25f, 3.0f, 0.0f, 1e-30f, -7.0f};
  std::vector<double> f64 = {3.141592653589793, -1e300};
  std::vector<int64_t> i64 = {std::numeric_limits<int64_t>::min(), 0, 42};
  std::vector<int32_t> i32 = {-5, 7};
  std::vector<uint8_t> boolData = {1, 0, 1};
  std::vector<int8_t> i8 = {-128, 127};
  std::vector<float> halfSrc = {1.0f, -0.5f, 65504.0f, 0.0f};
  w.addF32("w.f32", {2, 3}, f32);
  w.addF64("w.f64", {2}, f64);
  w.addI64("ids", {3}, i64);
  w.addI32("a.i32", {1, 2}, i32);
  w.add("mask", DType::BOOL, {3}, boolData.data(), boolData.size());
  w.add("i8", DType::I8, {2}, i8.data(), i8.size());
  w.addF16FromF32("h.f16", {4}, halfSrc);
  w.addBF16FromF32("h.bf16", {2, 2}, halfSrc);
  w.add("empty", DType::F32, {0, 5}, nullptr, 0);
  w.add("scalar", DType::F32, {}, &f32[0], 4);
  w.setMetadata("format", "pt");
  w.setMetadata("run", "\xe6\xb5\x8b\xe8\xaf\x95"); // UTF-8 survives
  std::string p = path("rt.safetensors");
  w.write(p);
  EXPECT_NE(access((p + ".tmp").c_str(), F_OK), 0) << "tmp file left behind";

  SafetensorsFile f = SafetensorsFile::load(p);
  EXPECT_EQ(f.size(), 10u);
  std::vector<std::string> names = f.names();
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(f.metadata().at("format"), "pt");
  EXPECT_EQ(f.metadata().at("run"), "\xe6\xb5\x8b\xe8\xaf\x95");

  EXPECT_EQ(f.toFloat32("w.f32"), f32);
  EXPECT_EQ(f.get("w.f32").shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(f.get("w.f32").dtype, DType::F32);
  EXPECT_EQ(f.toFloat64("w.f64"), f64);
  EXPECT_EQ(f.toInt64("ids"), i64);
  EXPECT_EQ(f.toInt64("a.i32"), (std::vector<int64_t>{-5, 7}));
  EXPECT_EQ(f.toFloat32("mask"), (std::vector<float>{1, 0, 1}));
  EXPECT_EQ(f.toInt64("i8"), (std::vector<int64_t>{-128, 127}));
  EXPECT_EQ(f.toFloat32("h.f16"), halfSrc); // all exactly representable
  EXPECT_EQ(f.toFloat32("h.bf16"),
            (std::vector<float>{1.0f, -0.5f, 65536.0f, 0.0f}));
  EXPECT_EQ(f.get("empty").nbytes, 0u);
  EXPECT_TRUE(f.toFloat32("empty").empty());
  EXPECT_EQ(f.toFloat32("scalar"), std::vector<float>{1.5f});
  EXPECT_EQ(f.find("missing"), nullptr);
  EXPECT_THROW(f.get("missing"), SafetensorsError);
  // Integral floats convert to int64; fractional ones do not.
  EXPECT_THROW(f.toInt64("w.f32"), SafetensorsError);
  EXPECT_THROW(f.toInt64("h.f16"), SafetensorsError);

  // serialize() produces the same bytes as write().
  std::ifstream in(p, std::ios::binary);
  std::vector<uint8_t> onDisk((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
  EXPECT_EQ(onDisk, w.serialize());
}

TEST_F(SafetensorsTest, WriterLayout) {
  SafetensorsWriter w;
  std::vector<float> a = {1, 2, 3}, b = {4};
  w.addF32("b", {1}, b);
  w.addF32("a", {3}, a);
  std::vector<uint8_t> img = w.serialize();
  uint64_t n;
  std::memcpy(&n, img.data(), 8);
  EXPECT_EQ(n % 8, 0u) << "header not padded to 8 bytes";
  std::string header(img.begin() + 8, img.begin() + 8 + n);
  EXPECT_EQ(header.find_last_not_of(' ') + 1,
            header.find_last_of('}') + 1); // only spaces after the JSON
  // Sorted by name, contiguous: a at [0,12), b at [12,16).
  EXPECT_NE(header.find(R"("a":{"data_offsets":[0,12])"), std::string::npos)
      << header;
  EXPECT_NE(header.find(R"("b":{"data_offsets":[12,16])"), std::string::npos)
      << header;
  EXPECT_EQ(img.size(), 8 + n + 16);
  SafetensorsFile f = SafetensorsFile::fromBuffer(img, "<memory>");
  EXPECT_EQ(f.toFloat32("a"), a);
}

TEST_F(SafetensorsTest, WriterRejectsBadInput) {
  SafetensorsWriter w;
  std::vector<float> v = {1, 2};
  EXPECT_THROW(w.add("x", DType::F32, {3}, v.data(), 8), SafetensorsError);
  EXPECT_THROW(w.add("x", DType::F32, {-2}, v.data(), 8), SafetensorsError);
  EXPECT_THROW(w.addF32("__metadata__", {2}, v), SafetensorsError);
  w.addF32("x", {2}, v);
  EXPECT_THROW(w.addF32("x", {2}, v), SafetensorsError);
  EXPECT_THROW(w.write(dir_ + "/no/such/dir/f.safetensors"), SafetensorsError);
}

TEST_F(SafetensorsTest, AtomicWriteReplacesExistingFile) {
  std::string p = path("replace.safetensors");
  SafetensorsWriter first, second;
  first.addF32("x", {1}, {1.0f});
  second.addF32("y", {2}, {2.0f, 3.0f});
  first.write(p);
  second.write(p);
  SafetensorsFile f = SafetensorsFile::load(p);
  EXPECT_EQ(f.names(), std::vector<std::string>{"y"});
}

TEST_F(SafetensorsTest, BorrowedData) {
  std::vector<float> big(1000, 0.25f);
  SafetensorsWriter w;
  w.addBorrowed("big", DType::F32, {10, 100}, big.data(), big.size() * 4);
  SafetensorsFile f = SafetensorsFile::fromBuffer(w.serialize(), "<memory>");
  EXPECT_EQ(f.toFloat32("big"), big);
}

TEST_F(SafetensorsTest, GoldenTinyDense) {
  SafetensorsFile f =
      SafetensorsFile::load(std::string(MIND_SHARED_DATA_DIR) +
                            "/golden/golden_tiny_dense.safetensors");
  const TensorView *ids = f.find("input.ids");
  ASSERT_NE(ids, nullptr);
  EXPECT_EQ(ids->dtype, DType::I64);
  EXPECT_EQ(ids->shape, (std::vector<int64_t>{6, 2, 24}));
  std::vector<int64_t> idv = f.toInt64("input.ids");
  ASSERT_EQ(idv.size(), 288u);
  for (int64_t id : idv) {
    EXPECT_GE(id, 0);
    EXPECT_LT(id, 6400);
  }
  const TensorView *emb = f.find("init.model.embed_tokens.weight");
  ASSERT_NE(emb, nullptr);
  EXPECT_EQ(emb->dtype, DType::F32);
  EXPECT_EQ(emb->shape, (std::vector<int64_t>{6400, 64}));
  EXPECT_EQ(emb->nbytes, 6400u * 64 * 4);
  std::vector<float> w = f.toFloat32("init.model.embed_tokens.weight");
  // PyTorch's Linear init for lm_head: U(-1/sqrt(64), 1/sqrt(64)).
  for (float x : w)
    ASSERT_LE(std::fabs(x), 0.125f);
  EXPECT_EQ(f.get("init.model.layers.0.self_attn.k_proj.weight").shape,
            (std::vector<int64_t>{32, 64}));
  EXPECT_EQ(f.toFloat32("init.model.norm.weight"),
            std::vector<float>(64, 1.0f));
}

TEST_F(SafetensorsTest, HalfPrecisionDecoding) {
  EXPECT_EQ(f16ToFloat(0x3C00), 1.0f);
  EXPECT_EQ(f16ToFloat(0xC000), -2.0f);
  EXPECT_EQ(f16ToFloat(0x3555), 0.333251953125f);
  EXPECT_EQ(f16ToFloat(0x7BFF), 65504.0f);
  EXPECT_EQ(f16ToFloat(0x0001), std::ldexp(1.0f, -24)); // smallest subnormal
  EXPECT_EQ(f16ToFloat(0x0400), std::ldexp(1.0f, -14)); // smallest normal
  EXPECT_TRUE(std::signbit(f16ToFloat(0x8000)));
  EXPECT_EQ(f16ToFloat(0x7C00), std::numeric_limits<float>::infinity());
  EXPECT_EQ(f16ToFloat(0xFC00), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(f16ToFloat(0x7E00)));

  EXPECT_EQ(bf16ToFloat(0x3F80), 1.0f);
  EXPECT_EQ(bf16ToFloat(0xC040), -3.0f);
  EXPECT_EQ(bf16ToFloat(0x4049), 3.140625f);
  EXPECT_EQ(bf16ToFloat(0x3EAB), 0.333984375f);
  EXPECT_EQ(bf16ToFloat(0x7F80), std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(bf16ToFloat(0x7FC0)));

  // Encoding rounds to nearest even.
  EXPECT_EQ(floatToF16(1.0f), 0x3C00);
  EXPECT_EQ(floatToF16(1.0f / 3), 0x3555);
  EXPECT_EQ(floatToF16(65504.0f), 0x7BFF);
  EXPECT_EQ(floatToF16(65519.0f), 0x7BFF);
  EXPECT_EQ(floatToF16(65520.0f), 0x7C00);
  EXPECT_EQ(floatToF16(1.0f + std::ldexp(1.0f, -11)), 0x3C00); // tie -> even
  EXPECT_EQ(floatToF16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3C02);
  EXPECT_EQ(floatToF16(std::ldexp(1.0f, -24)), 0x0001);
  EXPECT_EQ(floatToF16(std::ldexp(1.0f, -25)), 0x0000); // tie -> even (0)
  EXPECT_EQ(floatToF16(-0.0f), 0x8000);
  EXPECT_EQ(floatToF16(std::nanf("")) & 0x7C00, 0x7C00);
  EXPECT_NE(floatToF16(std::nanf("")) & 0x3FF, 0);
  EXPECT_EQ(floatToBf16(3.14159265f), 0x4049);
  EXPECT_EQ(floatToBf16(1.0f / 3), 0x3EAB);
  EXPECT_EQ(floatToBf16(1.0f + std::ldexp(1.0f, -8)), 0x3F80); // tie -> even
  EXPECT_TRUE(std::isnan(bf16ToFloat(floatToBf16(std::nanf("")))));
  // Exhaustive: every finite half survives decode -> encode.
  for (uint32_t b = 0; b < 0x10000; ++b) {
    if ((b & 0x7C00) != 0x7C00) {
      ASSERT_EQ(floatToF16(f16ToFloat(static_cast<uint16_t>(b))), b) << b;
    }
  }
}

TEST_F(SafetensorsTest, DecodesHalfTensorsFromRawBytes) {
  // F16 [1, -2], BF16 [1, -3], F8_E4M3 [1.5 (0x3C), -448 (0xFE)].
  std::string data("\x00\x3C\x00\xC0\x80\x3F\x40\xC0\x3C\xFE", 10);
  std::string p =
      writeRaw(R"({"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},)"
               R"("b":{"dtype":"BF16","shape":[2],"data_offsets":[4,8]},)"
               R"("c":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[8,10]}})",
               data, "half.safetensors");
  SafetensorsFile f = SafetensorsFile::load(p);
  EXPECT_EQ(f.toFloat32("a"), (std::vector<float>{1.0f, -2.0f}));
  EXPECT_EQ(f.toFloat64("b"), (std::vector<double>{1.0, -3.0}));
  EXPECT_EQ(f.toFloat32("c"), (std::vector<float>{1.5f, -448.0f}));
  EXPECT_EQ(f.toInt64("b"), (std::vector<int64_t>{1, -3}));
}

//===-- One test per malformation -----------------------------------------===//

TEST_F(SafetensorsTest, FileShorterThan8Bytes) {
  EXPECT_ERROR(writeBytes("abc"), "shorter than the 8-byte header length");
}

TEST_F(SafetensorsTest, MissingFile) {
  EXPECT_ERROR(dir_ + "/nope.safetensors", "nope.safetensors: no such file");
}

TEST_F(SafetensorsTest, DirectoryIsNamedAsOne) {
  // Mapping a directory used to fail with "No such device".
  EXPECT_ERROR(dir_, "is a directory, expected a safetensors file");
}

TEST_F(SafetensorsTest, HeaderLongerThanFile) {
  std::string bytes(8, '\0');
  uint64_t n = 1000;
  std::memcpy(&bytes[0], &n, 8);
  EXPECT_ERROR(writeBytes(bytes + "{}"), "larger than the file");
}

TEST_F(SafetensorsTest, HeaderOver100MB) {
  std::string bytes(8, '\0');
  uint64_t n = 100'000'001;
  std::memcpy(&bytes[0], &n, 8);
  EXPECT_ERROR(writeBytes(bytes + "{}"), "exceeds the limit");
}

TEST_F(SafetensorsTest, HeaderNotJson) {
  EXPECT_ERROR(writeRaw("{\"t\": [1,", ""), "not valid JSON");
}

TEST_F(SafetensorsTest, HeaderNotObject) {
  EXPECT_ERROR(writeRaw("[1, 2]", ""), "not a JSON object");
}

TEST_F(SafetensorsTest, EntryNotObject) {
  EXPECT_ERROR(writeRaw(R"({"t": 5})", ""), "entry must be an object");
}

TEST_F(SafetensorsTest, MissingDType) {
  EXPECT_ERROR(writeRaw(R"({"t":{"shape":[4],"data_offsets":[0,4]}})", "abcd"),
               "tensor 't': missing 'dtype'");
}

TEST_F(SafetensorsTest, MissingShape) {
  EXPECT_ERROR(writeRaw(R"({"t":{"dtype":"U8","data_offsets":[0,4]}})", "abcd"),
               "missing 'shape'");
}

TEST_F(SafetensorsTest, MissingDataOffsets) {
  EXPECT_ERROR(writeRaw(R"({"t":{"dtype":"U8","shape":[4]}})", "abcd"),
               "missing 'data_offsets'");
}

TEST_F(SafetensorsTest, DTypeNotString) {
  EXPECT_ERROR(
      writeRaw(R"({"t":{"dtype":7,"shape":[4],"data_offsets":[0,4]}})", "abcd"),
      "'dtype' must be a string");
}

TEST_F(SafetensorsTest, ShapeNotArray) {
  EXPECT_ERROR(
      writeRaw(R"({"t":{"dtype":"U8","shape":4,"data_offsets":[0,4]}})",
               "abcd"),
      "'shape' must be an array");
}

TEST_F(SafetensorsTest, ShapeNotIntegers) {
  EXPECT_ERROR(
      writeRaw(R"({"t":{"dtype":"U8","shape":[4.0],"data_offsets":[0,4]}})",
               "abcd"),
      "shape dimension must be an integer");
}

TEST_F(SafetensorsTest, DataOffsetsWrongType) {
  EXPECT_ERROR(
      writeRaw(R"({"t":{"dtype":"U8","shape":[4],"data_offsets":[0,4,8]}})",
               "abcd"),
      "'data_offsets' must be an array of two integers");
  EXPECT_ERROR(
      writeRaw(R"({"t":{"dtype":"U8","shape":[4],"data_offsets":["0",4]}})",
               "abcd", "b2.safetensors"),
      "data_offsets begin must be an integer");
}

TEST_F(SafetensorsTest, UnknownDType) {
  EXPECT_ERROR(
      writeRaw(R"({"t":{"dtype":"F12","shape":[4],"data_offsets":[0,4]}})",
               "abcd"),
      "unknown dtype 'F12'");
}

TEST_F(SafetensorsTest, NegativeShape) {
  EXPECT_ERROR(
      writeRaw(R"({"t":{"dtype":"U8","shape":[-4],"data_offsets":[0,4]}})",
               "abcd"),
      "shape dimension is negative");
}

TEST_F(SafetensorsTest, NegativeOffset) {
  EXPECT_ERROR(
      writeRaw(R"({"t":{"dtype":"U8","shape":[4],"data_offsets":[-1,4]}})",
               "abcd"),
      "data_offsets begin is negative");
}

TEST_F(SafetensorsTest, OffsetsBeginAfterEnd) {
  EXPECT_ERROR(
      writeRaw(R"({"t":{"dtype":"U8","shape":[4],"data_offsets":[4,0]}})",
               "abcd"),
      "begin > end");
}

TEST_F(SafetensorsTest, ByteSizeMismatch) {
  EXPECT_ERROR(
      writeRaw(R"({"t":{"dtype":"F32","shape":[4],"data_offsets":[0,4]}})",
               "abcd"),
      "span 4 bytes but dtype F32 and shape [4] need 16");
}

TEST_F(SafetensorsTest, ShapeOverflow) {
  EXPECT_ERROR(writeRaw(R"({"t":{"dtype":"U8","shape":[4294967296,4294967296],)"
                        R"("data_offsets":[0,4]}})",
                        "abcd"),
               "overflows the element count");
  EXPECT_ERROR(writeRaw(R"({"t":{"dtype":"F64","shape":[4611686018427387904],)"
                        R"("data_offsets":[0,4]}})",
                        "abcd", "b2.safetensors"),
               "overflows the byte size");
}

TEST_F(SafetensorsTest, OffsetsPastBuffer) {
  EXPECT_ERROR(
      writeRaw(R"({"t":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}})",
               "abcd"),
      "past the data buffer");
}

TEST_F(SafetensorsTest, OffsetsOverlap) {
  EXPECT_ERROR(
      writeRaw(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
               R"("b":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}})",
               "abcd"),
      "overlaps tensor 'a'");
}

TEST_F(SafetensorsTest, OffsetsGap) {
  EXPECT_ERROR(
      writeRaw(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},)"
               R"("b":{"dtype":"U8","shape":[1],"data_offsets":[3,4]}})",
               "abcd"),
      "not contiguous: gap of 1 bytes before tensor 'b'");
  EXPECT_ERROR(
      writeRaw(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}})",
               "abcd", "b2.safetensors"),
      "gap of 2 bytes before tensor 'a'");
}

TEST_F(SafetensorsTest, TrailingBytes) {
  EXPECT_ERROR(writeRaw(kU8x4, "abcdef"), "2 trailing bytes");
  EXPECT_ERROR(writeRaw("{}", "x", "b2.safetensors"), "1 trailing bytes");
}

TEST_F(SafetensorsTest, DuplicateTensorName) {
  EXPECT_ERROR(
      writeRaw(R"({"t":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},)"
               R"("t":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}})",
               "abcd"),
      "duplicate tensor name 't'");
  EXPECT_ERROR(writeRaw(R"({"t":{"dtype":"U8","dtype":"I8","shape":[4],)"
                        R"("data_offsets":[0,4]}})",
                        "abcd", "b2.safetensors"),
               "duplicate key 'dtype'");
}

// 100,000 nested arrays parsed (nlohmann's parser keeps its own stack) but
// overflowed the stack when the value was quoted in the message (found by
// LoaderFuzzTest). Values may lie 128 levels below the root, as in the
// Rust reader.
TEST_F(SafetensorsTest, DeepNestingIsRejected) {
  auto nested = [](size_t n) {
    return std::string(n, '[') + std::string(n, ']');
  };
  auto header = [](const std::string &shape) {
    return R"({"t":{"dtype":"U8","shape":[)" + shape +
           R"(],"data_offsets":[0,0]}})";
  };
  EXPECT_ERROR(writeRaw(header(nested(100000)), ""),
               "header is JSON nested deeper than 128 levels");
  // The root, the entry and the shape are 3 levels: 126 more still parse.
  EXPECT_ERROR(writeRaw(header(nested(127)), "", "b2.safetensors"),
               "header is JSON nested deeper than 128 levels");
  EXPECT_ERROR(writeRaw(header(nested(126)), "", "b3.safetensors"),
               "shape dimension must be an integer");
}

TEST_F(SafetensorsTest, MetadataValuesMustBeStrings) {
  EXPECT_ERROR(writeRaw(R"({"__metadata__":{"step":5}})", ""),
               "__metadata__ value for key 'step' must be a string");
  EXPECT_ERROR(writeRaw(R"({"__metadata__":[1]})", "", "b2.safetensors"),
               "'__metadata__' must be an object");
}

TEST_F(SafetensorsTest, EmptyAndNullMetadataAreValid) {
  SafetensorsFile f =
      SafetensorsFile::load(writeRaw(R"({"__metadata__":null})", ""));
  EXPECT_EQ(f.size(), 0u);
  EXPECT_TRUE(f.metadata().empty());
  // Padding with spaces is valid; so are zero-size tensors sharing an offset.
  SafetensorsFile g = SafetensorsFile::load(
      writeRaw(R"({"z":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},)"
               R"("t":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}   )",
               "abcd", "ok2.safetensors"));
  EXPECT_EQ(g.size(), 2u);
}

} // namespace
