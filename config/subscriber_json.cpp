#include "config/subscriber_json.hpp"

#include "protocol/fields.hpp"
#include "protocol/json_text.hpp"
#include "time/timestamp.hpp"

namespace volley {

std::string subscriber_json(const subscriber_config& s, const char* source, int64_t updated_ms) {
  fields backoff;
  backoff.integer("base_ms", static_cast<int64_t>(s.backoff.base_ms))
    .integer("max_ms", static_cast<int64_t>(s.backoff.max_ms))
    .number("jitter", s.backoff.jitter, 4);
  fields breaker;
  breaker.integer("failure_threshold", s.breaker.failure_threshold)
    .integer("cooldown_ms", static_cast<int64_t>(s.breaker.cooldown_ms))
    .integer("max_cooldown_ms", static_cast<int64_t>(s.breaker.max_cooldown_ms))
    .number("failure_rate_percent", s.breaker.failure_rate_percent, 4)
    .integer("min_requests", s.breaker.min_requests)
    .integer("rate_window_ms", static_cast<int64_t>(s.breaker.rate_window_ms));
  fields concurrency;
  concurrency.boolean("adaptive", s.concurrency.adaptive)
    .integer("initial", s.concurrency.initial)
    .number("decrease_factor", s.concurrency.decrease_factor, 4)
    .number("latency_ratio", s.concurrency.latency_ratio, 4);
  fields out;
  out.text("name", s.name)
    .text("source", source)
    .text("url", s.url)
    .json("events", json_string_array(s.events))
    .integer("secret_count", static_cast<int64_t>(s.secrets.size()))
    .integer("max_attempts", s.max_attempts)
    .integer("timeout_ms", static_cast<int64_t>(s.timeout_ms))
    .integer("max_in_flight", s.max_in_flight)
    .number("rate_limit_per_s", s.rate_limit_per_s, 4)
    .json("backoff", backoff.json_object())
    .json("breaker", breaker.json_object())
    .json("concurrency", concurrency.json_object())
    .integer("disable_after_hours", s.disable_after_hours)
    .text("legacy_signature_header", s.legacy_signature_header)
    .boolean("tls_insecure", s.tls_insecure)
    .boolean("enabled", s.enabled);
  if (updated_ms != 0)
    out.text("updated", format_rfc3339_ms(updated_ms));
  return out.json_object();
}

} // namespace volley
