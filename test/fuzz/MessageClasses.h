//===- MessageClasses.h - group fuzz outcomes by message --------*- C++ -*-===//
//
// The fuzz tests print, per stage, how many inputs passed and what the code
// said about the others, grouped into classes: a message with its numbers,
// types and locations blanked out, so "must have shape [3, 4], got [3, 5]"
// and "must have shape [0], got [2]" count as one class.
//
//===----------------------------------------------------------------------===//

#ifndef MIND_TEST_FUZZ_MESSAGECLASSES_H
#define MIND_TEST_FUZZ_MESSAGECLASSES_H

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <regex>
#include <string>
#include <vector>

namespace mind::fuzz {

class MessageClasses {
public:
  /// Records one outcome of `stage`: "" for success, else the message.
  void add(const std::string &stage, const std::string &message) {
    Stage &s = stages[stage];
    ++s.tried;
    if (message.empty()) {
      ++s.passed;
      return;
    }
    auto [it, inserted] = s.classes.try_emplace(classOf(message));
    if (inserted)
      it->second.example = message.substr(0, 300);
    ++it->second.count;
  }

  /// One block per stage: tried/passed, then the `top` largest classes with
  /// their count and one example.
  void print(std::FILE *out, size_t top = 12) const {
    for (const auto &[name, s] : stages) {
      std::fprintf(out, "%-28s %7lld tried, %7lld passed, %7lld refused\n",
                   name.c_str(), static_cast<long long>(s.tried),
                   static_cast<long long>(s.passed),
                   static_cast<long long>(s.tried - s.passed));
      std::vector<std::pair<int64_t, std::string>> order;
      for (const auto &[cls, c] : s.classes)
        order.push_back({-c.count, cls});
      std::sort(order.begin(), order.end());
      for (size_t i = 0; i < order.size() && i < top; ++i) {
        const Class &c = s.classes.at(order[i].second);
        std::fprintf(out, "    %6lld x %s\n", static_cast<long long>(c.count),
                     c.example.c_str());
      }
      if (order.size() > top)
        std::fprintf(out, "    ... and %zu more classes\n", order.size() - top);
    }
  }

  /// The message with locations, paths, types and numbers blanked out.
  static std::string classOf(const std::string &message) {
    static const std::regex loc(R"(loc\([^)]*\)|^[^ :]*:\d+:\d+: )");
    static const std::regex type(R"((tensor|memref)<[^>]*>)");
    static const std::regex path(R"((/[^ :'"]+)+)");
    static const std::regex number(R"(-?\d+(\.\d+)?([eE][-+]?\d+)?)");
    std::string s = std::regex_replace(message, loc, "");
    s = std::regex_replace(s, type, "$1<T>");
    s = std::regex_replace(s, path, "PATH");
    s = std::regex_replace(s, number, "N");
    return s.substr(0, 200);
  }

private:
  struct Class {
    int64_t count = 0;
    std::string example;
  };
  struct Stage {
    int64_t tried = 0, passed = 0;
    std::map<std::string, Class> classes;
  };
  std::map<std::string, Stage> stages;
};

} // namespace mind::fuzz

#endif // MIND_TEST_FUZZ_MESSAGECLASSES_H
