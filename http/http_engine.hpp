#pragma once
// The HTTP engine: libcurl's multi interface on threads of its own, one
// multi handle each. Actors hand requests over through a locked queue per
// thread plus curl_multi_wakeup; requests are spread over the threads one
// by one. Each completion is reported through the request's callback on
// its engine thread (the subscriber actor turns it into a message).
// Connections are kept alive and reused by each multi handle's cache.

#include "delivery/outcome.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace volley {

// Request header lines ("Name: value") kept in one buffer, so a request
// costs one allocation for all of them and the engine can hand them to curl
// without copying each line again.
class header_list {
public:
  void reserve(size_t bytes) { text_.reserve(bytes); }
  void add(std::string_view name, std::string_view value) {
    text_.append(name).append(": ").append(value).push_back('\0');
    ++count_;
  }
  size_t size() const { return count_; }
  // Calls f(const char* line) for every line, in order; each is NUL-terminated.
  template <class F>
  void each(F&& f) const {
    for (size_t at = 0, i = 0; i < count_; ++i) {
      const char* line = text_.data() + at;
      f(line);
      at += std::char_traits<char>::length(line) + 1;
    }
  }

private:
  std::string text_;
  size_t count_ = 0;
};

struct http_request {
  std::string url;
  std::shared_ptr<const std::string> body; // shared by every attempt and subscriber
  header_list headers;
  uint64_t timeout_ms = 10000;
  bool tls_insecure = false;
  // Runs on the engine thread when the attempt ends: keep it short.
  std::function<void(attempt_result&&)> on_done;
};

struct http_engine_options {
  bool allow_private_networks = false;
  // Transfers running at once over all subscribers; the rest wait in the
  // engine's queue (their timeout starts when they start). Bounds sockets
  // and memory however many subscribers there are.
  size_t max_concurrent = 1024;
  long max_cached_connections = 1024;
  // Engine threads, each a libcurl multi loop with its own connections.
  // One loop keeps about one core busy at its ceiling.
  size_t threads = 1;
};

class http_engine {
public:
  explicit http_engine(http_engine_options options);
  ~http_engine(); // stop()

  http_engine(const http_engine&) = delete;
  http_engine& operator=(const http_engine&) = delete;

  // Thread-safe. Requests submitted after stop() are dropped uncompleted.
  void submit(std::vector<http_request>&& batch);
  void submit(http_request&& request);

  // Aborts transfers still running (their callbacks do not run: their
  // deliveries are still pending on disk) and joins the thread.
  void stop();

  size_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }

private:
  struct impl;
  std::vector<std::unique_ptr<impl>> shards_;
  std::atomic<size_t> next_shard_{0};
  std::atomic<size_t> in_flight_{0};
};

} // namespace volley
