#include "actors/monitor.hpp"

#include "logging/logger.hpp"
#include "protocol/json_text.hpp"
#include "protocol/timestamp.hpp"

#include <rapidjson/document.h>

#include <chrono>

namespace volley {

namespace {

constexpr int64_t minute_ms = 60 * 1000;
constexpr int64_t hour_ms = 60 * minute_ms;

void add_counts(fields& f, const delivery_counts& w) {
  f.integer("delivered", static_cast<int64_t>(w.delivered))
    .integer("failed", static_cast<int64_t>(w.failures))
    .integer("dead_lettered", static_cast<int64_t>(w.dead_lettered))
    .integer("attempts", static_cast<int64_t>(w.attempts))
    .number("success_rate", w.success_rate())
    .number("p50_ms", w.latency.percentile_ms(0.5))
    .number("p99_ms", w.latency.percentile_ms(0.99));
}

std::string counts_json(const delivery_counts& w) {
  fields f;
  add_counts(f, w);
  f.integer("successes", static_cast<int64_t>(w.successes))
    .integer("slow", static_cast<int64_t>(w.slow))
    .number("avg_attempts", w.attempts_per_delivery())
    .number("avg_ms", w.latency.mean_ms());
  fields codes;
  for (const auto& [key, n] : w.outcomes)
    codes.integer(key, static_cast<int64_t>(n));
  f.json("outcomes", codes.json_object());
  return f.json_object();
}

// An integer member of a control line within [lo, hi], or `fallback`.
int int_field(const std::string& line, const char* name, int lo, int hi, int fallback) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(line.data(), line.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember(name) || !doc[name].IsInt())
    return fallback;
  return std::clamp(doc[name].GetInt(), lo, hi);
}

} // namespace

monitor_windows::monitor_windows(uint64_t log_window_ms)
  : minute(minute_ms, 10000), hour(hour_ms, 5 * minute_ms), day(24 * hour_ms, hour_ms),
    log(log_window_ms, std::max<uint64_t>(log_window_ms / 10, 1000)) {}

void monitor_windows::add(int64_t now_ms, const delivery_counts& c) {
  minute.add(now_ms, c);
  hour.add(now_ms, c);
  day.add(now_ms, c);
  log.add(now_ms, c);
}

health monitor_state::classify(const monitor_windows& w, int64_t last_attempt_ms, int64_t now_ms) const {
  // Judged on the log window; when it saw no attempt, on the last hour, so
  // an endpoint that only failed does not turn healthy by going quiet.
  auto t = w.log.total(now_ms);
  if (t.attempts == 0)
    t = w.hour.total(now_ms);
  return classify_health(t.attempts, t.success_rate(), last_attempt_ms, now_ms, thresholds);
}

monitor_state::subscriber_view& monitor_state::view(const std::string& name) {
  auto it = subscribers.find(name);
  if (it == subscribers.end())
    it = subscribers.emplace(name, subscriber_view{monitor_windows{cfg.window_s * 1000}, {}, {}, {}}).first;
  return it->second;
}

void monitor_state::add_report(subscriber_report& r, int64_t now_ms) {
  bool known = subscribers.count(r.name) > 0;
  auto& v = view(r.name);
  v.windows.add(now_ms, r.counts);
  v.total.merge(r.counts);
  node.add(now_ms, r.counts);
  node_total.merge(r.counts);
  node_last_attempt_ms = std::max(node_last_attempt_ms, r.last_attempt_ms);
  for (auto& [type, counts] : r.by_type) {
    auto key = event_types.size() < max_event_types || event_types.count(type) ? type : "(other)";
    event_types.try_emplace(key, monitor_windows{cfg.window_s * 1000}).first->second.add(now_ms, counts);
  }
  for (auto& f : r.failures) {
    failures.push_back(std::move(f));
    if (failures.size() > max_failures)
      failures.pop_front();
  }
  // State changes, logged as they arrive.
  if (known && r.breaker != v.last.breaker) {
    fields f;
    f.text("subscriber", r.name).text("event", std::string{"breaker_"} + to_string(r.breaker))
      .text("breaker", to_string(r.breaker)).integer("consecutive_failures", r.consecutive_failures);
    if (!r.last_error.empty())
      f.text("last_error", r.last_error);
    emit(f);
  }
  if (known && r.enabled != v.last.enabled) {
    fields f;
    f.text("subscriber", r.name).text("event", r.enabled ? "enabled" : "disabled");
    emit(f);
  }
  r.last_attempt_ms = std::max(r.last_attempt_ms, v.last.last_attempt_ms);
  r.last_success_ms = std::max(r.last_success_ms, v.last.last_success_ms);
  r.last_failure_ms = std::max(r.last_failure_ms, v.last.last_failure_ms);
  if (r.last_error.empty())
    r.last_error = v.last.last_error;
  r.counts = delivery_counts{};
  r.by_type.clear();
  r.failures.clear();
  v.last = std::move(r);
  auto status = classify(v.windows, v.last.last_attempt_ms, now_ms);
  if (status != v.status) {
    fields f;
    f.text("subscriber", v.last.name).text("event", "health").text("status", to_string(status))
      .text("was", to_string(v.status));
    v.status = status;
    emit(f);
  }
}

