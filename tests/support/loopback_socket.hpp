#pragma once
// The tests' client end of a TCP connection to 127.0.0.1: connect, send
// everything, close. The line and HTTP clients speak their protocols over it.

#include <cstdint>
#include <string>

namespace volley::test {

class loopback_socket {
public:
  // Connects to 127.0.0.1:port (TCP_NODELAY); throws std::runtime_error
  // naming `who` and the reason when it cannot.
  loopback_socket(uint16_t port, std::string who);
  ~loopback_socket();
  loopback_socket(const loopback_socket&) = delete;
  loopback_socket& operator=(const loopback_socket&) = delete;

  int fd() const { return fd_; }
  // Sends all of `bytes` (retrying on EINTR); throws when the peer is gone.
  void send_all(const std::string& bytes);
  void close();

private:
  int fd_ = -1;
  std::string who_;
};

} // namespace volley::test
