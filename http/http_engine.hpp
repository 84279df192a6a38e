#pragma once
// The HTTP engine: libcurl's multi interface on threads of its own, driven
// by curl_multi_socket_action from an epoll loop, so a wake-up costs what
// its ready sockets cost, not a visit to every transfer (curl_multi_perform
// does that; bench/README.md has the measurements). Actors hand requests
// over through a locked queue per thread plus an eventfd; a lightly loaded
// thread takes its origins' requests (home_thread in transfer_placement.hpp),
// under load they are dealt over the threads one by one. Each completion is
// reported through the request's callback on its engine thread (the
// subscriber actor turns it into a message). Connections are kept alive and reused from libcurl's
// connection caches, sized to the transfers in flight.

#include "http/engine_admission.hpp"
#include "http/http_request.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace volley {

struct http_engine_options {
  bool allow_private_networks = false;
  // Transfers running at once over all subscribers; the rest wait in the
  // engine's queue (their timeout starts when they start). Bounds sockets
  // and memory however many subscribers there are.
  size_t max_concurrent = 1024;
  // About this many transfers per libcurl multi handle: a thread has
  // max_concurrent / transfers_per_multi of them, opened as needed, each
  // origin's transfers on its own few (see transfer_placement.hpp). A
  // completion costs libcurl a walk of its handle's connections.
  size_t transfers_per_multi = 128;
  // Engine threads, each a libcurl multi loop with its own connections.
  // One loop keeps about one core busy at its ceiling.
  size_t threads = 1;
};

class http_engine : public http_transport {
public:
  explicit http_engine(http_engine_options options);
  ~http_engine() override; // stop()

  http_engine(const http_engine&) = delete;
  http_engine& operator=(const http_engine&) = delete;

  // Thread-safe. Requests submitted after stop() are dropped uncompleted.
  void submit(std::vector<http_request>&& batch) override;
  using http_transport::submit;
  // Room for max_concurrent and a quarter more (running and queued): see engine_admission.hpp.
  size_t room() const override { return admission_.room(); }
  size_t room_when_woken() const override { return admission_.room_when_woken(); }
  void when_room(size_t wanted, std::function<void()> wake) override {
    admission_.when_room(wanted, std::move(wake));
  }

  // Aborts transfers still running (their callbacks do not run: their
  // deliveries are still pending on disk) and joins the thread.
  void stop();

  size_t in_flight() const { return admission_.outstanding(); } // submitted, not ended

private:
  struct impl;
  engine_admission admission_; // before the shards: they end requests into it
  std::vector<std::unique_ptr<impl>> shards_;
  std::atomic<size_t> next_shard_{0}; // where requests are dealt under load
};

} // namespace volley