void monitor_state::add_gauges(const storage_gauges& g) {
  if (g.dlq > storage.dlq) {
    fields f;
    f.flag("node").text("event", "dlq_growth").integer("dlq", static_cast<int64_t>(g.dlq))
      .integer("added", static_cast<int64_t>(g.dlq - storage.dlq));
    emit(f);
  }
  storage = g;
}

fields monitor_state::node_line(int64_t now_ms) {
  auto w = node.log.total(now_ms);
  node_status = classify(node, node_last_attempt_ms, now_ms);
  fields f;
  f.flag("node").text("status", to_string(node_status));
  add_counts(f, w);
  f.integer("slow", static_cast<int64_t>(w.slow))
    .number("avg_attempts", w.attempts_per_delivery())
    .integer("queued", static_cast<int64_t>(storage.pending))
    .integer("dlq", static_cast<int64_t>(storage.dlq));
  return f;
}

fields monitor_state::subscriber_line(const std::string& name, subscriber_view& v, int64_t now_ms) {
  auto w = v.windows.log.total(now_ms);
  v.status = classify(v.windows, v.last.last_attempt_ms, now_ms);
  fields f;
  f.text("subscriber", name)
    .text("status", to_string(v.status))
    .text("breaker", to_string(v.last.breaker))
    .boolean("enabled", v.last.enabled);
  add_counts(f, w);
  f.integer("slow", static_cast<int64_t>(w.slow))
    .integer("consecutive_failures", v.last.consecutive_failures)
    .integer("in_flight", static_cast<int64_t>(v.last.in_flight))
    .integer("queued", static_cast<int64_t>(v.last.queued))
    .boolean("backlog_on_disk", v.last.backlog_on_disk);
  if (!v.last.last_error.empty())
    f.text("last_error", v.last.last_error);
  return f;
}

void monitor_state::emit(const fields& f) const {
  log_info("monitor " + (cfg.format == "json" ? f.json_object() : f.logfmt()));
}

void monitor_state::log_all(int64_t now_ms) {
  emit(node_line(now_ms));
  for (auto& [name, v] : subscribers)
    emit(subscriber_line(name, v, now_ms));
}

std::string monitor_state::windows_json(const monitor_windows& w, int64_t now_ms, int hours) const {
  fields f;
  f.json("1m", counts_json(w.minute.total(now_ms)))
    .json("1h", counts_json(w.hour.total(now_ms)))
    .json("24h", counts_json(w.day.total(now_ms)));
  if (hours > 1 && hours < 24) // 1h and 24h are there already
    f.json(std::to_string(hours) + "h", counts_json(w.day.total(now_ms, static_cast<uint64_t>(hours) * hour_ms)));
  return f.json_object();
}

std::string monitor_state::stats_line(int hours, int64_t now_ms) {
  auto node_fields = node_line(now_ms);
  node_fields.json("windows", windows_json(node, now_ms, hours))
    .json("since_start", counts_json(node_total))
    .integer("window_s", static_cast<int64_t>(cfg.window_s));
  std::string subs = "[";
  for (auto& [name, v] : subscribers) {
    auto f = subscriber_line(name, v, now_ms);
    f.json("windows", windows_json(v.windows, now_ms, hours)).json("since_start", counts_json(v.total));
    subs += (subs.size() > 1 ? "," : "") + f.json_object();
  }
  std::string types = "[";
  for (auto& [type, w] : event_types) {
    fields f;
    f.text("type", type).json("windows", windows_json(w, now_ms, hours));
    types += (types.size() > 1 ? "," : "") + f.json_object();
  }
  fields out;
  out.boolean("ok", true)
    .json("node", node_fields.json_object())
    .json("subscribers", subs + "]")
    .json("event_types", types + "]");
  return out.json_object() + "\n";
}

