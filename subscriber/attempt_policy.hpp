#pragma once
// What a subscriber does with an attempt's result, and whether it may start
// another request now. The decision is returned, not performed (as Envoy's
// retry state answers shouldRetry): the subscriber actor only carries it
// out. It owns the subscriber's circuit breaker, adaptive concurrency limit,
// backoff, rate limit, Retry-After pause and auto-disable clock.
// Plain logic: time and randomness are passed in.

#include "config/config.hpp"
#include "delivery/auto_disable.hpp"
#include "delivery/backoff.hpp"
#include "delivery/circuit_breaker.hpp"
#include "delivery/concurrency_limit.hpp"
#include "delivery/outcome.hpp"
#include "delivery/token_bucket.hpp"
#include "storage/records.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace volley {

// How an attempt moved the breaker.
enum class breaker_change { none, opened, closed };

struct attempt_decision {
  enum class action {
    finish,      // delivered: remove it
    retry,       // try again at retry_at_ms
    dead_letter, // to the dead-letter queue, with `reason`
    disable,     // the endpoint is gone (410): disable the subscriber, keep the delivery
  };
  action what = action::finish;
  outcome result;          // the attempt classified: "HTTP 503", "timeout", ...
  int64_t retry_at_ms = 0; // action::retry
  std::string reason;      // action::dead_letter: why
  breaker_change breaker = breaker_change::none;
  std::optional<limit_change> limit; // how the attempt moved the concurrency limit
  // Nothing succeeded for disable_after_hours: disable the subscriber (as a
  // 410 does) for this reason. The delivery's own fate is `what`.
  std::optional<std::string> disable_reason;
};

// May one more request start now?
struct admission {
  enum class answer {
    go,   // yes: a rate-limit token and, if half-open, the probe are taken
    wait, // not before until_ms (Retry-After pause, rate limit, open breaker)
    hold, // not until an attempt comes back (concurrency limit, probe out)
  };
  answer what = answer::go;
  int64_t until_ms = 0;
  bool probe = false; // go: this request is the half-open breaker's probe
};

class attempt_policy {
public:
  explicit attempt_policy(const subscriber_config& cfg);

  // New settings from a reload. The breaker keeps its state unless its own
  // settings changed; the rate limit starts afresh only when its rate did.
  void reconfigure(const subscriber_config& cfg);

  admission admit(size_t in_flight, int64_t now_ms);

  // `record` carries the attempts made, this one included. `random01` in
  // [0, 1) picks the backoff jitter.
  attempt_decision decide(const delivery_record& record, const attempt_result& r, int64_t now_ms,
                          double random01);

  const circuit_breaker& breaker() const { return breaker_; }
  const concurrency_limit& limit() const { return limit_; }
  // No request starts before this (a 429/503 said Retry-After); 0: none.
  int64_t paused_until_ms() const { return paused_until_ms_; }

private:
  // A request that never left this node ends a half-open probe, as a
  // failure; otherwise the breaker learns nothing from it.
  void unsent(int64_t now_ms, attempt_decision& d);

  // The settings it acts on, not the whole subscriber_config: its names,
  // URL and secrets cost a few hundred bytes per subscriber, 10,000 of
  // them idle in bench (g).
  struct settings {
    explicit settings(const subscriber_config& cfg);
    breaker_config breaker;
    concurrency_config concurrency;
    uint32_t max_in_flight = 0;
    uint32_t max_attempts = 0;
    uint64_t backoff_max_ms = 0;
    double rate_limit_per_s = 0;
    uint32_t disable_after_hours = 0;
  };

  settings cfg_;
  circuit_breaker breaker_;
  concurrency_limit limit_;
  backoff_policy backoff_;
  token_bucket limiter_;
  auto_disable disable_clock_;
  int64_t paused_until_ms_ = 0;
};

} // namespace volley
