#pragma once
// An http_receiver whose answer is scripted per event and attempt: the
// script sees the webhook-id and how many requests this receiver has seen
// for it (1 for the first), so a fault plan is a pure function of both and
// a test can compute from it what the engine must end up with.

#include "receiver/http_receiver.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace volley::test {

// What one request got.
struct scripted_request {
  std::string event_id;
  uint32_t attempt = 0; // 1-based, per event id, as this receiver counted
  int status = 0;       // the status answered; 0 for a hang or a reset
  bool hang = false;
  bool reset = false;
  std::chrono::steady_clock::time_point at;
};

using reply_script = std::function<receiver_reply(const std::string& event_id, uint32_t attempt)>;

class scripted_receiver {
public:
  // Serves 127.0.0.1:port (0: any free port). Throws when it cannot bind.
  explicit scripted_receiver(reply_script script, uint16_t port = 0);

  uint16_t port() const { return server_.port(); }
  std::string url(const std::string& path = "/hook") const;
  void stop() { server_.stop(); }

  size_t requests() const;
  // Event id -> number of 2xx answers it got (a delivery; more than one is a
  // duplicate).
  std::map<std::string, size_t> delivered() const;
  size_t delivered_count() const; // distinct ids with a 2xx answer
  std::vector<scripted_request> log() const;
  std::vector<scripted_request> log_of(const std::string& event_id) const;

private:
  receiver_reply handle(const received_request& request);

  reply_script script_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, uint32_t> attempts_;
  std::map<std::string, size_t> delivered_;
  std::vector<scripted_request> log_;
  http_receiver server_; // last: serves once the rest is ready
};

} // namespace volley::test
