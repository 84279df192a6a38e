#include "delivery/circuit_breaker.hpp"

#include <algorithm>

namespace volley {

const char* to_string(breaker_state state) {
  switch (state) {
    case breaker_state::closed: return "closed";
    case breaker_state::open: return "open";
    case breaker_state::half_open: return "half_open";
  }
  return "closed";
}

bool circuit_breaker::try_acquire(int64_t now_ms) {
  switch (state_) {
    case breaker_state::closed:
      return true;
    case breaker_state::open:
      if (now_ms < open_until_ms_)
        return false;
      state_ = breaker_state::half_open;
      probe_in_flight_ = true;
      return true;
    case breaker_state::half_open:
      if (probe_in_flight_)
        return false;
      probe_in_flight_ = true;
      return true;
  }
  return false;
}

bool circuit_breaker::on_success() {
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
  switch (state_) {
    case breaker_state::closed:
      if (consecutive_failures_ < cfg_.failure_threshold)
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

void circuit_breaker::open(int64_t now_ms) {
  state_ = breaker_state::open;
  open_until_ms_ = now_ms + static_cast<int64_t>(cooldown_ms_);
}

} // namespace volley
