#include "tests/support/line_client.hpp"

#include <cerrno>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>

namespace volley::test {

line_client::line_client(uint16_t port) : socket_(port, "line client") {}

void line_client::close() { socket_.close(); }

void line_client::send_raw(const std::string& bytes) { socket_.send_all(bytes); }

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
    if (left.count() <= 0 || socket_.fd() < 0)
      return std::nullopt;
    pollfd p{socket_.fd(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
      continue;
    char buf[65536];
    auto n = ::recv(socket_.fd(), buf, sizeof(buf), 0);
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
    pollfd p{socket_.fd(), static_cast<short>(POLLIN | (sent < out.size() ? POLLOUT : 0)), 0};
    if (::poll(&p, 1, 100) <= 0)
      continue;
    if ((p.revents & POLLOUT) && sent < out.size()) {
      auto n = ::send(socket_.fd(), out.data() + sent, std::min<size_t>(out.size() - sent, 1 << 16),
                      MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0)
        sent += static_cast<size_t>(n);
    }
    if (p.revents & POLLIN) {
      char buf[65536];
      auto n = ::recv(socket_.fd(), buf, sizeof(buf), MSG_DONTWAIT);
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
