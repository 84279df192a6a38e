#pragma once
// Health (docs/ARCHITECTURE.md, monitor log): healthy >= 95 %, degraded >= 80 %, unhealthy below,
// unknown with no attempt in the last hour. Thresholds come from the config.

#include <cstdint>

namespace volley {

enum class health { healthy, degraded, unhealthy, unknown };

const char* to_string(health h);

struct health_thresholds {
  double healthy_percent = 95;
  double degraded_percent = 80;
  int64_t unknown_after_ms = 3600 * 1000;
};

// `success_rate` over the window's attempts; `last_attempt_ms` 0 for never.
health classify_health(uint64_t window_attempts, double success_rate, int64_t last_attempt_ms, int64_t now_ms,
                       const health_thresholds& t);

} // namespace volley
