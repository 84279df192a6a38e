#include "subscriber/attempt_policy.hpp"

#include <algorithm>

namespace volley {

namespace {

bool same_breaker(const breaker_config& a, const breaker_config& b) {
  return a.failure_threshold == b.failure_threshold && a.cooldown_ms == b.cooldown_ms &&
         a.max_cooldown_ms == b.max_cooldown_ms && a.failure_rate_percent == b.failure_rate_percent &&
         a.min_requests == b.min_requests && a.rate_window_ms == b.rate_window_ms;
}

bool same_concurrency(const concurrency_config& a, uint32_t a_max, const concurrency_config& b,
                      uint32_t b_max) {
  return a_max == b_max && a.adaptive == b.adaptive && a.initial == b.initial &&
         a.decrease_factor == b.decrease_factor && a.latency_ratio == b.latency_ratio;
}

// Only these two ask for a pause of the whole endpoint: "too many requests"
// and "unavailable". On other statuses Retry-After times that delivery only.
bool pauses_endpoint(int status) { return status == 429 || status == 503; }

} // namespace

attempt_policy::settings::settings(const subscriber_config& cfg)
  : breaker(cfg.breaker), concurrency(cfg.concurrency), max_in_flight(cfg.max_in_flight),
    max_attempts(cfg.max_attempts), backoff_max_ms(cfg.backoff.max_ms),
    rate_limit_per_s(cfg.rate_limit_per_s), disable_after_hours(cfg.disable_after_hours) {}

attempt_policy::attempt_policy(const subscriber_config& cfg)
  : cfg_(cfg), breaker_(cfg.breaker), limit_(cfg.concurrency, cfg.max_in_flight), backoff_(cfg.backoff),
    limiter_(cfg.rate_limit_per_s), disable_clock_(cfg.disable_after_hours) {}

void attempt_policy::reconfigure(const subscriber_config& cfg) {
  if (!same_breaker(cfg_.breaker, cfg.breaker))
    breaker_ = circuit_breaker{cfg.breaker};
  if (!same_concurrency(cfg_.concurrency, cfg_.max_in_flight, cfg.concurrency, cfg.max_in_flight))
    limit_ = concurrency_limit{cfg.concurrency, cfg.max_in_flight};
  if (cfg.disable_after_hours != cfg_.disable_after_hours)
    disable_clock_ = auto_disable{cfg.disable_after_hours};
  if (cfg.rate_limit_per_s != cfg_.rate_limit_per_s)
    limiter_ = token_bucket{cfg.rate_limit_per_s};
  backoff_ = backoff_policy{cfg.backoff};
  cfg_ = settings{cfg};
}

admission attempt_policy::admit(size_t in_flight, int64_t now_ms) {
  if (now_ms < paused_until_ms_)
    return {admission::answer::wait, paused_until_ms_, false};
  if (!limit_.may_start(in_flight))
    return {admission::answer::hold, 0, false};
  if (!limiter_.ready(now_ms))
    return {admission::answer::wait, limiter_.next_token_ms(now_ms), false};
  switch (breaker_.admit(now_ms)) {
    case breaker_admission::refused:
      if (breaker_.state() == breaker_state::open)
        return {admission::answer::wait, breaker_.open_until_ms(), false};
      return {admission::answer::hold, 0, false};
    case breaker_admission::probe:
      limiter_.take();
      return {admission::answer::go, 0, true};
    case breaker_admission::request:
      break;
  }
  limiter_.take();
  return {admission::answer::go, 0, false};
}

void attempt_policy::unsent(int64_t now_ms, attempt_decision& d) {
  if (breaker_.state() == breaker_state::half_open && breaker_.on_failure(now_ms))
    d.breaker = breaker_change::opened;
}

attempt_decision attempt_policy::decide(const delivery_record& record, const attempt_result& r,
                                        int64_t now_ms, double random01) {
  attempt_decision d;
  d.result = classify(r);
  if (r.no_socket) {
    // Our own open-file limit, not the endpoint: neither the breaker nor
    // the limit nor the disable clock learns from it (but a half-open
    // probe must end, as a failure), and it is tried again after the
    // first backoff step, not a growing one.
    unsent(now_ms, d);
    d.what = attempt_decision::action::retry;
    d.retry_at_ms = now_ms + static_cast<int64_t>(backoff_.delay_ms(1, random01));
    return d;
  }
  d.limit = limit_.on_result(load_signal_of(r), r.latency_ms);
  if (d.result.what == verdict::delivered) {
    disable_clock_.on_success();
  } else {
    disable_clock_.on_failure(now_ms);
    d.disable_reason = disable_clock_.should_disable();
  }
  switch (d.result.what) {
    case verdict::delivered:
      d.what = attempt_decision::action::finish;
      if (breaker_.on_success(now_ms))
        d.breaker = breaker_change::closed;
      return d;
    case verdict::retry: {
      // "Too many requests": the adaptive limit answers it, not the breaker.
      bool refusal = r.status == 429 && cfg_.concurrency.adaptive;
      if (refusal ? breaker_.on_refusal(now_ms) : breaker_.on_failure(now_ms))
        d.breaker = breaker_change::opened;
      if (record.attempts >= cfg_.max_attempts) {
        d.what = attempt_decision::action::dead_letter;
        d.reason = "attempts exhausted, last: " + d.result.reason;
        return d;
      }
      auto delay = backoff_.delay_ms(record.attempts, random01);
      if (honours_retry_after(r.status)) {
        auto asked = parse_retry_after_ms(r.retry_after, now_ms);
        delay = backoff_.with_retry_after(delay, asked);
        // The endpoint said when it can take more: nothing goes to it
        // before then (clamped to the backoff cap, as a delivery's is).
        if (asked && pauses_endpoint(r.status))
          paused_until_ms_ =
            std::max(paused_until_ms_, now_ms + static_cast<int64_t>(std::min(*asked, cfg_.backoff_max_ms)));
      }
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
      // A refused address is a configuration error: no attempt can succeed
      // until the config changes, so it is not retried. The endpoint was
      // never reached, so the breaker learns nothing from it, unless it was
      // the half-open probe: that one must end, as a failure.
      if (r.address_refused) {
        unsent(now_ms, d);
        d.what = attempt_decision::action::dead_letter;
        d.reason = d.result.reason;
        return d;
      }
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
