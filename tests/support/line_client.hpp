#pragma once
// A blocking TCP line client for the ingress: send lines, read answer lines.

#include "tests/support/loopback_socket.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace volley::test {

class line_client {
public:
  // Connects to 127.0.0.1:port; throws std::runtime_error on failure.
  explicit line_client(uint16_t port);
  line_client(const line_client&) = delete;
  line_client& operator=(const line_client&) = delete;

  void send_raw(const std::string& bytes);
  void send_line(const std::string& line) { send_raw(line + "\n"); }

  // The next answer line (without '\n'), or nullopt on timeout / close.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // Sends every line (while reading answers, so neither side stalls) and
  // returns the answers in order.
  std::vector<std::string> exchange(const std::vector<std::string>& lines,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(60));

  void close();

private:
  loopback_socket socket_;
  std::string buffer_;
};

} // namespace volley::test
