//===- BundleFuzz.cpp - deterministic fuzzing of bundle loading -----------===//
//
// Mutants of a small valid bundle (serializeBundle of a training plan like
// BundleTest's sampleBundle) fed to readBundle. Each must load — and then
// re-serialize, i.e. pass validatePlan — or throw BundleError naming the
// file. Most mutants are re-framed with correct section lengths and CRC so
// that the plan JSON and the plan rules behind the checksum are reached.
//
//===----------------------------------------------------------------------===//

#include "FuzzSupport.h"
#include "SampleBundle.h"

#include "mind/abi/Bundle.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

using namespace mind::runtime;
using namespace mind::fuzz;
using nlohmann::json;
using mind::runtime::samples::sampleBundle;
namespace samples = mind::runtime::samples;

namespace {

const std::vector<std::string> kPlanWords = {
    "param",      "grad",
    "input",      "output",
    "activation", "F32",
    "BF16",       "F16",
    "I64",        "U8",
    "opaque",     "kernel",
    "gemm",       "memset",
    "buffer",     "buffers",
    "i64",        "f32",
    "f64",        "in",
    "out",        "in[]",
    "out[]",      "nan",
    "inf",        "-inf",
    "ids",        "loss",
    "grad_scale", "x",
    "y",          "w",
    "mind::",     "mindtest::test_kernel",
    "label"};

void fixCrc(Bytes &b) {
  if (b.size() < 4)
    return;
  uint32_t crc = crc32(b.data(), b.size() - 4);
  std::memcpy(&b[b.size() - 4], &crc, 4);
}

struct Seed {
  std::vector<std::string> sections;
  json plan;
  Bytes bytes;
  std::vector<Field> fields; // version, the section lengths, the CRC
  std::vector<size_t> marks; // where each section starts
};

Seed makeSeed() {
  Seed s;
  Bundle b = sampleBundle();
  s.bytes = serializeBundle(b);
  s.plan = toJson(b.plan);
  s.sections = {s.plan.dump(), std::string(b.cubin.begin(), b.cubin.end()),
                b.ptx, b.cudaSource, b.mlir};
  static const char *kNames[] = {"plan length", "cubin length", "ptx length",
                                 "cuda source length", "mlir length"};
  s.fields.push_back({8, 4, "version"});
  size_t at = 12;
  for (size_t i = 0; i < 5; ++i) {
    s.fields.push_back({at, 8, kNames[i]});
    s.marks.push_back(at);
    s.marks.push_back(at + 8);
    at += 8 + s.sections[i].size();
  }
  s.fields.push_back({at, 4, "crc"});
  return s;
}

// Structure-aware: the GEMM's sizes, the launch's shape or one buffer's
// layout set to values at and past the limits, including products that
// wrap around 2^64 to the right value (m = 2^61 + 8: m * 8 "is" 64).
std::string mutatePlanStructure(Mutator &m, json &plan) {
  const uint64_t wrap = uint64_t(1) << 61, big = UINT64_MAX;
  const uint64_t u31 = uint64_t(1) << 31, u32max = 0xFFFFFFFFu;
  using A = json;
  switch (m.below(4)) {
  case 0: { // steps[1] is the GEMM C[8,16] = A[8,8] B[8,16]
    struct Sizes {
      json m, n, k;
    };
    const std::vector<Sizes> sizes = {{8, 16, 8},
                                      {8 + wrap, 16, 8},
                                      {8, 16 + wrap, 8},
                                      {8, 16, 8 + wrap},
                                      {0, 16, 8},
                                      {-8, 16, 8},
                                      {uint64_t(1) << 62, 16, 8},
                                      {INT64_MAX, 16, 8},
                                      {8, uint64_t(1) << 63, 8},
                                      {big, big, big}};
    const Sizes &v = m.pick(sizes);
    json &g = plan["steps"][1];
    g["m"] = v.m;
    g["n"] = v.n;
    g["k"] = v.k;
    return "gemm m, n, k := " + v.m.dump() + ", " + v.n.dump() + ", " +
           v.k.dump();
  }
  case 1: { // steps[2] is the kernel launch
    const std::vector<json> shapes = {
        A::array({128, 1, 1}),     A::array({1024, 1, 1}),
        A::array({1025, 1, 1}),    A::array({32, 32, 1}),
        A::array({32, 32, 2}),     A::array({1, 1, 64}),
        A::array({1, 1, 65}),      A::array({0, 1, 1}),
        A::array({u31, u31, 16}),  A::array({u32max, u32max, 1}),
        A::array({1, u32max, 64}), A::array({u32max + 1, 1, 1})};
    const char *what = m.chance(50) ? "block" : "grid";
    plan["steps"][2][what] = m.pick(shapes);
    return std::string("kernel ") + what +
           " := " + plan["steps"][2][what].dump();
  }
  case 2: {
    const std::vector<uint64_t> shared = {0, 227 * 1024, 227 * 1024 + 1, u32max,
                                          u32max + 1};
    plan["steps"][2]["shared_bytes"] = m.pick(shared);
    return "kernel shared_bytes := " + plan["steps"][2]["shared_bytes"].dump();
  }
  default: {
    json &buffers = plan["buffers"];
    json &b = buffers[m.below(buffers.size())];
    uint64_t arena = plan["arena_bytes"];
    const std::vector<json> shapes = {
        A::array({uint64_t(1) << 60}),
        A::array({wrap, 8}),
        A::array({uint64_t(1) << 32, uint64_t(1) << 32}),
        A::array({0}),
        A::array({-1, -1}),
        A::array({(wrap >> 1) + 1})};
    const std::vector<uint64_t> offsets = {0,     256,       arena - 256,
                                           arena, big - 255, wrap};
    switch (m.below(3)) {
    case 0: {
      b["shape"] = m.pick(shapes);
      // bytes as the (wrapped) product would say
      uint64_t n = 4;
      for (const json &d : b["shape"])
        n *= d.get<uint64_t>();
      b["bytes"] = n;
      return "buffer '" + b["name"].get<std::string>() +
             "' shape := " + b["shape"].dump();
    }
    case 1:
      b["offset"] = m.pick(offsets);
      return "buffer '" + b["name"].get<std::string>() +
             "' offset := " + b["offset"].dump();
    default:
      plan["arena_bytes"] = m.pick(offsets);
      return "arena_bytes := " + plan["arena_bytes"].dump();
    }
  }
  }
}

// One mutant: raw bytes or a field (CRC mostly fixed up), the plan's JSON,
// or the other sections, re-framed.
Bytes mutateBundle(Mutator &m, const Seed &seed, std::string &desc) {
  Bytes b = seed.bytes;
  switch (m.below(10)) {
  case 0:
  case 1: {
    desc = m.havoc(b, seed.fields);
    if (m.chance(60)) {
      fixCrc(b);
      desc += " (crc fixed)";
    }
    return b;
  }
  case 2: {
    const Field &f = m.pick(seed.fields);
    desc = m.setField(b, f);
    if (f.offset + 4 != b.size() && m.chance(85)) {
      fixCrc(b);
      desc += " (crc fixed)";
    }
    return b;
  }
  case 3: {
    std::vector<std::string> sections = seed.sections;
    size_t i = 1 + m.below(4);
    Bytes s = toBytes(sections[i]);
    desc = "section " + std::to_string(i) + ": " +
           (m.chance(30) ? (s.clear(), std::string("emptied"))
                         : m.mutateBytes(s, {}));
    sections[i] = toString(s);
    if (m.chance(30)) {
      sections[1].clear();
      sections[2].clear();
      desc += "; no cubin nor ptx";
    }
    return samples::rawBundle(sections);
  }
  case 4:
  case 5: {
    std::vector<std::string> sections = seed.sections;
    json plan = seed.plan;
    desc = "plan: " + mutatePlanStructure(m, plan);
    sections[0] = plan.dump();
    return samples::rawBundle(sections);
  }
  default: {
    std::vector<std::string> sections = seed.sections;
    sections[0] = m.mutateJson(seed.plan, kPlanWords, desc, m.chance(20));
    desc = "plan " + desc;
    return samples::rawBundle(sections);
  }
  }
}

// What validatePlan promises about sizes, recomputed without wrap-around:
// each GEMM reads and writes exactly its operands, each launch is within
// CUDA's limits.
void checkPlanSizes(const Plan &plan) {
  using u128 = unsigned __int128;
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    std::string where = "step " + std::to_string(i);
    if (const auto *g = std::get_if<GemmStep>(&plan.steps[i])) {
      auto numel = [&](int64_t id) {
        return u128(numElements(plan.buffers[static_cast<size_t>(id)].shape));
      };
      FUZZ_SANE(u128(g->m) * u128(g->k) == numel(g->a) &&
                    u128(g->k) * u128(g->n) == numel(g->b) &&
                    u128(g->m) * u128(g->n) == numel(g->c),
                where + ": the GEMM's m, n, k = " + std::to_string(g->m) +
                    ", " + std::to_string(g->n) + ", " + std::to_string(g->k) +
                    " do not match its operands");
    } else if (const auto *k = std::get_if<KernelStep>(&plan.steps[i])) {
      u128 threads = u128(k->block[0]) * k->block[1] * k->block[2];
      FUZZ_SANE(threads >= 1 && threads <= 1024 && k->block[2] <= 64,
                where + ": a block of " + std::to_string(k->block[0]) + "x" +
                    std::to_string(k->block[1]) + "x" +
                    std::to_string(k->block[2]) + " threads");
    }
  }
}

} // namespace

TEST(LoaderFuzz, Bundle) {
  TempDir dir;
  Seed seed = makeSeed();
  ASSERT_EQ(samples::rawBundle(seed.sections), seed.bytes);
  std::string path = dir.file("mutant.mindbundle");
  Tally tally("readBundle");
  forEachMutant(
      0xB0DD1EF022ULL, {{"seed", seed.bytes}}, {seed.marks}, 96, 8000,
      [&](Mutator &m, std::string &desc) {
        return mutateBundle(m, seed, desc);
      },
      [&](size_t index, uint64_t s, const std::string &desc, const Bytes &b) {
        writeFile(path, b);
        tally.run<BundleError>(index, s, desc, path, b.size(), [&] {
          Bundle loaded = readBundle(path);
          checkPlanSizes(loaded.plan);
          // A bundle that loads is valid: it re-serializes and reads back.
          try {
            readBundleFromBytes(serializeBundle(loaded), "again");
          } catch (const BundleError &e) {
            throw SanityError(std::string("it does not round-trip: ") +
                              e.what());
          }
        });
      });
  tally.print(45);
}
