#include "health/monitor_core.hpp"

#include "health/monitor_snapshot.hpp"

#include "protocol/ingress_line.hpp"
#include "protocol/json_text.hpp"
#include "time/timestamp.hpp"

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

const rolling_window& monitor_windows::of(series_window w) const {
  switch (w) {
    case series_window::minute:
      return minute;
    case series_window::hour:
      return hour;
    case series_window::day:
      return day;
  }
  return hour;
}

monitor_core::monitor_core(monitor_config cfg, const std::vector<std::string>& subscribers, line_sink sink)
  : cfg_(std::move(cfg)), sink_(std::move(sink)), node_(cfg_.window_s * 1000) {
  thresholds_.healthy_percent = cfg_.healthy_percent;
  thresholds_.degraded_percent = cfg_.degraded_percent;
  for (const auto& name : subscribers)
    view(name);
}

health monitor_core::classify(const monitor_windows& w, int64_t last_attempt_ms, int64_t now_ms) const {
  // Judged on the log window; when it saw no attempt, on the last hour, so
  // an endpoint that only failed does not turn healthy by going quiet.
  auto t = w.log.total(now_ms);
  if (t.attempts == 0)
    t = w.hour.total(now_ms);
  return classify_health(t.attempts, t.success_rate(), last_attempt_ms, now_ms, thresholds_);
}

monitor_core::subscriber_view& monitor_core::view(const std::string& name) {
  auto it = subscribers_.find(name);
  if (it == subscribers_.end())
    it = subscribers_.emplace(name, subscriber_view{cfg_.window_s * 1000}).first;
  return it->second;
}

void monitor_core::add_report(subscriber_report& r, int64_t now_ms) {
  bool known = subscribers_.count(r.name) > 0;
  auto& v = view(r.name);
  v.windows.add(now_ms, r.counts);
  v.total.merge(r.counts);
  node_.add(now_ms, r.counts);
  node_total_.merge(r.counts);
  node_last_attempt_ms_ = std::max(node_last_attempt_ms_, r.last_attempt_ms);
  for (auto& [type, counts] : r.by_type) {
    auto key = event_types_.size() < max_event_types || event_types_.count(type) ? type : "(other)";
    event_types_.try_emplace(key, monitor_windows{cfg_.window_s * 1000}).first->second.add(now_ms, counts);
    event_type_totals_[key].merge(counts);
  }
  for (auto& f : r.failures) {
    failures_.push_back(std::move(f));
    if (failures_.size() > max_failures)
      failures_.pop_front();
  }
  // State changes, logged as they arrive.
  if (known && r.breaker != v.last.breaker) {
    fields f;
    f.text("subscriber", r.name)
      .text("event", std::string{"breaker_"} + to_string(r.breaker))
      .text("breaker", to_string(r.breaker))
      .integer("consecutive_failures", r.consecutive_failures);
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
    f.text("subscriber", v.last.name)
      .text("event", "health")
      .text("status", to_string(status))
      .text("was", to_string(v.status));
    v.status = status;
    emit(f);
  }
}

void monitor_core::add_gauges(const storage_gauges& g) {
  if (storage_seen_ && g.dlq > storage_.dlq) {
    fields f;
    node_word(f)
      .text("event", "dlq_growth")
      .integer("dlq", static_cast<int64_t>(g.dlq))
      .integer("added", static_cast<int64_t>(g.dlq - storage_.dlq));
    emit(f);
  }
  storage_ = g;
  storage_seen_ = true;
}

fields monitor_core::node_line(int64_t now_ms) {
  auto w = node_.log.total(now_ms);
  node_status_ = classify(node_, node_last_attempt_ms_, now_ms);
  fields f;
  node_word(f).text("status", to_string(node_status_));
  add_counts(f, w);
  f.integer("slow", static_cast<int64_t>(w.slow))
    .number("avg_attempts", w.attempts_per_delivery())
    .integer("queued", static_cast<int64_t>(storage_.pending))
    .integer("dlq", static_cast<int64_t>(storage_.dlq));
  return f;
}

