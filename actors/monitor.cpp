#include "actors/monitor.hpp"

#include "logging/logger.hpp"
#include "protocol/timestamp.hpp"

#include <chrono>

namespace volley {

namespace {

// Slots of a tenth of the window (at least a second) keep windows cheap.
rolling_window make_window(const monitor_config& cfg) {
  auto window_ms = cfg.window_s * 1000;
  return rolling_window{window_ms, std::max<uint64_t>(window_ms / 10, 1000)};
}

void add_counts(fields& f, const delivery_counts& w) {
  f.integer("delivered", static_cast<int64_t>(w.delivered))
    .integer("failed", static_cast<int64_t>(w.failures))
    .integer("dead_lettered", static_cast<int64_t>(w.dead_lettered))
    .integer("attempts", static_cast<int64_t>(w.attempts))
    .number("success_rate", w.success_rate())
    .number("p50_ms", w.latency.percentile_ms(0.5))
    .number("p99_ms", w.latency.percentile_ms(0.99));
}

} // namespace

void monitor_state::add_report(subscriber_report& r, int64_t now_ms) {
  auto [it, fresh] = subscribers.try_emplace(r.name, subscriber_view{make_window(cfg), {}, {}, {}});
  auto& v = it->second;
  v.window.add(now_ms, r.counts);
  v.total.merge(r.counts);
  node_window.add(now_ms, r.counts);
  node_total.merge(r.counts);
  node_last_attempt_ms = std::max(node_last_attempt_ms, r.last_attempt_ms);
  r.last_attempt_ms = std::max(r.last_attempt_ms, v.last.last_attempt_ms);
  r.last_success_ms = std::max(r.last_success_ms, v.last.last_success_ms);
  r.last_failure_ms = std::max(r.last_failure_ms, v.last.last_failure_ms);
  if (r.last_error.empty())
    r.last_error = v.last.last_error;
  r.counts = delivery_counts{};
  v.last = std::move(r);
  // A health change is worth a line at once, not at the next interval.
  auto w = v.window.total(now_ms);
  auto now_status = classify_health(w.attempts, w.success_rate(), v.last.last_attempt_ms, now_ms,
                                    thresholds);
  if (now_status != v.status) {
    auto before = v.status;
    v.status = now_status;
    if (before != health::unknown || now_status != health::healthy || !fresh) {
      fields f;
      f.text("subscriber", it->first).text("status", to_string(now_status)).text("was", to_string(before));
      emit(f);
    }
  }
}

fields monitor_state::node_fields(int64_t now_ms) {
  auto w = node_window.total(now_ms);
  node_status = classify_health(w.attempts, w.success_rate(), node_last_attempt_ms, now_ms, thresholds);
  fields f;
  f.flag("node").text("status", to_string(node_status));
  add_counts(f, w);
  f.integer("queued", static_cast<int64_t>(storage.pending))
    .integer("dlq", static_cast<int64_t>(storage.dlq));
  return f;
}

fields monitor_state::subscriber_fields(const std::string& name, subscriber_view& v, int64_t now_ms) {
  auto w = v.window.total(now_ms);
  v.status = classify_health(w.attempts, w.success_rate(), v.last.last_attempt_ms, now_ms, thresholds);
  fields f;
  f.text("subscriber", name)
    .text("status", to_string(v.status))
    .text("breaker", to_string(v.last.breaker))
    .boolean("enabled", v.last.enabled);
  add_counts(f, w);
  f.integer("consecutive_failures", v.last.consecutive_failures)
    .integer("in_flight", static_cast<int64_t>(v.last.in_flight))
    .integer("queued", static_cast<int64_t>(v.last.queued))
    .boolean("backlog_on_disk", v.last.backlog_on_disk);
  if (!v.last.last_error.empty())
    f.text("last_error", v.last.last_error);
  return f;
}

void monitor_state::emit(const fields& f) const {
  if (cfg.format == "json")
    log_info("monitor " + f.json_object());
  else
    log_info("monitor " + f.logfmt());
}

void monitor_state::log_all(int64_t now_ms) {
  emit(node_fields(now_ms));
  for (auto& [name, v] : subscribers)
    emit(subscriber_fields(name, v, now_ms));
}

std::string monitor_state::stats_line(int64_t now_ms) {
  auto node = node_fields(now_ms);
  node.integer("delivered_total", static_cast<int64_t>(node_total.delivered))
    .integer("attempts_total", static_cast<int64_t>(node_total.attempts))
    .integer("dead_lettered_total", static_cast<int64_t>(node_total.dead_lettered))
    .integer("window_s", static_cast<int64_t>(cfg.window_s));
  std::string subs = "[";
  for (auto& [name, v] : subscribers) {
    if (subs.size() > 1)
      subs += ',';
    auto f = subscriber_fields(name, v, now_ms);
    f.integer("delivered_total", static_cast<int64_t>(v.total.delivered))
      .integer("attempts_total", static_cast<int64_t>(v.total.attempts))
      .integer("dead_lettered_total", static_cast<int64_t>(v.total.dead_lettered));
    subs += f.json_object();
  }
  subs += ']';
  fields out;
  out.boolean("ok", true).json("node", node.json_object()).json("subscribers", std::move(subs));
  return out.json_object() + "\n";
}

std::string monitor_state::health_line(int64_t now_ms) {
  node_fields(now_ms);
  fields subs;
  for (auto& [name, v] : subscribers) {
    subscriber_fields(name, v, now_ms);
    subs.text(name, to_string(v.status));
  }
  fields out;
  out.boolean("ok", true).text("status", to_string(node_status)).json("subscribers", subs.json_object());
  return out.json_object() + "\n";
}

caf::behavior monitor(caf::stateful_actor<monitor_state>* self, monitor_config cfg,
                      std::vector<std::string> subscriber_names) {
  auto& st = self->state;
  st.thresholds.healthy_percent = cfg.healthy_percent;
  st.thresholds.degraded_percent = cfg.degraded_percent;
  st.node_window = make_window(cfg);
  st.cfg = std::move(cfg);
  for (auto& name : subscriber_names)
    st.subscribers.try_emplace(name, monitor_state::subscriber_view{make_window(st.cfg), {}, {}, {}});
  auto interval = std::chrono::milliseconds(st.cfg.interval_ms);
  self->delayed_send(self, interval, tick_atom::value);
  return {
    [=](report_atom, subscriber_report& r) { self->state.add_report(r, unix_ms_now()); },
    [=](forget_atom, const std::string& name) { self->state.subscribers.erase(name); },
    [=](gauges_atom, const storage_gauges& g) { self->state.storage = g; },
    [=](tick_atom) {
      self->state.log_all(unix_ms_now());
      self->delayed_send(self, interval, tick_atom::value);
    },
    [=](op_atom, const std::string& op, const std::string&) -> std::string {
      auto now = unix_ms_now();
      if (op == "stats")
        return self->state.stats_line(now);
      if (op == "health")
        return self->state.health_line(now);
      return error_line("unknown op \"" + op + "\"");
    },
  };
}

} // namespace volley
