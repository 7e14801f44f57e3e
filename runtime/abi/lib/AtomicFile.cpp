//===- AtomicFile.cpp - crash-safe file replacement -----------------------===//

#include "mind/abi/AtomicFile.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace mind::runtime;

void mind::runtime::writeFileAtomically(
    const std::string &path, const std::vector<FilePiece> &pieces,
    unsigned mode, const std::function<void(const std::string &)> &raise) {
  auto sysError = [](const std::string &what) {
    return what + ": " + std::strerror(errno);
  };
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    raise(sysError(tmp + ": cannot create"));
  auto failTmp = [&](const std::string &msg) {
    ::close(fd);
    ::unlink(tmp.c_str());
    raise(msg);
  };
  for (const FilePiece &piece : pieces) {
    auto *p = static_cast<const char *>(piece.data);
    size_t n = piece.size;
    while (n > 0) {
      ssize_t w = ::write(fd, p, n);
      if (w < 0) {
        if (errno == EINTR)
          continue;
        failTmp(sysError(tmp + ": write failed"));
      }
      p += w;
      n -= static_cast<size_t>(w);
    }
  }
  // O_CREAT's mode is masked by the umask; the caller's mode is meant.
  if (::fchmod(fd, mode) != 0)
    failTmp(sysError(tmp + ": chmod failed"));
  // The data must be durable before the rename makes it visible.
  if (::fsync(fd) != 0)
    failTmp(sysError(tmp + ": fsync failed"));
  if (::close(fd) != 0) {
    std::string msg = sysError(tmp + ": close failed");
    ::unlink(tmp.c_str());
    raise(msg);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string msg = sysError(path + ": rename from " + tmp + " failed");
    ::unlink(tmp.c_str());
    raise(msg);
  }
  // fsync the directory so the rename itself survives a crash.
  size_t slash = path.find_last_of('/');
  std::string dir = slash == std::string::npos ? "."
                    : slash == 0               ? "/"
                                               : path.substr(0, slash);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    raise(sysError(dir + ": cannot open directory to fsync"));
  int rc = ::fsync(dfd);
  std::string msg = sysError(dir + ": directory fsync failed");
  ::close(dfd);
  if (rc != 0)
    raise(msg);
}
