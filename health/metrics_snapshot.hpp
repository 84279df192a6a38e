#pragma once
// What /metrics shows, as numbers: the monitor's counts since start and the
// latest gauges. The monitor's core builds it; the HTTP API renders it as
// Prometheus text (api/metrics_exposition.hpp).

#include "health/delivery_counts.hpp"
#include "health/subscriber_report.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace volley {

// Events answered since start, over the TCP ingress and the HTTP API.
struct ingest_counts {
  uint64_t accepted = 0;   // acknowledged once on disk (repeats not included)
  uint64_t duplicates = 0; // repeats of a client id in the dedup window: acknowledged, not delivered again
  uint64_t refused = 0;    // answered with an error because storage did not take them
  uint64_t invalid = 0;    // event lines refused as malformed
};

struct subscriber_metrics {
  std::string name;
  delivery_counts total;    // since start
  subscriber_report gauges; // its latest report: queue, in flight, limit, breaker, enabled
};

struct metrics_snapshot {
  ingest_counts events;
  size_t pending = 0; // deliveries on disk, in flight included
  size_t dlq = 0;
  uint64_t memory_bytes = 0;                   // deliveries' bytes in memory, as queue.memory_mb counts them
  uint64_t memory_budget_bytes = 0;            // queue.memory_mb in bytes; 0: no budget
  std::vector<subscriber_metrics> subscribers; // by name
  // Since start, by event type: at most monitor_core::max_event_types, the
  // rest together as "(other)".
  std::vector<std::pair<std::string, delivery_counts>> event_types;
};

} // namespace volley
