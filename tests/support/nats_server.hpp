#pragma once
// Test support: a nats-server (JetStream) of the test's own, on a loopback port
// that stays the same across stop/start, with its store in the test's folder, for
// the tests that stop, kill or restart the bus. The binary is the one
// scripts/test_servers.sh found (AF_TEST_NATS_SERVER), else `nats-server` on PATH.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "support/child_process.hpp"

namespace af::testing {

// A port nobody listens on right now (bound, read, released).
inline int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

inline std::string nats_server_binary() {
  const char* b = std::getenv("AF_TEST_NATS_SERVER");
  if (b && *b) return b;
  for (const char* p : {"/usr/bin/nats-server", "/usr/sbin/nats-server", "/usr/local/bin/nats-server"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return {};
}

class NatsServer {
 public:
  // Does not start it; `dir` holds the store and the logs.
  explicit NatsServer(std::string dir) : dir_(std::move(dir)), port_(free_loopback_port()) {
    std::filesystem::create_directories(dir_);
  }
  ~NatsServer() { kill(); }

  // Starts it and waits (up to 10 s) until it accepts connections.
  bool start() {
    const std::string bin = nats_server_binary();
    if (bin.empty()) return false;
    ++starts_;
    const std::string log = dir_ + "/server" + std::to_string(starts_);
    process_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{bin, "-a", "127.0.0.1", "-p", std::to_string(port_), "-js", "-sd", dir_ + "/store"},
        log + ".out", log + ".err");
    return wait_until([&] { return process_->running() && accepts(); }, std::chrono::seconds(10));
  }
  void stop() { end(SIGTERM); }
  void kill() { end(SIGKILL); }
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }

 private:
  void end(int sig) {
    if (process_ && process_->running()) {
      process_->signal(sig);
      process_->wait(std::chrono::seconds(10));
    }
  }
  bool accepts() const {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port_));
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
  }

  std::string dir_;
  int port_;
  int starts_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace af::testing
