#pragma once
// Per-subscriber circuit breaker. Closed: requests flow. Open: none go out
// until the cooldown ends. Half-open: exactly one probe; its success closes
// the breaker, its failure re-opens it with a doubled cooldown (capped).
//
// When it opens (breaker_config): at volume (min_requests attempts or more in
// the last rate_window_ms) only a failure rate of failure_rate_percent does;
// an endpoint failing 30 % of its requests is struggling, not dead, and fewer
// requests at once (concurrency_limit) is the answer to that. Below that
// volume a few attempts say little about a rate, so failure_threshold
// consecutive failures open it. failure_rate_percent 0: consecutive failures
// at any volume (the behaviour before the rate rule).
//
// Time is passed in (unix ms), so tests drive it directly.

#include "config/config.hpp"

#include <array>
#include <cstdint>

namespace volley {

enum class breaker_state { closed, open, half_open };

const char* to_string(breaker_state state);

// What admit() decided for one request.
enum class breaker_admission {
  refused, // open, or half-open with the probe out: wait
  request, // closed: go
  probe,   // open -> half_open: this request is the probe (log breaker_half_open)
};

class circuit_breaker {
public:
  explicit circuit_breaker(breaker_config cfg) : cfg_(cfg), cooldown_ms_(cfg.cooldown_ms) {}

  // May a request start now? In half-open, once: the probe.
  breaker_admission admit(int64_t now_ms);
  // admit() for callers that need not know about the probe.
  bool try_acquire(int64_t now_ms) { return admit(now_ms) != breaker_admission::refused; }

  // The result of a request that admit allowed. Return true when the state
  // changed (the caller logs transitions). While open, results are of
  // requests sent before it opened: failures change nothing, nor do
  // successes unless the rate rule is off.
  bool on_success(int64_t now_ms);
  bool on_failure(int64_t now_ms);
  // A refusal for load (429 while the concurrency limit adapts). After a
  // success in the window it counts in the failure rate but not as a
  // consecutive failure: a slow start overshooting an endpoint's capacity
  // gets a burst of 429s, which the limit answers, and five of them opened
  // the breaker for a whole cooldown. With no success in the window (an
  // endpoint refusing everything), without the rate rule, or as the
  // half-open probe's answer, it is a failure like any other.
  bool on_refusal(int64_t now_ms);

  breaker_state state() const { return state_; }
  uint32_t consecutive_failures() const { return consecutive_failures_; }
  int64_t open_until_ms() const { return open_until_ms_; }
  uint64_t cooldown_ms() const { return cooldown_ms_; }

private:
  // Attempts and failures over the last rate_window_ms, in ten slots.
  struct rate_slot {
    int64_t index = -1;
    uint32_t attempts = 0;
    uint32_t failures = 0;
  };
  struct window_counts {
    uint64_t attempts = 0;
    uint64_t failures = 0;
  };

  bool rate_rule_on() const { return cfg_.failure_rate_percent > 0; }
  int64_t slot_index(int64_t now_ms) const;
  void record(int64_t now_ms, bool failed);
  window_counts counts(int64_t now_ms) const;
  bool should_open(int64_t now_ms) const;
  void open(int64_t now_ms);

  std::array<rate_slot, 10> rate_{};
  breaker_config cfg_;
  breaker_state state_ = breaker_state::closed;
  uint32_t consecutive_failures_ = 0;
  uint64_t cooldown_ms_;
  int64_t open_until_ms_ = 0;
  bool probe_in_flight_ = false;
};

} // namespace volley
