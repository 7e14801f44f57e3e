//===- Files.cpp - what an input path names, said clearly -----------------===//

#include "Files.h"

#include <cerrno>
#include <cstring>
#include <sys/stat.h>

std::string
mind::runtime::data_detail::inputFileProblem(const std::string &path,
                                             const std::string &kind) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT)
      return path + ": no such file";
    return path + ": cannot open: " + std::strerror(errno);
  }
  if (S_ISDIR(st.st_mode))
    return path + ": is a directory, expected a " + kind + " file";
  return "";
}
