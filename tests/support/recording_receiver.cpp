#include "tests/support/recording_receiver.hpp"

#include "signing/signature.hpp"

namespace volley::test {

recording_receiver::recording_receiver(std::string secret, uint16_t port,
                                       std::function<receiver_reply(const received_request&)> reply)
  : reply_(std::move(reply)), server_([this](const received_request& r) { return handle(r); }, port) {
  if (!secret.empty())
    keys_.push_back(*signing_key_from_secret(secret));
}

std::string recording_receiver::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port()) + path;
}

receiver_reply recording_receiver::handle(const received_request& req) {
  recorded_delivery d;
  d.target = req.target;
  d.event_id = req.header("webhook-id");
  d.event_type = req.header("x-event-type");
  d.body = req.body;
  auto standard = req.header("webhook-signature");
  d.signature = standard;
  auto legacy = req.header("x-webhook-signature");
  if (keys_.empty()) {
    d.signature_valid = standard.empty() && legacy.empty();
  } else {
    int64_t ts = 0;
    try {
      ts = std::stoll(req.header("webhook-timestamp"));
    } catch (...) {
      ts = -1;
    }
    d.signature_valid = verify_standard_signature(standard, keys_, d.event_id, ts, req.body) &&
                        verify_legacy_signature(legacy, keys_, req.body) &&
                        req.header("x-webhook-id") == d.event_id &&
                        req.header("content-type") == "application/json";
  }
  auto reply = reply_ ? reply_(req) : receiver_reply{};
  if (!reply.hang && !reply.reset) {
    std::lock_guard<std::mutex> guard{mutex_};
    seen_.push_back(std::move(d));
    ++count_;
  }
  return reply;
}

size_t recording_receiver::distinct() const { return per_event().size(); }

size_t recording_receiver::invalid_signatures() const {
  std::lock_guard<std::mutex> guard{mutex_};
  size_t n = 0;
  for (const auto& d : seen_)
    n += d.signature_valid ? 0 : 1;
  return n;
}

std::map<std::string, size_t> recording_receiver::per_event() const {
  std::lock_guard<std::mutex> guard{mutex_};
  std::map<std::string, size_t> out;
  for (const auto& d : seen_)
    ++out[d.event_id];
  return out;
}

std::vector<recorded_delivery> recording_receiver::all() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return seen_;
}

} // namespace volley::test
