#include "cli/ingress_client.hpp"

#include "protocol/json_text.hpp"

#include "cli/command_line.hpp"

#include <cstdlib>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace volley::cli {

namespace {

using steady = std::chrono::steady_clock;

struct addrinfo_deleter {
  void operator()(addrinfo* info) const { freeaddrinfo(info); }
};

int remaining_ms(steady::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

// Waits for `events` on `fd` until the deadline; false on timeout.
bool wait_for(int fd, short events, steady::time_point deadline) {
  for (;;) {
    pollfd entry{fd, events, 0};
    const int ready = ::poll(&entry, 1, remaining_ms(deadline));
    if (ready > 0)
      return true;
    if (ready == 0)
      return false;
    if (errno != EINTR)
      return false;
  }
}

// Connects one resolved address without blocking past the deadline.
// Returns the descriptor (still non-blocking) or -1 with errno set.
int connect_one(const addrinfo& address, steady::time_point deadline) {
  const int fd =
    ::socket(address.ai_family, address.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, address.ai_protocol);
  if (fd < 0)
    return -1;
  if (::connect(fd, address.ai_addr, address.ai_addrlen) == 0)
    return fd;
  if (errno == EINPROGRESS && wait_for(fd, POLLOUT, deadline)) {
    int error = 0;
    socklen_t length = sizeof error;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
    if (error == 0)
      return fd;
    errno = error;
  } else if (errno == EINPROGRESS) {
    errno = ETIMEDOUT;
  }
  const int saved = errno;
  ::close(fd);
  errno = saved;
  return -1;
}

void send_all(int fd, std::string_view data, steady::time_point deadline, const ingress_endpoint& endpoint) {
  while (!data.empty()) {
    const ssize_t sent = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (sent > 0) {
      data.remove_prefix(static_cast<size_t>(sent));
    } else if (sent < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_for(fd, POLLOUT, deadline))
        throw connection_error("timed out sending to the daemon at " + endpoint.describe());
    } else {
      throw connection_error("lost the connection to the daemon at " + endpoint.describe() + ": " +
                             std::strerror(errno));
    }
  }
}

} // namespace

std::string ingress_endpoint::describe() const {
  // Bracket IPv6 literals so the port stays readable.
  if (host.find(':') != std::string::npos)
    return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

ingress_endpoint endpoint_from_options(const parsed_options& options) {
  ingress_endpoint endpoint;
  if (auto host = options.value("host")) {
    if (host->empty())
      throw usage_error("--host must not be empty");
    endpoint.host = *host;
  }
  if (auto port = options.value("port"))
    endpoint.port = parse_port(*port, "--port", false);
  if (const char* token = std::getenv("VOLLEY_TOKEN"))
    endpoint.token = token;
  return endpoint;
}

namespace {

// One reply line (without its '\n'); throws connection_error otherwise.
std::string read_reply(int fd, steady::time_point deadline, const ingress_endpoint& endpoint,
                       std::chrono::milliseconds timeout) {
  std::string reply;
  char buffer[65536];
  for (;;) {
    if (auto newline = reply.find('\n'); newline != std::string::npos) {
      reply.resize(newline);
      return reply;
    }
    const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
    if (got > 0) {
      reply.append(buffer, static_cast<size_t>(got));
    } else if (got == 0) {
      throw connection_error("the daemon at " + endpoint.describe() +
                             " closed the connection without answering");
    } else if (errno == EAGAIN || errno == EINTR) {
      if (!wait_for(fd, POLLIN, deadline))
        throw connection_error("no answer from the daemon at " + endpoint.describe() + " within " +
                               std::to_string(timeout.count() / 1000) +
                               " s (is it overloaded? retry with a larger --timeout)");
    } else {
      throw connection_error("lost the connection to the daemon at " + endpoint.describe() + ": " +
                             std::strerror(errno));
    }
  }
}

} // namespace

ingress_socket ingress_socket::connect(const ingress_endpoint& endpoint, std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(endpoint.port);
  if (int rc = ::getaddrinfo(endpoint.host.c_str(), service.c_str(), &hints, &found); rc != 0)
    throw connection_error("cannot resolve host '" + endpoint.host + "': " + gai_strerror(rc) +
                           " (check --host)");
  std::unique_ptr<addrinfo, addrinfo_deleter> addresses(found);

  const auto deadline = steady::now() + timeout;
  int last_error = 0;
  for (const addrinfo* address = found; address; address = address->ai_next) {
    const int fd = connect_one(*address, deadline);
    if (fd >= 0) {
      const int one = 1; // lines are small: don't let Nagle hold them back
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      ingress_socket socket(fd);
      if (!endpoint.token.empty()) {
        std::string auth = R"({"op":"auth","token":)";
        append_json_string(auth, endpoint.token);
        auth += "}\n";
        send_all(fd, auth, deadline, endpoint);
        auto reply = read_reply(fd, deadline, endpoint, timeout);
        if (reply.rfind(R"({"ok":true)", 0) != 0)
          throw connection_error("the daemon at " + endpoint.describe() +
                                 " refused the token in VOLLEY_TOKEN: " + reply);
      }
      return socket;
    }
    last_error = errno;
  }
  throw connection_error("cannot connect to the daemon at " + endpoint.describe() + ": " +
                         std::strerror(last_error) +
                         " (is volleyd running? check --host/--port and the ingress section "
                         "of its config)");
}

ingress_socket::ingress_socket(ingress_socket&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

ingress_socket& ingress_socket::operator=(ingress_socket&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

ingress_socket::~ingress_socket() {
  if (fd_ >= 0)
    ::close(fd_);
}

std::string exchange_line(const ingress_endpoint& endpoint, std::string_view line,
                          std::chrono::milliseconds timeout) {
  const auto deadline = steady::now() + timeout;
  ingress_socket socket = ingress_socket::connect(endpoint, timeout);
  std::string request(line);
  request += '\n';
  send_all(socket.fd(), request, deadline, endpoint);

  return read_reply(socket.fd(), deadline, endpoint, timeout);
}

} // namespace volley::cli
