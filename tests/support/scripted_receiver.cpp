#include "tests/support/scripted_receiver.hpp"

namespace volley::test {

scripted_receiver::scripted_receiver(reply_script script, uint16_t port)
  : script_(std::move(script)), server_([this](const received_request& r) { return handle(r); }, port) {}

std::string scripted_receiver::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port()) + path;
}

receiver_reply scripted_receiver::handle(const received_request& request) {
  scripted_request r;
  r.event_id = request.header("webhook-id");
  r.at = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> guard{mutex_};
    r.attempt = ++attempts_[r.event_id];
  }
  // The script runs unlocked: it may take its own locks.
  auto reply = script_(r.event_id, r.attempt);
  r.hang = reply.hang;
  r.reset = reply.reset;
  r.status = reply.hang || reply.reset ? 0 : reply.status;
  std::lock_guard<std::mutex> guard{mutex_};
  if (r.status >= 200 && r.status < 300)
    ++delivered_[r.event_id];
  log_.push_back(std::move(r));
  return reply;
}

size_t scripted_receiver::requests() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return log_.size();
}

std::map<std::string, size_t> scripted_receiver::delivered() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return delivered_;
}

size_t scripted_receiver::delivered_count() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return delivered_.size();
}

std::vector<scripted_request> scripted_receiver::log() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return log_;
}

std::vector<scripted_request> scripted_receiver::log_of(const std::string& event_id) const {
  std::lock_guard<std::mutex> guard{mutex_};
  std::vector<scripted_request> out;
  for (const auto& r : log_)
    if (r.event_id == event_id)
      out.push_back(r);
  return out;
}

} // namespace volley::test
