#pragma once
// A subscriber's counts between two reports to the monitor: attempts by
// outcome and event type, latency, slow attempts, deliveries delivered and
// dead-lettered, and a sample of the latest failures. Plain logic.

#include "delivery/delivery.hpp"
#include "delivery/outcome.hpp"
#include "health/subscriber_report.hpp"

#include <cstdint>
#include <string>

namespace volley {

class attempt_tally {
public:
  static constexpr size_t max_failures_per_report = 32;

  // A timed-out attempt counts in the latency window at `timeout_ms`, and as
  // slow: an endpoint that never answers is the slowest there is.
  attempt_tally(std::string subscriber, uint64_t slow_ms, uint64_t timeout_ms);

  // The subscriber's timeout_ms after a reload.
  void set_timeout_ms(uint64_t timeout_ms) { timeout_ms_ = timeout_ms; }

  // `d` carries its attempts, this one included.
  void attempt(const delivery& d, const attempt_result& r, const outcome& out, int64_t now_ms);
  void dead_lettered(const std::string& type);

  // The counts since the last report in `report` (its gauges left as they
  // are), then starts counting afresh. The last-seen times and error stay.
  void fill(subscriber_report& report);

private:
  std::string subscriber_;
  uint64_t slow_ms_;
  uint64_t timeout_ms_;
  subscriber_report counts_; // only its counting members are used
};

} // namespace volley
