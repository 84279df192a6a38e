#include "api/metrics_exposition.hpp"

#include "api/prometheus_text.hpp"

#include <map>

namespace volley {

namespace {

prometheus_histogram seconds_histogram(const latency_histogram& h) {
  const auto& bounds = latency_bounds_seconds();
  prometheus_histogram out;
  out.upper_bounds = bounds;
  out.counts.assign(bounds.size() + 1, 0);
  for (size_t i = 0; i < latency_histogram::bucket_count; ++i) {
    if (h.bucket(i) == 0)
      continue;
    // The last fine bucket holds everything above its bound: +Inf.
    const double upper = latency_histogram::upper_bound_ms(i) / 1000.0;
    size_t slot = bounds.size();
    if (i + 1 < latency_histogram::bucket_count)
      for (size_t b = 0; b < bounds.size(); ++b)
        if (upper <= bounds[b] * (1 + 1e-9)) {
          slot = b;
          break;
        }
    out.counts[slot] += h.bucket(i);
  }
  out.sum = h.sum_ms() / 1000.0;
  return out;
}

double as_value(uint64_t n) { return static_cast<double>(n); }

void subscriber_series(prometheus_text& out, const subscriber_metrics& s) {
  const prometheus_labels who{{"subscriber", s.name}};
  auto with = [&](const char* label, std::string value) {
    auto labels = who;
    labels.emplace_back(label, std::move(value));
    return labels;
  };
  const char* deliveries_help = "Deliveries that ended, by subscriber and outcome (delivered: a "
                                "2xx answer; dead_lettered: moved to the dead-letter queue).";
  out.counter("volley_deliveries_total", deliveries_help, as_value(s.total.delivered),
              with("outcome", "delivered"));
  out.counter("volley_deliveries_total", deliveries_help, as_value(s.total.dead_lettered),
              with("outcome", "dead_lettered"));
  std::map<std::string, uint64_t> classes;
  for (const auto& [outcome, n] : s.total.outcomes)
    classes[status_class(outcome)] += n;
  for (const auto& [cls, n] : classes)
    out.counter("volley_attempts_total",
                "HTTP attempts by subscriber and result: the answer's status class, timeout or "
                "connection_error.",
                as_value(n), with("status_class", cls));
  out.histogram("volley_attempt_duration_seconds",
                "Time from an attempt's start to its answer (attempts that got one), per subscriber.",
                seconds_histogram(s.total.latency), who);
  const auto& g = s.gauges;
  out.gauge("volley_subscriber_queued",
            "Deliveries waiting in memory, retries included (more may wait on disk: "
            "volley_subscriber_backlog_on_disk).",
            as_value(g.queued), who);
  out.gauge("volley_subscriber_backlog_on_disk",
            "1 while deliveries beyond queue.memory_limit wait on disk only.", g.backlog_on_disk ? 1 : 0,
            who);
  out.gauge("volley_subscriber_in_flight", "Requests in flight now.", as_value(g.in_flight), who);
  out.gauge("volley_subscriber_concurrency_limit",
            "Requests the subscriber may have in flight now (the adaptive limit).", g.limit, who);
  out.gauge("volley_subscriber_max_in_flight", "The ceiling of the concurrency limit (max_in_flight).",
            g.max_in_flight, who);
  out.gauge("volley_subscriber_consecutive_failures", "Attempts failed in a row.", g.consecutive_failures,
            who);
  out.gauge("volley_subscriber_enabled", "1 when the subscriber sends, 0 when it is disabled.",
            g.enabled ? 1 : 0, who);
  for (auto state : {breaker_state::closed, breaker_state::open, breaker_state::half_open})
    out.gauge("volley_subscriber_breaker_state",
              "1 for the circuit breaker's current state, 0 for the others.", g.breaker == state ? 1 : 0,
              with("state", to_string(state)));
}

} // namespace

const std::vector<double>& latency_bounds_seconds() {
  static const std::vector<double> bounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                             0.5,   1,      2.5,   5,    10,    30,   60};
  return bounds;
}

std::string status_class(std::string_view outcome) {
  if (outcome == "timeout" || outcome == "connection_error")
    return std::string(outcome);
  if (outcome.size() == 3 && outcome[0] >= '1' && outcome[0] <= '5' &&
      outcome.find_first_not_of("0123456789") == std::string_view::npos)
    return std::string(1, outcome[0]) + "xx";
  return "other";
}

std::string metrics_exposition(const metrics_snapshot& m) {
  prometheus_text out;
  out.counter("volley_events_ingested_total", "Events accepted and on disk (TCP ingress and HTTP API).",
              as_value(m.events.accepted));
  out.counter("volley_events_duplicate_total",
              "Events answered as a repeat of a client id within "
              "the dedup window (not delivered again).",
              as_value(m.events.duplicates));
  const char* rejected_help = "Events refused: invalid (a malformed line or body) or storage "
                              "(storage did not take them; sending them again is safe).";
  out.counter("volley_events_rejected_total", rejected_help, as_value(m.events.invalid),
              {{"reason", "invalid"}});
  out.counter("volley_events_rejected_total", rejected_help, as_value(m.events.refused),
              {{"reason", "storage"}});
  out.gauge("volley_pending_deliveries", "Deliveries owed, on disk (in flight included).",
            as_value(m.pending));
  out.gauge("volley_dlq_entries", "Entries in the dead-letter queue.", as_value(m.dlq));
  out.gauge("volley_memory_bytes", "Bytes of deliveries held in memory, as queue.memory_mb counts them.",
            as_value(m.memory_bytes));
  out.gauge("volley_memory_budget_bytes", "queue.memory_mb in bytes (0: no budget).",
            as_value(m.memory_budget_bytes));
  for (const auto& s : m.subscribers)
    subscriber_series(out, s);
  for (const auto& [type, counts] : m.event_types) {
    const char* help = "Deliveries that ended, by event type (at most 200 types; the rest as "
                       "\"(other)\") and outcome.";
    out.counter("volley_event_type_deliveries_total", help, as_value(counts.delivered),
                {{"event_type", type}, {"outcome", "delivered"}});
    out.counter("volley_event_type_deliveries_total", help, as_value(counts.dead_lettered),
                {{"event_type", type}, {"outcome", "dead_lettered"}});
    out.counter("volley_event_type_attempts_total", "HTTP attempts by event type.", as_value(counts.attempts),
                {{"event_type", type}});
  }
  return out.str();
}

} // namespace volley