fields monitor_core::subscriber_line(const std::string& name, subscriber_view& v, int64_t now_ms) {
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
    .integer("limit", v.last.limit)
    .integer("queued", static_cast<int64_t>(v.last.queued))
    .boolean("backlog_on_disk", v.last.backlog_on_disk);
  if (!v.last.last_error.empty())
    f.text("last_error", v.last.last_error);
  return f;
}

fields& monitor_core::node_word(fields& f) const {
  // "monitor node ..." in a single node, "monitor node=node-a ..." in a cluster.
  if (cluster_ && !cluster_->node.empty())
    return f.text("node", cluster_->node);
  return f.flag("node");
}

void monitor_core::emit(const fields& f) const {
  if (cluster_ && !cluster_->node.empty() && !f.has("node")) {
    // In a cluster every line says which node wrote it.
    auto tagged = f;
    tagged.text("node", cluster_->node);
    sink_(render(tagged));
    return;
  }
  sink_(render(f));
}

std::string monitor_core::render(const fields& f) const {
  if (cfg_.format != "json")
    return "monitor " + f.logfmt();
  // One JSON object, said to be the monitor's by its first member.
  auto object = f.json_object();
  return object.size() > 2 ? "{\"source\":\"monitor\"," + object.substr(1) : "{\"source\":\"monitor\"}";
}

std::string monitor_core::cluster_json() const {
  fields f;
  f.text("name", cluster_->node).json("partitions", json_integer_array(cluster_->partitions));
  fields lag;
  int64_t total = 0;
  for (const auto& [p, n] : cluster_->lag) {
    lag.integer(std::to_string(p), n);
    total += n;
  }
  f.json("lag", lag.json_object())
    .integer("consumer_lag", total)
    .integer("consumed", static_cast<int64_t>(cluster_->consumed))
    .integer("rejected", static_cast<int64_t>(cluster_->rejected));
  return f.json_object();
}

void monitor_core::log_all(int64_t now_ms) {
  emit(node_line(now_ms));
  for (auto& [name, v] : subscribers_) {
    if (v.logged_limit != 0 && v.last.limit != 0 && v.last.limit != v.logged_limit) {
      fields f;
      f.text("subscriber", name)
        .text("event", "limit")
        .integer("limit", v.last.limit)
        .integer("was", v.logged_limit)
        .integer("max_in_flight", v.last.max_in_flight)
        .text("cause", v.last.limit_cause);
      emit(f);
    }
    if (v.last.limit != 0)
      v.logged_limit = v.last.limit;
    emit(subscriber_line(name, v, now_ms));
  }
}

std::string monitor_core::windows_json(const monitor_windows& w, int64_t now_ms, int hours) const {
  fields f;
  f.json("1m", counts_json(w.minute.total(now_ms)))
    .json("1h", counts_json(w.hour.total(now_ms)))
    .json("24h", counts_json(w.day.total(now_ms)));
  if (hours > 1 && hours < 24) // 1h and 24h are there already
    f.json(std::to_string(hours) + "h",
           counts_json(w.day.total(now_ms, static_cast<uint64_t>(hours) * hour_ms)));
  return f.json_object();
}

std::string monitor_core::stats_line(int hours, int64_t now_ms) {
  auto node_fields = node_line(now_ms);
  node_fields.json("windows", windows_json(node_, now_ms, hours))
    .json("since_start", counts_json(node_total_))
    .integer("window_s", static_cast<int64_t>(cfg_.window_s));
  std::string subs = "[";
  for (auto& [name, v] : subscribers_) {
    auto f = subscriber_line(name, v, now_ms);
    f.json("windows", windows_json(v.windows, now_ms, hours)).json("since_start", counts_json(v.total));
    subs += (subs.size() > 1 ? "," : "") + f.json_object();
  }
  std::string types = "[";
  for (auto& [type, w] : event_types_) {
    fields f;
    f.text("type", type).json("windows", windows_json(w, now_ms, hours));
    types += (types.size() > 1 ? "," : "") + f.json_object();
  }
  node_fields.text("statistics_saved",
                   storage_.statistics_saved_ms > 0 ? format_rfc3339_ms(storage_.statistics_saved_ms) : "");
  if (memory_) {
    fields memory;
    memory.integer("used_bytes", static_cast<int64_t>(memory_->used()))
      .integer("budget_bytes", static_cast<int64_t>(memory_->limit_or_zero()));
    node_fields.json("memory", memory.json_object());
  }
  fields out;
  out.boolean("ok", true).json("node", node_fields.json_object());
  if (cluster_)
    out.json("cluster", cluster_json());
  out.json("subscribers", subs + "]").json("event_types", types + "]");
  return out.json_object() + "\n";
}

