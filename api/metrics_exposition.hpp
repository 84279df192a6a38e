#pragma once
// GET /metrics: the monitor's metrics_snapshot as Prometheus text. Names
// volley_*, base units (seconds), counters ending in _total; one series per
// subscriber, per event type (capped by the monitor) and per outcome, so
// the number of series is bounded by the config. Plain logic, no I/O.

#include "health/metrics_snapshot.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace volley {

// Upper bounds (seconds) of the attempt latency histogram. Each bucket of
// the monitor's finer histogram counts under the first bound at or above
// its own upper bound, so a latency may show one fine bucket (at most 25 %)
// above its true value, never below.
const std::vector<double>& latency_bounds_seconds();

// "2xx" for "200", "5xx" for "503"; "timeout" and "connection_error" as they
// are; anything else "other".
std::string status_class(std::string_view outcome);

std::string metrics_exposition(const metrics_snapshot& m);

} // namespace volley
