#pragma once
// Where actors read the time. The daemon hands them the wall clock; tests
// hand them CAF's virtual clock, so retry timers and breaker cooldowns run
// without real waiting.

#include "time/timestamp.hpp"

#include <cstdint>
#include <functional>

namespace volley {

// Unix milliseconds now.
using clock_fn = std::function<int64_t()>;

inline clock_fn wall_clock() {
  return [] { return unix_ms_now(); };
}

} // namespace volley