std::string monitor_core::health_line(int64_t now_ms) {
  node_line(now_ms);
  fields subs;
  for (auto& [name, v] : subscribers_) {
    subscriber_line(name, v, now_ms);
    subs.text(name, to_string(v.status));
  }
  fields out;
  out.boolean("ok", true).text("status", to_string(node_status_)).json("subscribers", subs.json_object());
  return out.json_object() + "\n";
}

std::string monitor_core::subscribers_line(int64_t now_ms) {
  std::string list = "[";
  for (auto& [name, v] : subscribers_) {
    const auto& r = v.last;
    fields f;
    f.text("subscriber", name)
      .text("status", to_string(classify(v.windows, r.last_attempt_ms, now_ms)))
      .boolean("enabled", r.enabled)
      .text("disabled_reason", r.disabled_reason)
      .text("breaker", to_string(r.breaker))
      .integer("consecutive_failures", r.consecutive_failures)
      .integer("in_flight", static_cast<int64_t>(r.in_flight))
      .integer("limit", r.limit)
      .integer("max_in_flight", r.max_in_flight)
      .text("paused_until", r.paused_until_ms > now_ms ? format_rfc3339_ms(r.paused_until_ms) : "")
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

std::string monitor_core::failures_line(size_t limit) const {
  std::string list = "[";
  size_t n = 0;
  for (auto it = failures_.rbegin(); it != failures_.rend() && n < limit; ++it, ++n) {
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

metrics_snapshot monitor_core::metrics() const {
  metrics_snapshot out;
  out.events.accepted = storage_.events_accepted;
  out.events.duplicates = storage_.events_duplicate;
  out.events.refused = storage_.events_refused;
  out.events.invalid = events_invalid_;
  out.pending = storage_.pending;
  out.dlq = storage_.dlq;
  if (memory_) {
    out.memory_bytes = memory_->used();
    out.memory_budget_bytes = memory_->limit_or_zero();
  }
  for (const auto& [name, v] : subscribers_) {
    subscriber_metrics m;
    m.name = name;
    m.total = v.total;
    m.gauges = v.last;
    out.subscribers.push_back(std::move(m));
  }
  for (const auto& [type, counts] : event_type_totals_)
    out.event_types.emplace_back(type, counts);
  return out;
}

stats_series monitor_core::series(series_window window, int64_t now_ms) const {
  stats_series out;
  out.window = window;
  const auto& node_window = node_.of(window);
  out.window_ms = node_window.window_ms();
  out.slot_ms = node_window.slot_ms();
  out.now_ms = now_ms;
  out.node = series_points(node_window, now_ms);
  for (const auto& [name, v] : subscribers_)
    out.subscribers.push_back({name, series_points(v.windows.of(window), now_ms)});
  return out;
}

std::string monitor_core::answer(const control_request& req, int64_t now_ms) {
  switch (req.op) {
    case control_op::stats:
      return stats_line(req.hours, now_ms);
    case control_op::health:
      return health_line(now_ms);
    case control_op::subscribers:
      return subscribers_line(now_ms);
    case control_op::failures:
      return failures_line(req.limit);
    default:
      return error_line(std::string{"the monitor does not answer \""} + req.name() + "\"");
  }
}

std::string monitor_core::snapshot() const {
  rapidjson::StringBuffer buffer;
  json_writer w{buffer};
  auto string = [&](const std::string& t) {
    w.String(t.c_str(), static_cast<rapidjson::SizeType>(t.size()));
  };
  auto windows = [&](const monitor_windows& m) {
    w.Key("hour"), write_window(w, m.hour);
    w.Key("day"), write_window(w, m.day);
  };
  w.StartObject();
  w.Key("v"), w.Uint(1);
  w.Key("node");
  w.StartObject();
  windows(node_);
  w.Key("total"), write_counts(w, node_total_);
  w.Key("last_attempt"), w.Int64(node_last_attempt_ms_);
  w.EndObject();
  w.Key("subscribers");
  w.StartArray();
  for (const auto& [name, v] : subscribers_) {
    w.StartObject();
    w.Key("name"), string(name);
    windows(v.windows);
    w.Key("total"), write_counts(w, v.total);
    w.Key("last_attempt"), w.Int64(v.last.last_attempt_ms);
    w.Key("last_success"), w.Int64(v.last.last_success_ms);
    w.Key("last_failure"), w.Int64(v.last.last_failure_ms);
    w.Key("last_error"), string(v.last.last_error);
    w.EndObject();
  }
  w.EndArray();
  w.Key("types");
  w.StartArray();
  for (const auto& [type, m] : event_types_) {
    w.StartObject();
    w.Key("type"), string(type);
    windows(m);
    w.EndObject();
  }
  w.EndArray();
  w.Key("failures");
  w.StartArray();
  for (const auto& f : failures_)
    write_failure(w, f);
  w.EndArray();
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

bool monitor_core::restore(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("v") || !doc["v"].IsUint() ||
      doc["v"].GetUint() != 1)
    return false;
  auto windows = [&](const rapidjson::Value& v, monitor_windows& m) {
    if (v.HasMember("hour"))
      read_window(v["hour"], m.hour);
    if (v.HasMember("day"))
      read_window(v["day"], m.day);
  };
  auto time = [](const rapidjson::Value& v, const char* name) -> int64_t {
    return v.HasMember(name) && v[name].IsInt64() ? v[name].GetInt64() : 0;
  };
  if (doc.HasMember("node") && doc["node"].IsObject()) {
    const auto& n = doc["node"];
    windows(n, node_);
    if (n.HasMember("total"))
      read_counts(n["total"], node_total_);
    node_last_attempt_ms_ = std::max(node_last_attempt_ms_, time(n, "last_attempt"));
  }
  if (doc.HasMember("subscribers") && doc["subscribers"].IsArray())
    for (const auto& s : doc["subscribers"].GetArray()) {
      if (!s.IsObject() || !s.HasMember("name") || !s["name"].IsString())
        continue;
      auto it = subscribers_.find(s["name"].GetString());
      if (it == subscribers_.end())
        continue; // no longer configured
      auto& v = it->second;
      windows(s, v.windows);
      if (s.HasMember("total"))
        read_counts(s["total"], v.total);
      v.last.last_attempt_ms = time(s, "last_attempt");
      v.last.last_success_ms = time(s, "last_success");
      v.last.last_failure_ms = time(s, "last_failure");
      if (s.HasMember("last_error") && s["last_error"].IsString())
        v.last.last_error = s["last_error"].GetString();
    }
  if (doc.HasMember("types") && doc["types"].IsArray())
    for (const auto& t : doc["types"].GetArray()) {
      if (!t.IsObject() || !t.HasMember("type") || !t["type"].IsString() ||
          event_types_.size() >= max_event_types)
        continue;
      auto& m =
        event_types_.try_emplace(t["type"].GetString(), monitor_windows{cfg_.window_s * 1000}).first->second;
      windows(t, m);
    }
  if (doc.HasMember("failures") && doc["failures"].IsArray())
    for (const auto& f : doc["failures"].GetArray()) {
      failure_record r;
      if (read_failure(f, r) && failures_.size() < max_failures)
        failures_.push_back(std::move(r));
    }
  return true;
}

} // namespace volley
