#pragma once
// How many requests one subscriber may have in flight: an adaptive limit
// between 1 and max_in_flight, found the way TCP congestion control finds its
// window (AIMD). An overloaded endpoint needs fewer requests at once, not none.
//
// - Slow start: from `initial`, the limit doubles after each window of
//   successes (a window: `limit` successful completions), until the first
//   decrease.
// - Then additive increase: +1 per window of successes.
// - Multiplicative decrease (× decrease_factor, floor 1) on an overload signal:
//   429, 503, 504, a timeout, a connection error, or successes whose latency
//   rose to latency_ratio × the baseline.
// - At most one decrease per window of completions at the old limit: the
//   results of requests sent before a decrease say nothing about the new
//   limit, so a burst of them must not collapse it to 1.
//
// No clock: windows are counted in completions. Latencies are passed in.

#include "config/config.hpp"
#include "delivery/outcome.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace volley {

// What one completed request says about the endpoint's capacity.
enum class load_signal {
  success,  // 2xx: it did the work; grows the limit, its latency is measured
  neutral,  // other answers: no capacity signal either way
  overload, // 429, 503, 504, timeout, connection error: shrink the limit
};

// 2xx: success. 429 and 503 say "too much" outright; 504, a timeout and a
// connection error are how a saturated endpoint fails without saying so.
// 500, 502 and the other 5xx are errors of the receiver or of what stands
// behind it, and 3xx/4xx are answers about the request: neither grows nor
// shrinks the limit.
load_signal load_signal_of(const attempt_result& result);

enum class limit_cause { slow_start, increase, overload, latency };

const char* to_string(limit_cause cause);

// A change of the limit, for the caller's log line.
struct limit_change {
  uint32_t from = 0;
  uint32_t to = 0;
  limit_cause cause = limit_cause::increase;
  double latency_ms = 0;  // cause latency: the recent median latency ...
  double baseline_ms = 0; // ... and the baseline it rose above
};

class concurrency_limit {
public:
  // Successes whose median latency is compared with the baseline.
  static constexpr size_t latency_samples = 16;

  concurrency_limit(concurrency_config cfg, uint32_t max_in_flight);

  // One completed request. Returns the change of the limit it caused, if any.
  std::optional<limit_change> on_result(load_signal signal, double latency_ms);

  uint32_t limit() const { return limit_; }
  bool may_start(size_t in_flight) const { return in_flight < limit_; }
  bool in_slow_start() const { return slow_start_; }
  // The latency successes are measured against; 0 until latency_samples
  // successes were seen.
  double baseline_ms() const { return baseline_ms_; }

private:
  std::optional<limit_change> grow();
  std::optional<limit_change> shrink(limit_cause cause, double latency_ms);
  // Records a success's latency; true when the recent median rose too far.
  bool latency_rose(double latency_ms, double& median_ms);

  concurrency_config cfg_;
  uint32_t max_;
  uint32_t limit_;
  bool slow_start_ = true;
  uint32_t successes_ = 0; // since the last change
  uint32_t hold_ = 0;      // completions before another decrease may happen
  std::array<double, latency_samples> recent_{};
  size_t recorded_ = 0;     // successes' latencies recorded, ever
  size_t since_shrink_ = 0; // ... since the last decrease
  double baseline_ms_ = 0;
};

} // namespace volley
