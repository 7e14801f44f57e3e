//===- FuzzSupport.h - seeded mutation fuzzing of loaders -------*- C++ -*-===//
//
// The harness shared by the loader fuzz tests: seeded mutators (bytes, binary
// header fields, JSON values) and a tally that feeds each mutant to a loader
// and judges the outcome. A loader must either load the mutant (and then pass
// the test's cheap sanity checks) or throw the project's error type with a
// message naming the file. Anything else — another exception type, an empty
// or nameless message, an allocation far beyond the file's size, a crash or a
// hang — is a failure reported with the mutant's index, seed and description.
//
// Every mutant is a pure function of (test seed, index), so each run tries
// exactly the same inputs; MIND_FUZZ_ONLY=<index> runs that one mutant alone.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_TEST_FUZZ_FUZZSUPPORT_H
#define MIND_TEST_FUZZ_FUZZSUPPORT_H

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <new>
#include <random>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <vector>

namespace mind::fuzz {

using Bytes = std::vector<uint8_t>;

uint64_t splitmix64(uint64_t x);

/// The seed of mutant `index` of a test seeded with `testSeed`.
inline uint64_t mutantSeed(uint64_t testSeed, uint64_t index) {
  return splitmix64(testSeed ^ splitmix64(index + 1));
}

/// A binary field a mutator may overwrite: offset and width (4 or 8 bytes).
struct Field {
  size_t offset;
  int width;
  const char *name;
};

/// Seeded mutations. Each returns a short description of what it did.
class Mutator {
public:
  explicit Mutator(uint64_t seed) : rng(seed) {}

  size_t below(size_t n) { return n ? static_cast<size_t>(rng() % n) : 0; }
  bool chance(unsigned percent) { return below(100) < percent; }
  template <typename T> const T &pick(const std::vector<T> &v) {
    return v[below(v.size())];
  }

  /// One random byte-level mutation: bit flip, interesting byte, truncation,
  /// inserted / deleted / duplicated bytes, appended garbage, or a field
  /// overwritten with an interesting value.
  std::string mutateBytes(Bytes &b, const std::vector<Field> &fields);
  /// 1-4 byte mutations in a row.
  std::string havoc(Bytes &b, const std::vector<Field> &fields);
  /// Overwrites `f` with an interesting value (sizes relative to `fileSize`
  /// and to the field's current value included).
  std::string setField(Bytes &b, const Field &f);

  /// A mutated JSON text of `doc`: one value replaced by a huge, negative,
  /// non-finite or unrepresentable number, a value of the wrong type, a
  /// string from `dictionary`, a deep nesting or a copy of another value; or
  /// a member deleted, renamed, duplicated or added. `pretty` indents.
  std::string mutateJson(const nlohmann::json &doc,
                         const std::vector<std::string> &dictionary,
                         std::string &desc, bool pretty = false);

  std::mt19937_64 rng;

private:
  nlohmann::json::json_pointer randomPath(const nlohmann::json &doc);
};

/// Thrown by a test's sanity check when a mutant loaded but the result is
/// wrong (e.g. a tensor's bytes are not the file's).
class SanityError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};
#define FUZZ_SANE(cond, what)                                                  \
  do {                                                                         \
    if (!(cond))                                                               \
      throw ::mind::fuzz::SanityError(what);                                   \
  } while (0)

/// Arms the crash/hang report and the allocation cap for one load: a
/// SIGSEGV/SIGABRT/... or a load running past `seconds` prints `what`
/// before the process dies; an allocation larger than 256 MiB + 64 x
/// `fileBytes` throws std::bad_alloc and is remembered.
class LoadGuard {
public:
  LoadGuard(const std::string &what, size_t fileBytes, unsigned seconds = 10);
  ~LoadGuard();
  /// The size of an allocation refused during this load (0: none).
  size_t hugeRequest() const;
};

/// Outcomes of one loader over many mutants, and its message classes.
class Tally {
public:
  explicit Tally(std::string title) : title(std::move(title)) {}

  /// Runs `load` on mutant `index` (written to `path`) and judges it:
  /// success, an `Error` naming `path`, or a failure.
  template <typename Error, typename Load>
  void run(size_t index, uint64_t seed, const std::string &desc,
           const std::string &path, size_t fileBytes, Load &&load);

