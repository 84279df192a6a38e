#pragma once
// The replay window of Standard Webhooks: a receiver refuses a delivery
// whose webhook-timestamp is further than a tolerance from its own clock,
// in either direction, so that a captured request cannot be replayed
// later. Plain logic; the caller passes the current time.

#include <cstdint>
#include <string>

namespace volley {

// What the Standard Webhooks libraries use: five minutes.
constexpr int64_t default_timestamp_tolerance_s = 300;

enum class timestamp_age { within_tolerance, too_old, too_new };

struct timestamp_verdict {
  timestamp_age age = timestamp_age::within_tolerance;
  uint64_t off_by_s = 0; // how far the timestamp is from now, either way

  bool accepted() const { return age == timestamp_age::within_tolerance; }
  // Why it was refused ("webhook-timestamp 1000 is 1795440200 s old, more
  // than the tolerance of 300 s"); "" when accepted.
  std::string reason(int64_t timestamp_s, int64_t tolerance_s) const;
};

// Accepts `timestamp_s` when it is at most `tolerance_s` (>= 0) seconds
// before or after `now_s`.
timestamp_verdict judge_timestamp(int64_t timestamp_s, int64_t now_s, int64_t tolerance_s);

} // namespace volley
