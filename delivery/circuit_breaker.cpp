#include "delivery/circuit_breaker.hpp"

#include <algorithm>

namespace volley {

const char* to_string(breaker_state state) {
  switch (state) {
    case breaker_state::closed:
      return "closed";
    case breaker_state::open:
      return "open";
    case breaker_state::half_open:
      return "half_open";
  }
  return "closed";
}

breaker_admission circuit_breaker::admit(int64_t now_ms) {
  switch (state_) {
    case breaker_state::closed:
      return breaker_admission::request;
    case breaker_state::open:
      if (now_ms < open_until_ms_)
        return breaker_admission::refused;
      state_ = breaker_state::half_open;
      probe_in_flight_ = true;
      return breaker_admission::probe;
    case breaker_state::half_open:
      if (probe_in_flight_)
        return breaker_admission::refused;
      probe_in_flight_ = true;
      return breaker_admission::probe;
  }
  return breaker_admission::refused;
}

int64_t circuit_breaker::slot_index(int64_t now_ms) const {
  auto slot_ms = std::max<int64_t>(static_cast<int64_t>(cfg_.rate_window_ms / rate_.size()), 1);
  return now_ms / slot_ms;
}

void circuit_breaker::record(int64_t now_ms, bool failed) {
  if (!rate_rule_on())
    return;
  auto index = slot_index(now_ms);
  auto& s = rate_[static_cast<size_t>(index) % rate_.size()];
  if (s.index != index)
    s = rate_slot{index, 0, 0};
  s.attempts += 1;
  s.failures += failed ? 1 : 0;
}

circuit_breaker::window_counts circuit_breaker::counts(int64_t now_ms) const {
  auto newest = slot_index(now_ms);
  window_counts out;
  for (const auto& s : rate_)
    if (s.index > newest - static_cast<int64_t>(rate_.size()) && s.index <= newest) {
      out.attempts += s.attempts;
      out.failures += s.failures;
    }
  return out;
}

// Called closed, after the failure was recorded.
bool circuit_breaker::should_open(int64_t now_ms) const {
  if (rate_rule_on()) {
    auto c = counts(now_ms);
    if (c.attempts >= cfg_.min_requests)
      return 100.0 * static_cast<double>(c.failures) >=
             cfg_.failure_rate_percent * static_cast<double>(c.attempts);
  }
  return consecutive_failures_ >= cfg_.failure_threshold;
}

bool circuit_breaker::on_success(int64_t now_ms) {
  // Open, every result is of a request sent before it opened. A rate that
  // opened it already weighed such successes: closing on them undid the rate
  // rule within milliseconds with many in flight. Only the probe decides.
  // Without the rate rule a success still closes it: "none succeed" was the
  // reason it opened (the old behaviour, kept exactly).
  if (state_ == breaker_state::open && rate_rule_on())
    return false;
  record(now_ms, false);
  consecutive_failures_ = 0;
  probe_in_flight_ = false;
  if (state_ == breaker_state::closed)
    return false;
  state_ = breaker_state::closed;
  cooldown_ms_ = cfg_.cooldown_ms;
  return true;
}

bool circuit_breaker::on_failure(int64_t now_ms) {
  ++consecutive_failures_;
  record(now_ms, true);
  switch (state_) {
    case breaker_state::closed:
      if (!should_open(now_ms))
        return false;
      open(now_ms);
      return true;
    case breaker_state::half_open:
      probe_in_flight_ = false;
      cooldown_ms_ = std::min(cooldown_ms_ * 2, std::max(cfg_.max_cooldown_ms, cfg_.cooldown_ms));
      open(now_ms);
      return true;
    case breaker_state::open:
      // A request that started before the breaker opened: already open.
      return false;
  }
  return false;
}

bool circuit_breaker::on_refusal(int64_t now_ms) {
  if (state_ != breaker_state::closed || !rate_rule_on())
    return on_failure(now_ms);
  auto before = counts(now_ms);
  if (before.failures == before.attempts) // nothing succeeded lately
    return on_failure(now_ms);
  record(now_ms, true);
  if (before.attempts + 1 < cfg_.min_requests || !should_open(now_ms))
    return false;
  open(now_ms);
  return true;
}

void circuit_breaker::open(int64_t now_ms) {
  rate_ = {}; // a fresh window after the cooldown, not the failures that opened it
  state_ = breaker_state::open;
  open_until_ms_ = now_ms + static_cast<int64_t>(cooldown_ms_);
}

} // namespace volley
