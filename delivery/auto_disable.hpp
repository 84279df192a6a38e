#pragma once
// disable_after_hours: a subscriber whose attempts have failed, with no
// success in between, for that many hours is disabled, as a 410 Gone would
// disable it (its deliveries stay queued until it is enabled again).
//
// The failing period runs from the first failure after the last success to
// the latest failure: it must be covered by attempts that failed, so a
// subscriber that simply had nothing to send is never disabled for the
// silence. Time is passed in (unix ms).

#include <cstdint>
#include <optional>
#include <string>

namespace volley {

class auto_disable {
public:
  explicit auto_disable(uint32_t after_hours) : after_hours_(after_hours) {}

  void on_success() { failing_since_ms_.reset(); }
  void on_failure(int64_t now_ms);

  // The reason to disable the subscriber now, if it is due; nothing when
  // disable_after_hours is 0 (off).
  std::optional<std::string> should_disable() const;

  // Since when every attempt failed; nothing after a success.
  std::optional<int64_t> failing_since_ms() const { return failing_since_ms_; }

private:
  uint32_t after_hours_;
  std::optional<int64_t> failing_since_ms_;
  int64_t last_failure_ms_ = 0;
};

} // namespace volley
