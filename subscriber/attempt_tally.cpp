#include "subscriber/attempt_tally.hpp"

#include <utility>

namespace volley {

attempt_tally::attempt_tally(std::string subscriber, uint64_t slow_ms, uint64_t timeout_ms)
  : subscriber_(std::move(subscriber)), slow_ms_(slow_ms), timeout_ms_(timeout_ms) {}

void attempt_tally::attempt(const delivery& d, const attempt_result& r, const outcome& out, int64_t now_ms) {
  auto& c = counts_.counts;
  auto& t = counts_.by_type[d.payload->type];
  bool ok = out.what == verdict::delivered;
  for (auto* x : {&c, &t}) {
    x->attempts += 1;
    x->successes += ok ? 1 : 0;
    x->failures += ok ? 0 : 1;
    if (ok) {
      x->delivered += 1;
      x->delivered_attempts += d.record.attempts;
    }
  }
  auto key = r.status != 0 ? std::to_string(r.status) : r.timed_out ? "timeout" : "connection_error";
  c.outcomes[key] += 1;
  t.outcomes[key] += 1;
  // A connection error says nothing about how fast the endpoint answers; a
  // timeout says it took at least the timeout.
  if (r.status != 0 || r.timed_out) {
    auto latency_ms = r.timed_out ? static_cast<double>(timeout_ms_) : r.latency_ms;
    c.latency.record(latency_ms);
    t.latency.record(latency_ms);
    if (r.timed_out || latency_ms > static_cast<double>(slow_ms_))
      c.slow += 1;
  }
  counts_.last_attempt_ms = now_ms;
  if (ok) {
    counts_.last_success_ms = now_ms;
    return;
  }
  counts_.last_failure_ms = now_ms;
  counts_.last_error = out.reason;
  if (counts_.failures.size() < max_failures_per_report)
    counts_.failures.push_back(
      {now_ms, subscriber_, d.payload->id, d.payload->type, d.record.attempts, r.status, out.reason});
}

void attempt_tally::dead_lettered(const std::string& type) {
  counts_.counts.dead_lettered += 1;
  counts_.by_type[type].dead_lettered += 1;
}

void attempt_tally::fill(subscriber_report& report) {
  report.name = subscriber_;
  report.counts = std::exchange(counts_.counts, delivery_counts{});
  report.by_type = std::exchange(counts_.by_type, {});
  report.failures = std::exchange(counts_.failures, {});
  report.last_attempt_ms = counts_.last_attempt_ms;
  report.last_success_ms = counts_.last_success_ms;
  report.last_failure_ms = counts_.last_failure_ms;
  report.last_error = counts_.last_error;
}

} // namespace volley
