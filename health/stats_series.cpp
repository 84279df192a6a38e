#include "health/stats_series.hpp"

namespace volley {

namespace {

struct window_name {
  series_window window;
  const char* name;
};

constexpr window_name window_names[] = {
  {series_window::minute, "1m"},
  {series_window::hour, "1h"},
  {series_window::day, "24h"},
};

} // namespace

std::optional<series_window> parse_series_window(std::string_view name) {
  for (const auto& w : window_names)
    if (name == w.name)
      return w.window;
  return std::nullopt;
}

const char* to_string(series_window w) {
  for (const auto& n : window_names)
    if (n.window == w)
      return n.name;
  return "1h";
}

std::string known_series_windows() {
  std::string out;
  for (const auto& w : window_names)
    out += (out.empty() ? "" : ", ") + std::string{w.name};
  return out;
}

std::optional<double> series_point::success_rate() const {
  if (attempts == 0)
    return std::nullopt;
  return 100.0 * static_cast<double>(successes) / static_cast<double>(attempts);
}

std::vector<series_point> series_points(const rolling_window& w, int64_t now_ms) {
  std::vector<series_point> out;
  for (const auto& slot : w.points(now_ms)) {
    const auto& c = slot.counts;
    series_point p;
    p.start_ms = slot.start_ms;
    p.attempts = c.attempts;
    p.successes = c.successes;
    p.failures = c.failures;
    p.delivered = c.delivered;
    p.dead_lettered = c.dead_lettered;
    p.timed = c.latency.count();
    p.p50_ms = c.latency.percentile_ms(0.5);
    p.p99_ms = c.latency.percentile_ms(0.99);
    out.push_back(p);
  }
  return out;
}

} // namespace volley
