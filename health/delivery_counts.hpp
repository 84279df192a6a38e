#pragma once
// What the monitor counts. Attempts measure the endpoint's health (retries
// included); delivered and dead-lettered count deliveries, separately.

#include "health/latency_histogram.hpp"

#include <cstdint>
#include <map>
#include <string>

namespace volley {

struct delivery_counts {
  uint64_t attempts = 0;
  uint64_t successes = 0;                   // attempts answered 2xx
  uint64_t failures = 0;                    // attempts that failed, whatever the reason
  uint64_t delivered = 0;                   // deliveries that ended delivered
  uint64_t dead_lettered = 0;               // deliveries that ended in the DLQ
  uint64_t slow = 0;                        // attempts over the slow threshold
  uint64_t delivered_attempts = 0;          // attempts it took, summed over delivered deliveries
  latency_histogram latency;                // of every attempt that got an answer
  std::map<std::string, uint64_t> outcomes; // "200", "503", "timeout", "connection_error"

  void merge(const delivery_counts& other) {
    attempts += other.attempts;
    successes += other.successes;
    failures += other.failures;
    delivered += other.delivered;
    dead_lettered += other.dead_lettered;
    slow += other.slow;
    delivered_attempts += other.delivered_attempts;
    latency.merge(other.latency);
    for (const auto& [key, n] : other.outcomes)
      outcomes[key] += n;
  }

  bool empty() const { return attempts == 0 && delivered == 0 && dead_lettered == 0; }

  double attempts_per_delivery() const {
    return delivered == 0 ? 0 : static_cast<double>(delivered_attempts) / static_cast<double>(delivered);
  }

  // Percent of successful attempts; 100 when there were none.
  double success_rate() const {
    return attempts == 0 ? 100.0 : 100.0 * static_cast<double>(successes) / static_cast<double>(attempts);
  }
};

} // namespace volley
