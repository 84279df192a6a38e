#pragma once
// A real HTTP/1.1 server on 127.0.0.1 built on Boost.Beast: the receiver of
// `volley receive` and of the tests. Keep-alive; one thread per connection.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace volley {

struct received_request {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers; // names lowercased
  std::string body;

  // Value of the first header with this name (any case), "" when absent.
  std::string header(std::string_view name) const;
};

struct receiver_reply {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers; // e.g. Retry-After
  std::string body;
  bool hang = false;  // never answer: hold the connection until stop()
  bool reset = false; // close the connection without answering
};

// Called concurrently from connection threads: must be thread-safe.
using receiver_handler = std::function<receiver_reply(const received_request&)>;

class http_receiver {
public:
  // Binds 127.0.0.1:port (0: a free port) with SO_REUSEADDR and starts
  // serving. Throws std::runtime_error when it cannot bind.
  explicit http_receiver(receiver_handler handler, uint16_t port = 0);
  ~http_receiver(); // stop()

  http_receiver(const http_receiver&) = delete;
  http_receiver& operator=(const http_receiver&) = delete;

  uint16_t port() const;

  // Closes the listener and every open connection (hanging ones too) and
  // joins all threads. Idempotent.
  void stop();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace volley
