#pragma once
// The HTTP/1.1 API listener of volleyd (Boost.Beast over Asio): routes each
// request to an asynchronous handler and writes the answers back, in request
// order, on keep-alive connections. It runs on threads of its own, never on
// CAF's; handlers hand work on and answer through their responder.
//
// Limits, and what a client sees when it crosses one:
//   no/wrong bearer token (token set)  401 + WWW-Authenticate: Bearer (not
//                                      for open routes: the dashboard's files)
//   body over max_body_bytes           413 at once (announced length) or
//                                      when the chunks pass it; then close
//   header over max_header_bytes       431, close
//   header not in header_timeout_ms    408, close (nothing sent at all: close)
//   body not in body_timeout_ms        408, close
//   idle keep-alive, idle_timeout_ms   close
//   response unread, write_timeout_ms  close
//   max_connections open               503 and close, at accept
//   garbage                            400, close
// Every error body is {"error": "..."} with Content-Type: application/json.

#include "api/route_table.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace volley {

// Field names match the keys of the "api" config section.
struct http_server_options {
  std::string host = "127.0.0.1";
  uint16_t port = 7401; // 0: any free port; port() tells which
  std::string token;    // non-empty: every request (/metrics too) needs it
  uint64_t max_body_bytes = 10 * 1024 * 1024;
  uint32_t max_header_bytes = 8 * 1024;
  uint32_t header_timeout_ms = 10'000; // from a request's first byte (a new
                                       // connection: from accept) to its blank line
  uint32_t body_timeout_ms = 60'000;   // for the whole body
  uint32_t idle_timeout_ms = 60'000;   // keep-alive, after the last answer
  uint32_t write_timeout_ms = 30'000;  // for one answer to leave
  uint32_t linger_ms = 2'000;          // after a closing answer, unread input is discarded
                                       // this long so the answer is not lost to a TCP reset
  size_t max_connections = 10'000;
  size_t max_pipelined = 16; // unanswered requests per connection before reading pauses
  unsigned threads = 1;
};

struct http_server_stats {
  uint64_t connections_open = 0;
  uint64_t connections_accepted = 0; // since start, refused ones included
  uint64_t connections_refused = 0;  // over max_connections
  uint64_t requests = 0;             // handed to a handler
  uint64_t rejected = 0;             // answered by the server itself: 4xx/5xx before any handler
};

class http_server {
public:
  // Binds host:port and serves at once. Throws std::runtime_error saying
  // what to change when it cannot (address in use, bad host).
  http_server(http_server_options options, route_table routes);
  ~http_server(); // stop()

  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  uint16_t port() const;
  http_server_stats stats() const;

  // Stops accepting; for up to `grace`, connections answer what they owe
  // (a request being received is still read and answered) and then close.
  // After that everything is closed, answers still owed are dropped, and
  // the threads are joined. Idempotent; blocks for at most about `grace`.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(0));

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace volley
