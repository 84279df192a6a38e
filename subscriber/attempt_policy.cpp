#include "subscriber/attempt_policy.hpp"

namespace volley {

namespace {

bool same_breaker(const breaker_config& a, const breaker_config& b) {
  return a.failure_threshold == b.failure_threshold && a.cooldown_ms == b.cooldown_ms &&
         a.max_cooldown_ms == b.max_cooldown_ms && a.failure_rate_percent == b.failure_rate_percent &&
         a.min_requests == b.min_requests && a.rate_window_ms == b.rate_window_ms;
}

} // namespace

attempt_policy::attempt_policy(const subscriber_config& cfg)
  : cfg_(cfg), breaker_(cfg.breaker), backoff_(cfg.backoff), limiter_(cfg.rate_limit_per_s) {}

void attempt_policy::reconfigure(const subscriber_config& cfg) {
  if (!same_breaker(cfg_.breaker, cfg.breaker))
    breaker_ = circuit_breaker{cfg.breaker};
  if (cfg.rate_limit_per_s != cfg_.rate_limit_per_s)
    limiter_ = token_bucket{cfg.rate_limit_per_s};
  backoff_ = backoff_policy{cfg.backoff};
  cfg_ = cfg;
}

admission attempt_policy::admit(size_t in_flight, int64_t now_ms) {
  if (in_flight >= cfg_.max_in_flight)
    return {admission::answer::hold, 0, false};
  if (!limiter_.ready(now_ms))
    return {admission::answer::wait, limiter_.next_token_ms(now_ms), false};
  auto before = breaker_.state();
  if (!breaker_.try_acquire(now_ms)) {
    if (breaker_.state() == breaker_state::open)
      return {admission::answer::wait, breaker_.open_until_ms(), false};
    return {admission::answer::hold, 0, false};
  }
  limiter_.take();
  return {admission::answer::go, 0, before != breaker_state::half_open &&
                                       breaker_.state() == breaker_state::half_open};
}

attempt_decision attempt_policy::decide(const delivery_record& record, const attempt_result& r,
                                        int64_t now_ms, double random01) {
  attempt_decision d;
  d.result = classify(r);
  switch (d.result.what) {
    case verdict::delivered:
      d.what = attempt_decision::action::finish;
      if (breaker_.on_success(now_ms))
        d.breaker = breaker_change::closed;
      return d;
    case verdict::retry: {
      if (breaker_.on_failure(now_ms))
        d.breaker = breaker_change::opened;
      if (record.attempts >= cfg_.max_attempts) {
        d.what = attempt_decision::action::dead_letter;
        d.reason = "attempts exhausted, last: " + d.result.reason;
        return d;
      }
      auto delay = backoff_.delay_ms(record.attempts, random01);
      if (honours_retry_after(r.status))
        delay = backoff_.with_retry_after(delay, parse_retry_after_ms(r.retry_after, now_ms));
      d.what = attempt_decision::action::retry;
      d.retry_at_ms = now_ms + static_cast<int64_t>(delay);
      return d;
    }
    case verdict::gone:
      // The endpoint answered: it is up, only this subscription is over.
      if (breaker_.on_success(now_ms))
        d.breaker = breaker_change::closed;
      d.what = attempt_decision::action::disable;
      return d;
    case verdict::dead_letter:
      // The endpoint answered, so it is up; the request itself is refused.
      if (breaker_.on_success(now_ms))
        d.breaker = breaker_change::closed;
      d.what = attempt_decision::action::dead_letter;
      d.reason = d.result.reason;
      return d;
  }
  return d;
}

} // namespace volley
