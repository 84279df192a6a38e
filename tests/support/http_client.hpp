#pragma once
// A blocking HTTP/1.1 client for tests: one keep-alive connection to
// 127.0.0.1, requests with any method, headers and body; replies parsed
// (Content-Length, chunked or until close). Raw access too, for what a
// well-behaved client would never send.

#include "tests/support/loopback_socket.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace volley::test {

using http_headers = std::vector<std::pair<std::string, std::string>>;

struct http_reply {
  int status = 0;
  http_headers headers; // names lowercased
  std::string body;

  // The first header with this name (any case), "" when absent.
  std::string header(std::string_view name) const;
  bool has_header(std::string_view name) const;
};

// The bytes of one request: Host and Content-Length added (Content-Length
// only when there is a body or the method is POST/PUT).
std::string http_request_text(const std::string& method, const std::string& target,
                              const std::string& body = {}, const http_headers& headers = {});

class http_client {
public:
  // Connects to 127.0.0.1:port; throws std::runtime_error when it cannot.
  explicit http_client(uint16_t port);
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  // Sends a request and reads its reply; throws std::runtime_error when no
  // whole reply arrives within `timeout` (or the server closes first).
  http_reply request(const std::string& method, const std::string& target, const std::string& body = {},
                     const http_headers& headers = {},
                     std::chrono::milliseconds timeout = std::chrono::seconds(30));
  http_reply get(const std::string& target, const http_headers& headers = {}) {
    return request("GET", target, {}, headers);
  }
  http_reply post(const std::string& target, const std::string& body, const http_headers& headers = {}) {
    return request("POST", target, body, headers);
  }
  http_reply put(const std::string& target, const std::string& body, const http_headers& headers = {}) {
    return request("PUT", target, body, headers);
  }
  http_reply del(const std::string& target, const http_headers& headers = {}) {
    return request("DELETE", target, {}, headers);
  }

  // Sends every byte; throws std::runtime_error when the connection fails.
  void send_raw(const std::string& bytes);

  // The next final reply (1xx skipped unless `interim`); nullopt on timeout
  // or when the connection ends first. Throws std::runtime_error on a
  // malformed reply.
  std::optional<http_reply> read_reply(std::chrono::milliseconds timeout = std::chrono::seconds(30),
                                       bool interim = false);

  // What happened to an upload: filler bytes sent, and the reply if one came.
  struct upload_result {
    uint64_t body_bytes_sent = 0;
    std::optional<http_reply> reply;
  };
  // Sends `head` (a request's header block), then up to `body_bytes` filler
  // bytes, reading all the while: stops sending once a reply arrives or the
  // server stops taking bytes, so a refusal is seen however early it comes.
  upload_result upload(const std::string& head, uint64_t body_bytes,
                       std::chrono::milliseconds timeout = std::chrono::seconds(60));

  // True once the server has closed the connection (end of stream or a
  // reset) within `timeout`; bytes received meanwhile are dropped.
  bool wait_closed(std::chrono::milliseconds timeout = std::chrono::seconds(30));

  void close();

private:
  // Receives into buffer_ until readable data arrives or `deadline`; false
  // at the deadline or when the connection ended (ended_ then set).
  bool receive_some(std::chrono::steady_clock::time_point deadline);
  // A whole reply from buffer_ if there is one (removing its bytes).
  std::optional<http_reply> take_reply();

  loopback_socket socket_;
  bool ended_ = false;
  std::string buffer_;
};

} // namespace volley::test
