#include "subscriber/enable_state.hpp"

namespace volley {

enable_state::enable_state(std::string subscriber, bool enabled_in_file)
  : subscriber_(std::move(subscriber)), enabled_(enabled_in_file),
    reason_(enabled_in_file ? "" : config_reason) {}

void enable_state::restore(const std::string& reason) {
  enabled_ = false;
  recorded_ = true;
  reason_ = reason;
}

enable_change enable_state::set(bool on, const std::string& reason, bool record, int64_t now_ms) {
  enable_change c;
  c.changed = enabled_ != on;
  enabled_ = on;
  reason_ = on ? "" : reason;
  if (record) {
    c.record = subscriber_status{subscriber_, !on, on ? std::string{} : reason, now_ms};
    recorded_ = !on;
  }
  return c;
}

enable_change enable_state::gone(int64_t now_ms, const std::string& reason) {
  if (recorded_)
    return {}; // disabled on record already (an operator's reason stays)
  return set(false, reason, true, now_ms);
}

enable_change enable_state::by_operator(bool on, int64_t now_ms) {
  if (!on && recorded_)
    return {}; // a recorded disable (a 410's) keeps its reason
  return set(on, operator_reason, true, now_ms);
}

enable_change enable_state::by_reload(bool file_before, bool file_after, int64_t now_ms) {
  if (file_after == file_before || file_after == enabled_)
    return {};
  return set(file_after, config_reason, file_after, now_ms);
}

} // namespace volley
