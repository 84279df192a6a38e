#pragma once
// The CLI's side of the daemon's TCP ingress: connect, and the one-line
// request/one-line reply exchange the control operations use.

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace volley::cli {

class parsed_options;

// The daemon cannot be reached, or the conversation broke off.
class connection_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

struct ingress_endpoint {
  std::string host = "127.0.0.1";
  uint16_t port = 7400;
  std::string token; // $VOLLEY_TOKEN: sent first when the daemon sets ingress.token

  std::string describe() const; // "127.0.0.1:7400"
};

// --host/--port, defaulting to the daemon's default ingress; the token
// comes from the environment so that it never shows in `ps`.
ingress_endpoint endpoint_from_options(const parsed_options& options);

// An open TCP connection; closes on destruction.
class ingress_socket {
public:
  // Throws connection_error with what to check (daemon running? address?).
  // With a token, authenticates before returning.
  static ingress_socket connect(const ingress_endpoint& endpoint, std::chrono::milliseconds timeout);

  ingress_socket(ingress_socket&& other) noexcept;
  ingress_socket& operator=(ingress_socket&& other) noexcept;
  ingress_socket(const ingress_socket&) = delete;
  ingress_socket& operator=(const ingress_socket&) = delete;
  ~ingress_socket();

  int fd() const { return fd_; }

private:
  explicit ingress_socket(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// Sends `line` plus '\n' and returns the daemon's one reply line (without
// the '\n'). Throws connection_error on failure or after `timeout`.
std::string exchange_line(const ingress_endpoint& endpoint, std::string_view line,
                          std::chrono::milliseconds timeout);

} // namespace volley::cli
