#pragma once
// What the monitor knows, without CAF: the subscribers' batched reports and
// the storage_ gauges in rolling windows (last minute, hour, day, and the log
// window) for the node, each subscriber and each event type. It writes the
// monitor log lines (docs/ARCHITECTURE.md, "Monitor log") when asked, every
// monitor.interval_ms, plus one at once on a health change, a breaker
// transition, a subscriber disabled or enabled, and DLQ growth; and it
// answers the stats, health, subscribers and failures_ ops. Time is passed in.

#include "config/config.hpp"
#include "control/control_request.hpp"
#include "delivery/memory_budget.hpp"
#include "health/health_status.hpp"
#include "health/metrics_snapshot.hpp"
#include "health/rolling_window.hpp"
#include "health/stats_series.hpp"
#include "health/subscriber_report.hpp"
#include "protocol/fields.hpp"

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace volley {

// The spans every entity is counted over.
struct monitor_windows {
  explicit monitor_windows(uint64_t log_window_ms);
  void add(int64_t now_ms, const delivery_counts& c);
  const rolling_window& of(series_window w) const;

  rolling_window minute;
  rolling_window hour;
  rolling_window day;
  rolling_window log; // monitor.window_s: the log lines and health
};

// The storage's sizes, and the events persistence answered since start,
// from persistence.
struct storage_gauges {
  size_t pending = 0;
  size_t dlq = 0;
  uint64_t events_accepted = 0;
  uint64_t events_duplicate = 0;
  uint64_t events_refused = 0;
  int64_t statistics_saved_ms = 0; // the monitor's statistics on disk are as of this; 0: never
};

// What the monitor shows of a cluster node (cluster mode): its name, its
// partitions and their consumer lag, and the records it took in.
struct cluster_gauges {
  std::string node;
  std::vector<int32_t> partitions;
  std::map<int32_t, int64_t> lag;
  uint64_t consumed = 0; // records taken in since start
  uint64_t rejected = 0; // of them, not events (logged and skipped)
};

class monitor_core {
public:
  static constexpr size_t max_event_types = 200; // more are counted as "(other)"
  static constexpr size_t max_failures = 1000;   // recent failures_ kept

  // Where the log lines go (the log, in the daemon).
  using line_sink = std::function<void(const std::string&)>;

  monitor_core(monitor_config cfg, const std::vector<std::string>& subscribers, line_sink sink);

  void add_report(subscriber_report& r, int64_t now_ms);
  void add_gauges(const storage_gauges& g);
  // Event lines refused as malformed (by the ingress or the HTTP API).
  void add_invalid(uint64_t lines) { events_invalid_ += lines; }
  void forget(const std::string& subscriber) { subscribers_.erase(subscriber); }
  // The hour and day windows, totals and recent failures as text (for
  // disk), and back: statistics that outlast a restart. restore() takes
  // only subscribers configured now; false (nothing changed) when the text
  // is not a snapshot.
  std::string snapshot() const;
  bool restore(const std::string& text);

  // Cluster mode: the node's name (on every line), partitions and lag (in stats).
  void set_cluster(cluster_gauges g) { cluster_ = std::move(g); }
  // The node's memory budget, shown in stats and /metrics.
  void watch_memory(std::shared_ptr<const memory_budget> budget) { memory_ = std::move(budget); }
  // The periodic lines: the node's and one per subscriber, and a line for
  // each subscriber whose concurrency limit changed since the last ones (at
  // most one per interval, however often it moved).
  void log_all(int64_t now_ms);
  // The answer line of a monitor op (stats, health, subscribers, failures).
  std::string answer(const control_request& req, int64_t now_ms);
  // Counts since start and the latest gauges, for /metrics.
  metrics_snapshot metrics() const;
  // The node's and each subscriber's counts over `window`, slot by slot.
  stats_series series(series_window window, int64_t now_ms) const;

private:
  struct subscriber_view {
    explicit subscriber_view(uint64_t log_window_ms) : windows(log_window_ms) {}
    monitor_windows windows;
    delivery_counts total;  // since start
    subscriber_report last; // its latest gauges
    health status = health::unknown;
    uint32_t logged_limit = 0; // the concurrency limit the log last showed
  };

  subscriber_view& view(const std::string& name);
  void emit(const fields& f) const;
  // `monitor k=v …` (logfmt), or {"source":"monitor",…} (json).
  std::string render(const fields& f) const;
  fields& node_word(fields& f) const;
  health classify(const monitor_windows& w, int64_t last_attempt_ms, int64_t now_ms) const;
  fields node_line(int64_t now_ms);
  fields subscriber_line(const std::string& name, subscriber_view& v, int64_t now_ms);
  std::string windows_json(const monitor_windows& w, int64_t now_ms, int hours) const;
  std::string stats_line(int hours, int64_t now_ms);
  std::string health_line(int64_t now_ms);
  std::string subscribers_line(int64_t now_ms);
  std::string failures_line(size_t limit) const;
  std::string cluster_json() const;

  monitor_config cfg_;
  std::optional<cluster_gauges> cluster_;
  std::shared_ptr<const memory_budget> memory_;
  line_sink sink_;
  health_thresholds thresholds_;
  monitor_windows node_{300000};
  delivery_counts node_total_;
  int64_t node_last_attempt_ms_ = 0;
  health node_status_ = health::unknown;
  storage_gauges storage_;
  // The first gauges of a run are its baseline: entries already in the
  // dead-letter queue at start are not growth.
  bool storage_seen_ = false;
  std::map<std::string, subscriber_view> subscribers_;
  std::map<std::string, monitor_windows> event_types_;
  std::map<std::string, delivery_counts> event_type_totals_; // since start, same keys
  uint64_t events_invalid_ = 0;
  std::deque<failure_record> failures_; // newest at the back
};

} // namespace volley