  /// The summary table: counts, then the `maxClasses` most frequent message
  /// classes (numbers and quoted names stripped), each with one example.
  void print(size_t maxClasses) const;
  size_t failures() const { return failureCount; }
  size_t tried = 0, loaded = 0, rejected = 0;

private:
  void reject(const std::string &message, const std::string &path,
              const std::string &where);
  void fail(const std::string &where, const std::string &problem);
  std::string title;
  struct Class {
    size_t count = 0;
    std::string example;
  };
  std::map<std::string, Class> classes;
  size_t failureCount = 0;
  std::vector<std::string> failureList;
};

/// "what(): <message>" of any exception type, for leaked ones.
std::string describeLeak(const std::type_info &type, const char *what);
/// The message with the path, digits and quoted names made generic.
std::string messageClass(const std::string &message, const std::string &path);
/// MIND_FUZZ_ONLY=<index>: only that mutant runs.
bool selected(size_t index);
/// A private directory (mkdtemp) removed, with its files, on destruction.
class TempDir {
public:
  TempDir();
  ~TempDir();
  const std::string &path() const { return dir; }
  std::string file(const std::string &name) const { return dir + "/" + name; }

private:
  std::string dir;
};
void writeFile(const std::string &path, const Bytes &bytes);
Bytes readFile(const std::string &path);
inline Bytes toBytes(const std::string &s) { return Bytes(s.begin(), s.end()); }
inline std::string toString(const Bytes &b) {
  return std::string(b.begin(), b.end());
}
/// `s` with ill-formed UTF-8 bytes replaced by '?' (a string that must stay
/// valid JSON text after a byte mutation).
std::string sanitizeUtf8(const std::string &s);

/// Where to truncate a file of `size` bytes: every offset below `dense`,
/// each of `marks` (field and section boundaries) and its neighbours, and
/// the last 8 bytes. Sorted, each once.
std::vector<size_t> truncationPoints(size_t size, size_t dense,
                                     const std::vector<size_t> &marks);

/// Drives one test: first every truncation of every seed at its
/// `truncationPoints`, then `random` mutants made by `make(Mutator &, desc)`
/// from seed mutantSeed(testSeed, index). `feed(index, seed, desc, bytes)`
/// loads each one (seed 0 for the truncations).
template <typename Make, typename Feed>
void forEachMutant(uint64_t testSeed,
                   const std::vector<std::pair<std::string, Bytes>> &seeds,
                   const std::vector<std::vector<size_t>> &marks, size_t dense,
                   size_t random, Make &&make, Feed &&feed) {
  size_t index = 0;
  for (size_t s = 0; s < seeds.size(); ++s)
    for (size_t cut : truncationPoints(
             seeds[s].second.size(), dense,
             s < marks.size() ? marks[s] : std::vector<size_t>{})) {
      if (selected(index)) {
        Bytes b(seeds[s].second.begin(), seeds[s].second.begin() + cut);
        feed(index, 0,
             seeds[s].first + ": truncate to " + std::to_string(cut) + " bytes",
             b);
      }
      ++index;
    }
  for (size_t i = 0; i < random; ++i, ++index) {
    if (!selected(index))
      continue;
    uint64_t seed = mutantSeed(testSeed, index);
    Mutator m(seed);
    std::string desc;
    Bytes b = make(m, desc);
    feed(index, seed, desc, b);
  }
}

template <typename Error, typename Load>
void Tally::run(size_t index, uint64_t seed, const std::string &desc,
                const std::string &path, size_t fileBytes, Load &&load) {
  char id[64];
  std::snprintf(id, sizeof id, "mutant #%zu (seed 0x%016llx)", index,
                static_cast<unsigned long long>(seed));
  std::string where = "[" + title + "] " + id + ": " + desc;
  ++tried;
  LoadGuard guard(where, fileBytes);
  std::string problem;
  try {
    load();
    ++loaded;
  } catch (const SanityError &e) {
    problem = std::string("loaded, but ") + e.what();
  } catch (const Error &e) {
    reject(e.what(), path, where);
  } catch (const std::exception &e) {
    problem = describeLeak(typeid(e), e.what());
  } catch (...) {
    problem = "threw something that is not a std::exception";
  }
  if (size_t huge = guard.hugeRequest())
    problem += (problem.empty() ? "" : "; ") +
               std::string("tried to allocate ") + std::to_string(huge) +
               " bytes for a file of " + std::to_string(fileBytes);
  if (!problem.empty())
    fail(where, problem);
}

} // namespace mind::fuzz

#endif // MIND_TEST_FUZZ_FUZZSUPPORT_H
