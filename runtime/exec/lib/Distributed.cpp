//===- Distributed.cpp - data-parallel launch environment -----------------===//

#include "mind/exec/Distributed.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <thread>

using namespace mind::runtime;

namespace {
int parseInt(const char *name, const char *text, int lo, int hi) {
  char *end = nullptr;
  errno = 0;
  long v = std::strtol(text, &end, 10);
  if (errno || end == text || *end || v < lo || v > hi)
    throw DistError(std::string(name) + "=" + text + ": expected an integer in [" +
                    std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return static_cast<int>(v);
}

/// Closes the descriptor when it goes out of scope.
struct Fd {
  int fd = -1;
  explicit Fd(int fd) : fd(fd) {}
  ~Fd() {
    if (fd >= 0)
      ::close(fd);
  }
  Fd(const Fd &) = delete;
  Fd &operator=(const Fd &) = delete;
};

std::string sysError(const std::string &what) {
  return what + ": " + std::strerror(errno);
}

void sendAll(int fd, const void *data, size_t n) {
  const char *p = static_cast<const char *>(data);
  while (n > 0) {
    ssize_t k = ::send(fd, p, n, MSG_NOSIGNAL);
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0)
      throw DistError(sysError("rendezvous: send"));
    p += k;
    n -= static_cast<size_t>(k);
  }
}

void recvAll(int fd, void *data, size_t n) {
  char *p = static_cast<char *>(data);
  while (n > 0) {
    ssize_t k = ::recv(fd, p, n, 0);
    if (k < 0 && errno == EINTR)
      continue;
    if (k == 0)
      throw DistError("rendezvous: rank 0 closed the connection early");
    if (k < 0)
      throw DistError(sysError("rendezvous: recv"));
    p += k;
    n -= static_cast<size_t>(k);
  }
}

std::string serve(const DistEnv &env, const std::string &payload,
                  int timeoutSeconds) {
  Fd listener(::socket(AF_INET, SOCK_STREAM, 0));
  if (listener.fd < 0)
    throw DistError(sysError("rendezvous: socket"));
  int one = 1;
  ::setsockopt(listener.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  addr.sin_port = htons(static_cast<uint16_t>(env.rendezvousPort));
  if (::bind(listener.fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr))
    throw DistError(sysError("rendezvous: rank 0 cannot listen on port " +
                             std::to_string(env.rendezvousPort) +
                             " (set MIND_RENDEZVOUS_PORT to a free one)"));
  if (::listen(listener.fd, env.worldSize))
    throw DistError(sysError("rendezvous: listen"));
  uint64_t size = payload.size();
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::seconds(timeoutSeconds);
  for (int served = 1; served < env.worldSize; ++served) {
    pollfd p{listener.fd, POLLIN, 0};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0)
      throw DistError("rendezvous: rank 0 waited " +
                      std::to_string(timeoutSeconds) + " s and saw " +
                      std::to_string(served - 1) + " of " +
                      std::to_string(env.worldSize - 1) +
                      " other ranks connect");
    Fd conn(::accept(listener.fd, nullptr, nullptr));
    if (conn.fd < 0)
      throw DistError(sysError("rendezvous: accept"));
    sendAll(conn.fd, &size, sizeof size);
    sendAll(conn.fd, payload.data(), payload.size());
  }
  return payload;
}

std::string fetch(const DistEnv &env, int timeoutSeconds) {
  addrinfo hints{}, *found = nullptr;
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  std::string port = std::to_string(env.rendezvousPort);
  if (int rc = ::getaddrinfo(env.masterAddr.c_str(), port.c_str(), &hints,
                             &found))
    throw DistError("rendezvous: MASTER_ADDR=" + env.masterAddr + ": " +
                    ::gai_strerror(rc));
  std::unique_ptr<addrinfo, void (*)(addrinfo *)> guard(found, ::freeaddrinfo);
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::seconds(timeoutSeconds);
  for (;;) {
    Fd conn(::socket(AF_INET, SOCK_STREAM, 0));
    if (conn.fd < 0)
      throw DistError(sysError("rendezvous: socket"));
    if (::connect(conn.fd, found->ai_addr, found->ai_addrlen) == 0) {
      uint64_t size = 0;
      recvAll(conn.fd, &size, sizeof size);
      if (size > (1u << 20))
        throw DistError("rendezvous: implausible payload size from rank 0");
      std::string payload(size, '\0');
      recvAll(conn.fd, payload.data(), size);
      return payload;
    }
    if (std::chrono::steady_clock::now() > deadline)
      throw DistError("rendezvous: rank " + std::to_string(env.rank) +
                      " could not reach rank 0 at " + env.masterAddr + ":" +
                      port + " within " + std::to_string(timeoutSeconds) +
                      " s");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}
} // namespace

DistEnv mind::runtime::distEnvFromEnvironment(
    const std::function<const char *(const char *)> &get) {
  DistEnv env;
  const char *world = get("WORLD_SIZE");
  if (!world)
    return env;
  env.worldSize = parseInt("WORLD_SIZE", world, 1, 1 << 16);
  const char *rank = get("RANK");
  if (!rank)
    throw DistError("WORLD_SIZE is set but RANK is not (launch with torchrun "
                    "or set both)");
  env.rank = parseInt("RANK", rank, 0, env.worldSize - 1);
  const char *local = get("LOCAL_RANK");
  env.localRank = local ? parseInt("LOCAL_RANK", local, 0, 1 << 16) : env.rank;
  if (const char *addr = get("MASTER_ADDR"))
    env.masterAddr = addr;
  if (const char *port = get("MASTER_PORT"))
    env.masterPort = parseInt("MASTER_PORT", port, 1, 65534);
  env.rendezvousPort = env.masterPort + 1;
  if (const char *port = get("MIND_RENDEZVOUS_PORT"))
    env.rendezvousPort = parseInt("MIND_RENDEZVOUS_PORT", port, 1, 65535);
  return env;
}

std::string mind::runtime::shareFromRankZero(const DistEnv &env,
                                             const std::string &payload,
                                             int timeoutSeconds) {
  if (!env.distributed())
    return payload;
  return env.rank == 0 ? serve(env, payload, timeoutSeconds)
                       : fetch(env, timeoutSeconds);
}
