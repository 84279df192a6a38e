#include "control/control_request.hpp"

#include "protocol/dlq_entries.hpp"

#include <rapidjson/document.h>

#include <algorithm>

namespace volley {

namespace {

using json = rapidjson::Value;

std::string to_string(const json& v) { return {v.GetString(), v.GetStringLength()}; }

// Counts and health: optional fields, clamped into range, anything else
// ignored (as the ops always did).
void read_lenient(const rapidjson::Document& doc, control_request& req) {
  auto int_field = [&](const char* name, int lo, int hi, int fallback) {
    auto it = doc.FindMember(name);
    if (it == doc.MemberEnd() || !it->value.IsInt())
      return fallback;
    return std::clamp(it->value.GetInt(), lo, hi);
  };
  req.hours = int_field("hours", 1, 24, 0);
  req.limit = static_cast<size_t>(int_field("limit", 1, 1000, static_cast<int>(default_failures_limit)));
  auto it = doc.FindMember("subscriber");
  if (it != doc.MemberEnd() && it->value.IsString())
    req.subscriber = to_string(it->value);
}

// The dead-letter ops change or page through stored entries: every field is
// checked, unknown ones refused.
std::string read_dlq(const rapidjson::Document& doc, const std::string& op, control_request& req) {
  req.limit = default_dlq_limit;
  for (auto& m : doc.GetObject()) {
    auto name = to_string(m.name);
    auto& v = m.value;
    if (name == "op")
      continue;
    if (name == "subscriber") {
      if (!v.IsString() || v.GetStringLength() == 0)
        return "\"subscriber\" must be a non-empty string";
      req.subscriber = to_string(v);
    } else if (name == "key" || name == "after") {
      std::optional<delivery_key> key;
      if (v.IsString())
        key = parse_delivery_key(to_string(v));
      if (!key)
        return "\"" + name + "\" must be a DLQ key like \"billing/42\"";
      (name == "key" ? req.key : req.after) = std::move(key);
    } else if (name == "limit") {
      if (!v.IsUint() || v.GetUint() == 0 || v.GetUint() > max_dlq_limit)
        return "\"limit\" must be an integer from 1 to " + std::to_string(max_dlq_limit);
      req.limit = v.GetUint();
    } else {
      return "unknown field \"" + name + "\" for " + op;
    }
  }
  if (req.op != control_op::dlq_list && !req.key && req.subscriber.empty())
    return op + " needs \"key\" (one entry) or \"subscriber\" (all of its entries)";
  return "";
}

// The delivery log's ops: every field checked, unknown ones refused.
std::string read_events(const rapidjson::Document& doc, const std::string& op, control_request& req) {
  req.limit = default_events_limit;
  for (auto& m : doc.GetObject()) {
    auto name = to_string(m.name);
    auto& v = m.value;
    if (name == "op")
      continue;
    if (name == "id" && req.op != control_op::events_list) {
      if (!v.IsString() || v.GetStringLength() == 0)
        return "\"id\" must be an event id";
      req.event_id = to_string(v);
    } else if (name == "subscriber" && req.op != control_op::events_show) {
      if (!v.IsString() || v.GetStringLength() == 0)
        return "\"subscriber\" must be a non-empty string";
      req.subscriber = to_string(v);
    } else if (name == "status" && req.op == control_op::events_list) {
      auto status = v.IsString() ? to_string(v) : std::string{};
      if (status != "failed" && status != "all")
        return "\"status\" must be \"failed\" or \"all\"";
      req.failed_only = status == "failed";
    } else if (name == "since" && req.op == control_op::events_list) {
      auto ms = v.IsString() ? parse_duration_ms(to_string(v))
                : v.IsUint() ? std::optional<int64_t>{int64_t{v.GetUint()} * 1000}
                             : std::nullopt;
      if (!ms)
        return "\"since\" must be a duration like \"90s\", \"30m\", \"1h\" or \"2d\"";
      req.within_ms = *ms;
    } else if (name == "limit" && req.op == control_op::events_list) {
      if (!v.IsUint() || v.GetUint() == 0 || v.GetUint() > max_events_limit)
        return "\"limit\" must be an integer from 1 to " + std::to_string(max_events_limit);
      req.limit = v.GetUint();
    } else {
      return "unknown field \"" + name + "\" for " + op;
    }
  }
  if (req.op != control_op::events_list && req.event_id.empty())
    return op + " needs \"id\": the event's id";
  return "";
}

} // namespace

std::optional<int64_t> parse_duration_ms(std::string_view text) {
  if (text.empty() || text.size() > 12)
    return std::nullopt;
  int64_t unit = 1000;
  switch (text.back()) {
    case 's':
      unit = 1000;
      text.remove_suffix(1);
      break;
    case 'm':
      unit = 60 * 1000;
      text.remove_suffix(1);
      break;
    case 'h':
      unit = 3600 * 1000;
      text.remove_suffix(1);
      break;
    case 'd':
      unit = 24 * 3600 * 1000;
      text.remove_suffix(1);
      break;
    default:
      break;
  }
  if (text.empty())
    return std::nullopt;
  int64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n * unit;
}

const std::vector<control_op_info>& control_ops() {
  static const std::vector<control_op_info> ops = {
    {"stats", control_op::stats, control_owner::monitor},
    {"health", control_op::health, control_owner::monitor},
    {"subscribers", control_op::subscribers, control_owner::monitor},
    {"failures", control_op::failures, control_owner::monitor},
    {"queue", control_op::queue, control_owner::store_reader},
    {"test", control_op::test, control_owner::subscriber},
    {"dlq.list", control_op::dlq_list, control_owner::store_reader},
    {"dlq.retry", control_op::dlq_retry, control_owner::persistence},
    {"dlq.delete", control_op::dlq_delete, control_owner::persistence},
    {"subscriber.enable", control_op::subscriber_enable, control_owner::subscriber},
    {"subscriber.disable", control_op::subscriber_disable, control_owner::subscriber},
    {"reload", control_op::reload, control_owner::node},
    {"cluster", control_op::cluster, control_owner::node},
    {"events.show", control_op::events_show, control_owner::store_reader},
    {"events.list", control_op::events_list, control_owner::store_reader},
    {"events.replay", control_op::events_replay, control_owner::persistence},
  };
  return ops;
}

const control_op_info* find_control_op(std::string_view name) {
  for (const auto& info : control_ops())
    if (name == info.name)
      return &info;
  return nullptr;
}

const control_op_info& control_op_of(control_op op) {
  for (const auto& info : control_ops())
    if (info.op == op)
      return info;
  return control_ops().front(); // unreachable: every op is in the table
}

std::string known_control_ops() {
  std::string out;
  for (const auto& info : control_ops())
    out += (out.empty() ? "" : ", ") + std::string{info.name};
  return out;
}

parsed_control parse_control_request(std::string_view op, std::string_view line) {
  parsed_control out;
  auto* info = find_control_op(op);
  if (info == nullptr) {
    out.error = "unknown op \"" + std::string{op} + "\" (known: " + known_control_ops() + ")";
    return out;
  }
  control_request req;
  req.op = info->op;
  // Control lines are rare and small: a DOM is fine, parsed iteratively so
  // no nesting depth reaches the stack.
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(line.data(), line.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    out.error = "invalid control line";
    return out;
  }
  switch (info->owner) {
    case control_owner::monitor:
    case control_owner::node:
      read_lenient(doc, req);
      break;
    case control_owner::subscriber:
      read_lenient(doc, req);
      if (req.subscriber.empty()) {
        out.error = std::string{info->name} + " needs \"subscriber\": the name of a configured subscriber";
        return out;
      }
      break;
    case control_owner::store_reader:
    case control_owner::persistence:
      if (req.op == control_op::queue)
        break;
      if (req.op == control_op::events_show || req.op == control_op::events_list ||
          req.op == control_op::events_replay) {
        if (auto error = read_events(doc, info->name, req); !error.empty()) {
          out.error = std::move(error);
          return out;
        }
        break;
      }
      if (auto error = read_dlq(doc, info->name, req); !error.empty()) {
        out.error = std::move(error);
        return out;
      }
      break;
  }
  out.request = std::move(req);
  return out;
}

} // namespace volley
