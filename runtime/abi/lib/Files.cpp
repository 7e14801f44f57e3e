//===- Files.cpp - what a path names, said clearly ------------------------===//

#include "mind/abi/Files.h"

#include <filesystem>
#include <system_error>

namespace fs = std::filesystem;

namespace {

std::string fileProblem(const std::string &path, const std::string &kind,
                        bool acceptStreams) {
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (st.type() == fs::file_type::not_found)
    return path + ": no such file";
  if (ec)
    return path + ": cannot access: " + ec.message();
  if (st.type() == fs::file_type::directory)
    return path + ": is a directory, expected a " + kind + " file";
  if (st.type() == fs::file_type::regular)
    return "";
  bool stream = st.type() == fs::file_type::fifo ||
                st.type() == fs::file_type::character ||
                st.type() == fs::file_type::block;
  if (acceptStreams && stream)
    return "";
  return path + ": not a regular file, expected a " + kind + " file";
}

} // namespace

std::string mind::runtime::regularFileProblem(const std::string &path,
                                              const std::string &kind) {
  return fileProblem(path, kind, /*acceptStreams=*/false);
}

std::string mind::runtime::inputFileProblem(const std::string &path,
                                            const std::string &kind) {
  return fileProblem(path, kind, /*acceptStreams=*/true);
}

bool mind::runtime::sameFile(const std::string &a, const std::string &b) {
  std::error_code ec;
  bool same = fs::equivalent(a, b, ec);
  return !ec && same;
}
