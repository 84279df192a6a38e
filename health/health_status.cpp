#include "health/health_status.hpp"

namespace volley {

const char* to_string(health h) {
  switch (h) {
    case health::healthy:
      return "healthy";
    case health::degraded:
      return "degraded";
    case health::unhealthy:
      return "unhealthy";
    case health::unknown:
      return "unknown";
  }
  return "unknown";
}

health classify_health(uint64_t window_attempts, double success_rate, int64_t last_attempt_ms, int64_t now_ms,
                       const health_thresholds& t) {
  if (last_attempt_ms == 0 || now_ms - last_attempt_ms > t.unknown_after_ms)
    return health::unknown;
  if (window_attempts == 0)
    return health::healthy; // attempts within the hour, none failing recently
  if (success_rate >= t.healthy_percent)
    return health::healthy;
  if (success_rate >= t.degraded_percent)
    return health::degraded;
  return health::unhealthy;
}

} // namespace volley
