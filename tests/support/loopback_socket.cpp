#include "tests/support/loopback_socket.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

namespace volley::test {

loopback_socket::loopback_socket(uint16_t port, std::string who) : who_(std::move(who)) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0)
    throw std::runtime_error(who_ + ": no socket: " + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int err = errno;
    close();
    throw std::runtime_error(who_ + ": cannot connect to 127.0.0.1:" + std::to_string(port) + ": " +
                             std::strerror(err));
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

loopback_socket::~loopback_socket() { close(); }

void loopback_socket::close() {
  if (fd_ >= 0)
    ::close(fd_);
  fd_ = -1;
}

void loopback_socket::send_all(const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    auto n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      throw std::runtime_error(who_ + ": send failed: " + std::strerror(errno));
    }
    off += static_cast<size_t>(n);
  }
}

} // namespace volley::test
