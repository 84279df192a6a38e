#pragma once
// GET /v1/stats/series?window=1h: the monitor's counts slot by slot, for
// charts. Plain logic, no I/O. The answer:
//   {"ok":true, "window":"1h", "window_s":3600, "slot_s":300,
//    "now":"<RFC 3339>",
//    "node":{"points":[P, ...]},
//    "subscribers":[{"subscriber":"billing", "points":[P, ...]}, ...]}
// where each P is one slot, oldest first, the last still filling:
//   {"start":"<RFC 3339>", "attempts":N, "successes":N, "failures":N,
//    "delivered":N, "dead_lettered":N, "success_rate":99.5|null,
//    "p50_ms":1.2|null, "p99_ms":14.9|null}
// success_rate is null without attempts in the slot, the latencies null
// without an answered attempt: a gap in a chart, not a zero.

#include "api/api_request.hpp"
#include "api/api_response.hpp"
#include "health/stats_series.hpp"

#include <optional>
#include <string>

namespace volley {

struct series_query {
  series_window window = series_window::hour;
  std::optional<api_response> refused; // a bad or unknown parameter (400)
};

series_query read_series_query(const api_request& request);

std::string series_json(const stats_series& series);

} // namespace volley
