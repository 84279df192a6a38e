#include "tests/support/line_client.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace volley::test {

line_client::line_client(uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port));
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

line_client::~line_client() { close(); }

void line_client::close() {
  if (fd_ >= 0)
    ::close(fd_);
  fd_ = -1;
}

void line_client::send_raw(const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    auto n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      throw std::runtime_error("send failed");
    }
    off += static_cast<size_t>(n);
  }
}

std::optional<std::string> line_client::read_line(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
      auto line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || fd_ < 0)
      return std::nullopt;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
      continue;
    char buf[65536];
    auto n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0)
      return std::nullopt;
    buffer_.append(buf, static_cast<size_t>(n));
  }
}

std::vector<std::string> line_client::exchange(const std::vector<std::string>& lines,
                                               std::chrono::milliseconds timeout) {
  std::string out;
  for (const auto& l : lines) {
    out += l;
    out += '\n';
  }
  std::vector<std::string> answers;
  size_t sent = 0;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (answers.size() < lines.size() && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd_, static_cast<short>(POLLIN | (sent < out.size() ? POLLOUT : 0)), 0};
    if (::poll(&p, 1, 100) <= 0)
      continue;
    if ((p.revents & POLLOUT) && sent < out.size()) {
      auto n = ::send(fd_, out.data() + sent, std::min<size_t>(out.size() - sent, 1 << 16),
                      MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0)
        sent += static_cast<size_t>(n);
    }
    if (p.revents & POLLIN) {
      char buf[65536];
      auto n = ::recv(fd_, buf, sizeof(buf), MSG_DONTWAIT);
      if (n == 0)
        break;
      if (n > 0)
        buffer_.append(buf, static_cast<size_t>(n));
      size_t nl;
      while ((nl = buffer_.find('\n')) != std::string::npos) {
        answers.push_back(buffer_.substr(0, nl));
        buffer_.erase(0, nl + 1);
      }
    }
  }
  return answers;
}

} // namespace volley::test
