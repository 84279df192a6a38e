#include "delivery/auto_disable.hpp"

namespace volley {

void auto_disable::on_failure(int64_t now_ms) {
  if (!failing_since_ms_)
    failing_since_ms_ = now_ms;
  last_failure_ms_ = now_ms;
}

std::optional<std::string> auto_disable::should_disable() const {
  constexpr int64_t hour_ms = 3600 * 1000;
  if (after_hours_ == 0 || !failing_since_ms_)
    return std::nullopt;
  if (last_failure_ms_ - *failing_since_ms_ < int64_t{after_hours_} * hour_ms)
    return std::nullopt;
  return "no successful delivery for " + std::to_string(after_hours_) + " h (disable_after_hours)";
}

} // namespace volley
