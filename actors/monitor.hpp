#pragma once
// The monitor: takes the subscribers' batched reports and the storage
// gauges, keeps rolling windows, and writes the monitor log lines of
// DESIGN.md every monitor.interval_ms (plus one at once on a health change).
// Answers the `stats` and `health` control ops.

#include "config/config.hpp"
#include "health/health_status.hpp"
#include "health/rolling_window.hpp"
#include "messages/messages.hpp"
#include "protocol/fields.hpp"

#include <map>
#include <string>

namespace volley {

struct monitor_state {
  static inline const char* name = "monitor";

  struct subscriber_view {
    rolling_window window;
    delivery_counts total; // since start
    subscriber_report last; // its latest gauges
    health status = health::unknown;
  };

  monitor_config cfg;
  health_thresholds thresholds;
  rolling_window node_window{300000, 10000};
  delivery_counts node_total;
  int64_t node_last_attempt_ms = 0;
  health node_status = health::unknown;
  storage_gauges storage;
  std::map<std::string, subscriber_view> subscribers;

  void add_report(subscriber_report& r, int64_t now_ms);
  fields node_fields(int64_t now_ms);
  fields subscriber_fields(const std::string& name, subscriber_view& v, int64_t now_ms);
  void log_all(int64_t now_ms);
  void emit(const fields& f) const;
  std::string stats_line(int64_t now_ms);
  std::string health_line(int64_t now_ms);
};

caf::behavior monitor(caf::stateful_actor<monitor_state>* self, monitor_config cfg,
                      std::vector<std::string> subscriber_names);

} // namespace volley
