#pragma once
// An http_receiver that records every delivery and checks its signatures:
// the tests' view of what a subscriber endpoint saw.

#include "receiver/http_receiver.hpp"

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace volley::test {

struct recorded_delivery {
  std::string target;
  std::string event_id;   // webhook-id
  std::string event_type; // X-Event-Type
  std::string body;
  std::string signature;        // the webhook-signature header as received
  bool signature_valid = false; // both forms verified (or unsigned and no secret)
};

class recording_receiver {
public:
  // `secret`: empty for an unsigned subscriber. `reply` decides the answer
  // (default 200).
  explicit recording_receiver(std::string secret = "", uint16_t port = 0,
                              std::function<receiver_reply(const received_request&)> reply = {});

  uint16_t port() const { return server_.port(); }
  std::string url(const std::string& path = "/hook") const;
  void stop() { server_.stop(); }

  size_t count() const { return count_.load(); }
  size_t distinct() const;
  size_t invalid_signatures() const;
  std::map<std::string, size_t> per_event() const; // event id -> times received
  std::vector<recorded_delivery> all() const;

private:
  receiver_reply handle(const received_request& req);

  std::vector<std::string> keys_;
  std::function<receiver_reply(const received_request&)> reply_;
  mutable std::mutex mutex_;
  std::vector<recorded_delivery> seen_;
  std::atomic<size_t> count_{0};
  http_receiver server_; // last: starts serving once the rest is ready
};

} // namespace volley::test
