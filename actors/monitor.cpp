#include "actors/monitor.hpp"

#include "logging/logger.hpp"

#include <chrono>

namespace volley {

caf::behavior monitor(caf::stateful_actor<monitor_state>* self, monitor_config cfg,
                      std::vector<std::string> subscriber_names, clock_fn now, std::string snapshot,
                      std::shared_ptr<const memory_budget> memory) {
  auto interval = std::chrono::milliseconds(cfg.interval_ms);
  bool json = cfg.format == "json";
  self->state.core.emplace(std::move(cfg), subscriber_names, [json](const std::string& line) {
    if (json)
      log_object(log_level::info, line); // its members join the line's time and level
    else
      log_info(line);
  });
  self->state.core->watch_memory(std::move(memory));
  self->state.now = std::move(now);
  if (!snapshot.empty() && !self->state.core->restore(snapshot))
    log_warn("monitor: the statistics left on disk could not be read; counting from zero");
  self->delayed_send(self, interval, tick_atom::value);
  return {
    [=](report_atom, subscriber_report& r) { self->state.core->add_report(r, self->state.now()); },
    [=](gauges_atom, const storage_gauges& g) { self->state.core->add_gauges(g); },
    [=](forget_atom, const std::string& name) { self->state.core->forget(name); },
    [=](snapshot_atom) { return self->state.core->snapshot(); },
    [=](cluster_atom, cluster_gauges& g) { self->state.core->set_cluster(std::move(g)); },
    [=](tick_atom) {
      self->state.core->log_all(self->state.now());
      self->delayed_send(self, interval, tick_atom::value);
    },
    [=](control_atom, const control_request& req) {
      return self->state.core->answer(req, self->state.now());
    },
    [=](invalid_atom, uint64_t lines) { self->state.core->add_invalid(lines); },
    [=](metrics_atom) { return self->state.core->metrics(); },
    [=](series_atom, series_window window) { return self->state.core->series(window, self->state.now()); },
  };
}

} // namespace volley
