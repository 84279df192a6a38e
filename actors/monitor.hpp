#pragma once
// The monitor actor: a thin shell over monitor_core. Takes the subscribers'
// reports and the storage gauges, writes the monitor log lines every
// monitor.interval_ms and answers the monitor's control ops, /metrics and
// the dashboard's series.

#include "config/config.hpp"
#include "health/monitor_core.hpp"
#include "messages/messages.hpp"
#include "time/clock.hpp"

#include <optional>
#include <string>
#include <vector>

namespace volley {

struct monitor_state {
  static inline const char* name = "monitor";
  std::optional<monitor_core> core;
  clock_fn now;
};

// `snapshot`: the statistics an earlier run left on disk (empty: none).
caf::behavior monitor(caf::stateful_actor<monitor_state>* self, monitor_config cfg,
                      std::vector<std::string> subscriber_names, clock_fn now, std::string snapshot = {},
                      std::shared_ptr<const memory_budget> memory = nullptr);

} // namespace volley
