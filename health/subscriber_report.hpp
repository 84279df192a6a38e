#pragma once
// What a subscriber tells the monitor about itself, about once a second and
// at once on a state change: counts since its previous report, a sample of
// its latest failures, and its gauges (queue, in flight, breaker, enabled).

#include "delivery/circuit_breaker.hpp"
#include "health/delivery_counts.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace volley {

struct failure_record {
  int64_t at_ms = 0;
  std::string subscriber;
  std::string event_id;
  std::string type;
  uint32_t attempt = 0;
  int status = 0;
  std::string error;
};

struct subscriber_report {
  std::string name;
  delivery_counts counts; // since the previous report
  int64_t last_attempt_ms = 0;
  int64_t last_success_ms = 0;
  int64_t last_failure_ms = 0;
  std::string last_error;
  std::unordered_map<std::string, delivery_counts> by_type; // since the previous report
  std::vector<failure_record> failures; // a sample of the latest, since the previous report
  std::array<size_t, 4> ready_by_priority{};
  size_t waiting_retry = 0;
  size_t queued = 0; // in memory, waiting (retry timers included)
  bool backlog_on_disk = false;
  size_t in_flight = 0;
  uint32_t limit = 0;          // requests it may have in flight now (adaptive)
  uint32_t max_in_flight = 0;  // the ceiling of `limit`
  std::string limit_cause;     // why the limit last changed ("overload", ...); empty: never
  int64_t paused_until_ms = 0; // Retry-After: nothing is sent before this; 0: not paused
  breaker_state breaker = breaker_state::closed;
  uint32_t consecutive_failures = 0;
  bool enabled = true;
  std::string disabled_reason; // empty when enabled
};

// Whether two reports show the same state (counts aside).
inline bool same_gauges(const subscriber_report& a, const subscriber_report& b) {
  return a.ready_by_priority == b.ready_by_priority && a.waiting_retry == b.waiting_retry &&
         a.queued == b.queued && a.backlog_on_disk == b.backlog_on_disk && a.in_flight == b.in_flight &&
         a.limit == b.limit && a.max_in_flight == b.max_in_flight && a.limit_cause == b.limit_cause &&
         a.paused_until_ms == b.paused_until_ms && a.breaker == b.breaker &&
         a.consecutive_failures == b.consecutive_failures && a.enabled == b.enabled &&
         a.disabled_reason == b.disabled_reason && a.last_error == b.last_error &&
         a.last_attempt_ms == b.last_attempt_ms;
}

} // namespace volley
