#pragma once
// The monitor: takes the subscribers' batched reports and the storage
// gauges, keeps rolling windows (last minute, hour, day, and the log window)
// for the node, each subscriber and each event type, and writes the monitor
// log lines of DESIGN.md every monitor.interval_ms, plus one at once on a
// health change, a breaker transition, a subscriber disabled or enabled, and
// DLQ growth. Answers the stats, health, subscribers and failures ops.

#include "config/config.hpp"
#include "health/health_status.hpp"
#include "health/rolling_window.hpp"
#include "messages/messages.hpp"
#include "protocol/fields.hpp"

#include <deque>
#include <map>
#include <string>

namespace volley {

// The spans every entity is counted over.
struct monitor_windows {
  explicit monitor_windows(uint64_t log_window_ms);
  void add(int64_t now_ms, const delivery_counts& c);

  rolling_window minute;
  rolling_window hour;
  rolling_window day;
  rolling_window log; // monitor.window_s: the log lines and health
};

struct monitor_state {
  static inline const char* name = "monitor";
  static constexpr size_t max_event_types = 200;  // more are counted as "(other)"
  static constexpr size_t max_failures = 1000;    // recent failures kept

  struct subscriber_view {
    monitor_windows windows;
    delivery_counts total; // since start
    subscriber_report last; // its latest gauges
    health status = health::unknown;
  };

  monitor_config cfg;
  health_thresholds thresholds;
  monitor_windows node{300000};
  delivery_counts node_total;
  int64_t node_last_attempt_ms = 0;
  health node_status = health::unknown;
  storage_gauges storage;
  std::map<std::string, subscriber_view> subscribers;
  std::map<std::string, monitor_windows> event_types;
  std::deque<failure_record> failures; // newest at the back

  subscriber_view& view(const std::string& name);
  void add_report(subscriber_report& r, int64_t now_ms);
  void add_gauges(const storage_gauges& g);
  void log_all(int64_t now_ms);
  void emit(const fields& f) const;
  std::string answer(const std::string& op, const std::string& line, int64_t now_ms);

private:
  health classify(const monitor_windows& w, int64_t last_attempt_ms, int64_t now_ms) const;
  fields node_line(int64_t now_ms);
  fields subscriber_line(const std::string& name, subscriber_view& v, int64_t now_ms);
  std::string windows_json(const monitor_windows& w, int64_t now_ms, int hours) const;
  std::string stats_line(int hours, int64_t now_ms);
  std::string health_line(int64_t now_ms);
  std::string subscribers_line(int64_t now_ms);
  std::string failures_line(size_t limit) const;
};

caf::behavior monitor(caf::stateful_actor<monitor_state>* self, monitor_config cfg,
                      std::vector<std::string> subscriber_names);

} // namespace volley
