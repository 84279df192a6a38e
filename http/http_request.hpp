#pragma once
// One HTTP request as the engine takes it: URL, shared body, header lines
// and what to do when the attempt ends. No libcurl in here, so the code that
// builds requests (signing, the subscriber's logic) needs no engine.

#include "delivery/outcome.hpp"

#include <cstdint>
#include <functional>
#include <limits>
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

// How an owner of many requests (a subscriber actor) learns of their
// results in batches: its on_done only queues the result, and whoever ran
// on_done then calls raise() once for a run of results (the engine: after
// each round of completions) instead of waking the owner per result.
class result_signal {
public:
  virtual ~result_signal() = default;
  virtual void raise() = 0; // thread-safe; cheap when nothing new was queued
};

struct http_request {
  std::string url;
  std::shared_ptr<const std::string> body; // shared by every attempt and subscriber
  header_list headers;
  uint64_t timeout_ms = 10000;
  bool tls_insecure = false;
  std::string tls_ca_file; // PEM file of CAs to trust; empty: libcurl's default
  // Runs on the engine thread when the attempt ends: keep it short.
  std::function<void(attempt_result&&)> on_done;
  // Raised after on_done, once for a run of results; optional.
  std::shared_ptr<result_signal> signal;
};

// Where requests go: the libcurl engine in the daemon, a scripted endpoint
// in deterministic actor tests.
class http_transport {
public:
  virtual ~http_transport() = default;
  // Thread-safe. Every request's on_done runs exactly once, and then its
  // signal is raised (once is enough for a run of results), unless the
  // transport is stopped first.
  virtual void submit(std::vector<http_request>&& batch) = 0;
  // Requests it takes now before they would only wait in it (callers keep
  // the rest as deliveries); unlimited unless the transport says otherwise.
  virtual size_t room() const { return std::numeric_limits<size_t>::max(); }
  // The same for a caller that `when_room` just woke: the room set aside
  // for it is its to take.
  virtual size_t room_when_woken() const { return room(); }
  // Calls `wake` once when there is room for `wanted` more requests (at
  // once if there is now); after it, room_when_woken() says how many.
  // Thread-safe; `wake` runs on any thread and must be short.
  virtual void when_room(size_t /*wanted*/, std::function<void()> wake) { wake(); }
  void submit(http_request&& request) {
    std::vector<http_request> one;
    one.push_back(std::move(request));
    submit(std::move(one));
  }
};

} // namespace volley