std::string monitor_state::health_line(int64_t now_ms) {
  node_line(now_ms);
  fields subs;
  for (auto& [name, v] : subscribers) {
    subscriber_line(name, v, now_ms);
    subs.text(name, to_string(v.status));
  }
  fields out;
  out.boolean("ok", true).text("status", to_string(node_status)).json("subscribers", subs.json_object());
  return out.json_object() + "\n";
}

std::string monitor_state::subscribers_line(int64_t now_ms) {
  std::string list = "[";
  for (auto& [name, v] : subscribers) {
    const auto& r = v.last;
    fields f;
    f.text("subscriber", name)
      .text("status", to_string(classify(v.windows, r.last_attempt_ms, now_ms)))
      .boolean("enabled", r.enabled)
      .text("disabled_reason", r.disabled_reason)
      .text("breaker", to_string(r.breaker))
      .integer("consecutive_failures", r.consecutive_failures)
      .integer("in_flight", static_cast<int64_t>(r.in_flight))
      .integer("queued", static_cast<int64_t>(r.queued))
      .integer("waiting_retry", static_cast<int64_t>(r.waiting_retry))
      .json("ready_by_priority", json_integer_array(r.ready_by_priority))
      .boolean("backlog_on_disk", r.backlog_on_disk)
      .text("last_success", r.last_success_ms ? format_rfc3339_ms(r.last_success_ms) : "")
      .text("last_failure", r.last_failure_ms ? format_rfc3339_ms(r.last_failure_ms) : "")
      .text("last_error", r.last_error);
    list += (list.size() > 1 ? "," : "") + f.json_object();
  }
  fields out;
  out.boolean("ok", true).json("subscribers", list + "]");
  return out.json_object() + "\n";
}

std::string monitor_state::failures_line(size_t limit) const {
  std::string list = "[";
  size_t n = 0;
  for (auto it = failures.rbegin(); it != failures.rend() && n < limit; ++it, ++n) {
    fields f;
    f.text("at", format_rfc3339_ms(it->at_ms))
      .text("subscriber", it->subscriber)
      .text("event_id", it->event_id)
      .text("type", it->type)
      .integer("attempt", it->attempt)
      .integer("status", it->status)
      .text("error", it->error);
    list += (list.size() > 1 ? "," : "") + f.json_object();
  }
  fields out;
  out.boolean("ok", true).json("failures", list + "]");
  return out.json_object() + "\n";
}

std::string monitor_state::answer(const std::string& op, const std::string& line, int64_t now_ms) {
  if (op == "stats")
    return stats_line(int_field(line, "hours", 1, 24, 0), now_ms);
  if (op == "health")
    return health_line(now_ms);
  if (op == "subscribers")
    return subscribers_line(now_ms);
  if (op == "failures")
    return failures_line(static_cast<size_t>(int_field(line, "limit", 1, 1000, 20)));
  return error_line("unknown op \"" + op + "\"");
}

caf::behavior monitor(caf::stateful_actor<monitor_state>* self, monitor_config cfg,
                      std::vector<std::string> subscriber_names) {
  auto& st = self->state;
  st.thresholds.healthy_percent = cfg.healthy_percent;
  st.thresholds.degraded_percent = cfg.degraded_percent;
  st.node = monitor_windows{cfg.window_s * 1000};
  st.cfg = std::move(cfg);
  for (auto& name : subscriber_names)
    st.view(name);
  auto interval = std::chrono::milliseconds(st.cfg.interval_ms);
  self->delayed_send(self, interval, tick_atom::value);
  return {
    [=](report_atom, subscriber_report& r) { self->state.add_report(r, unix_ms_now()); },
    [=](gauges_atom, const storage_gauges& g) { self->state.add_gauges(g); },
    [=](forget_atom, const std::string& name) { self->state.subscribers.erase(name); },
    [=](tick_atom) {
      self->state.log_all(unix_ms_now());
      self->delayed_send(self, interval, tick_atom::value);
    },
    [=](op_atom, const std::string& op, const std::string& line) {
      return self->state.answer(op, line, unix_ms_now());
    },
  };
}

} // namespace volley
