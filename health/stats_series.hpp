#pragma once
// The monitor's rolling windows read as time series, one point per slot, for
// the dashboard's charts (GET /v1/stats/series). A window is one the monitor
// keeps anyway; its slots set the resolution:
//   1m   six 10-second slots
//   1h   twelve 5-minute slots
//   24h  twenty-four 1-hour slots
// Plain data, no CAF.

#include "health/rolling_window.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace volley {

enum class series_window { minute, hour, day };

// "1m", "1h", "24h"; nullopt for anything else.
std::optional<series_window> parse_series_window(std::string_view name);
const char* to_string(series_window w);
// "1m, 1h, 24h", for error messages.
std::string known_series_windows();

struct series_point {
  int64_t start_ms = 0; // the slot's start, unix ms
  uint64_t attempts = 0;
  uint64_t successes = 0;
  uint64_t failures = 0;
  uint64_t delivered = 0;     // deliveries that ended delivered in the slot
  uint64_t dead_lettered = 0; // and in the dead-letter queue
  uint64_t timed = 0;         // attempts with a latency (that got an answer)
  double p50_ms = 0;          // 0 when nothing was timed
  double p99_ms = 0;

  // Percent of successful attempts; nullopt without attempts (a gap in a
  // chart, not a perfect score).
  std::optional<double> success_rate() const;
};

std::vector<series_point> series_points(const rolling_window& w, int64_t now_ms);

struct subscriber_series {
  std::string name;
  std::vector<series_point> points;
};

struct stats_series {
  series_window window = series_window::hour;
  uint64_t window_ms = 0;
  uint64_t slot_ms = 0;
  int64_t now_ms = 0;
  std::vector<series_point> node;
  std::vector<subscriber_series> subscribers; // by name
};

} // namespace volley
