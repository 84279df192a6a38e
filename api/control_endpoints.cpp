#include "api/control_endpoints.hpp"

#include "api/answer_line.hpp"
#include "api/media_type.hpp"
#include "protocol/dlq_entries.hpp"

#include <rapidjson/document.h>

#include <charconv>
#include <set>

namespace volley {

namespace {

control_call refuse(std::string_view error) { return {std::nullopt, api_response::error(400, error)}; }

// The query parameters each op takes.
std::set<std::string> parameters_of(control_op op) {
  switch (op) {
    case control_op::stats:
      return {"hours"};
    case control_op::failures:
      return {"limit"};
    case control_op::dlq_list:
      return {"subscriber", "after", "limit"};
    case control_op::events_list:
      return {"subscriber", "status", "since", "limit"};
    default:
      return {};
  }
}

std::optional<std::string> unknown_parameter(const api_request& request, control_op op) {
  auto known = parameters_of(op);
  for (const auto& [name, value] : request.query) {
    if (known.count(name))
      continue;
    std::string list;
    for (const auto& k : known)
      list += (list.empty() ? "" : ", ") + k;
    return "unknown query parameter \"" + name + "\" for " + control_op_of(op).name +
           (list.empty() ? " (it takes none)" : " (it takes: " + list + ")");
  }
  return std::nullopt;
}

// A parameter that must be an integer in [lo, hi]; nullopt when absent.
std::optional<uint64_t> integer_parameter(const api_request& request, const char* name, uint64_t lo,
                                          uint64_t hi, std::string& error) {
  auto text = request.query_value(name);
  if (!text)
    return std::nullopt;
  uint64_t value = 0;
  auto end = text->data() + text->size();
  auto result = std::from_chars(text->data(), end, value);
  if (text->empty() || result.ec != std::errc{} || result.ptr != end || value < lo || value > hi) {
    error = "query parameter \"" + std::string(name) + "\" must be an integer from " + std::to_string(lo) +
            " to " + std::to_string(hi) + ", got \"" + std::string(*text) + "\"";
    return std::nullopt;
  }
  return value;
}

} // namespace

control_call read_control_query(const api_request& request, control_op op) {
  if (auto unknown = unknown_parameter(request, op))
    return refuse(*unknown);
  control_request out;
  out.op = op;
  std::string error;
  switch (op) {
    case control_op::stats:
      out.hours = static_cast<int>(integer_parameter(request, "hours", 1, 24, error).value_or(0));
      break;
    case control_op::failures:
      out.limit = integer_parameter(request, "limit", 1, 1000, error).value_or(default_failures_limit);
      break;
    case control_op::dlq_list:
      out.limit = integer_parameter(request, "limit", 1, max_dlq_limit, error).value_or(default_dlq_limit);
      if (auto s = request.query_value("subscriber"))
        out.subscriber = std::string(*s);
      if (auto after = request.query_value("after")) {
        out.after = parse_delivery_key(std::string(*after));
        if (!out.after)
          error = "query parameter \"after\" must be a DLQ key like \"billing/42\", got \"" +
                  std::string(*after) + "\"";
      }
      break;
    case control_op::test:
    case control_op::subscriber_enable:
    case control_op::subscriber_disable:
      out.subscriber = std::string(request.param("name").value_or(""));
      break;
    case control_op::events_show:
      out.event_id = std::string(request.param("id").value_or(""));
      break;
    case control_op::events_list: {
      out.limit =
        integer_parameter(request, "limit", 1, max_events_limit, error).value_or(default_events_limit);
      if (auto s = request.query_value("subscriber"))
        out.subscriber = std::string(*s);
      if (auto status = request.query_value("status")) {
        if (*status != "failed" && *status != "all")
          error =
            "query parameter \"status\" must be \"failed\" or \"all\", got \"" + std::string(*status) + "\"";
        out.failed_only = *status == "failed";
      }
      if (auto since = request.query_value("since")) {
        auto ms = parse_duration_ms(*since);
        if (!ms)
          error = "query parameter \"since\" must be a duration like 90s, 30m, 1h or 2d, got \"" +
                  std::string(*since) + "\"";
        out.within_ms = ms.value_or(0);
      }
      break;
    }
    default:
      break;
  }
  if (!error.empty())
    return refuse(error);
  return {std::move(out), std::nullopt};
}

control_call read_dlq_retry(const api_request& request) {
  const auto type = media_type(request.header("content-type").value_or(""));
  if (!type.empty() && type != "application/json")
    return {std::nullopt, api_response::error(415, "Content-Type must be application/json, got " + type)};
  const std::string usage = "the body must be a JSON object: {\"key\": \"billing/42\"} (one entry) "
                            "or {\"subscriber\": \"billing\"} (all of its entries)";
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(request.body.data(), request.body.size());
  if (doc.HasParseError() || !doc.IsObject())
    return refuse(usage);
  auto parsed = parse_control_request("dlq.retry", request.body);
  if (!parsed.request)
    return refuse(parsed.error);
  return {std::move(parsed.request), std::nullopt};
}

control_call read_event_replay(const api_request& request) {
  control_request out;
  out.op = control_op::events_replay;
  out.event_id = std::string(request.param("id").value_or(""));
  if (request.body.find_first_not_of(" \t\r\n") == std::string::npos)
    return {std::move(out), std::nullopt}; // to every subscriber it went to
  const auto type = media_type(request.header("content-type").value_or(""));
  if (!type.empty() && type != "application/json")
    return {std::nullopt, api_response::error(415, "Content-Type must be application/json, got " + type)};
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(request.body.data(), request.body.size());
  if (doc.HasParseError() || !doc.IsObject())
    return refuse("the body must be empty or a JSON object: {\"subscriber\": \"billing\"}");
  for (auto& m : doc.GetObject()) {
    std::string name{m.name.GetString(), m.name.GetStringLength()};
    if (name != "subscriber" || !m.value.IsString() || m.value.GetStringLength() == 0)
      return refuse("the body takes one field, \"subscriber\": a subscriber's name");
    out.subscriber.assign(m.value.GetString(), m.value.GetStringLength());
  }
  return {std::move(out), std::nullopt};
}

control_call read_dlq_delete(const api_request& request) {
  std::string text;
  if (auto key = request.param("key"))
    text = std::string(*key);
  else
    text = std::string(request.param("subscriber").value_or("")) + "/" +
           std::string(request.param("seq").value_or(""));
  auto key = parse_delivery_key(text);
  if (!key)
    return refuse("a DLQ key is <subscriber>/<seq>, as \"billing/42\" (DELETE /v1/dlq/billing/42 "
                  "or /v1/dlq/billing%2F42), got \"" +
                  text + "\"");
  control_request out;
  out.op = control_op::dlq_delete;
  out.key = std::move(key);
  return {std::move(out), std::nullopt};
}

api_response control_response(const control_request& request, const control_answer& answer) {
  switch (answer.what) {
    case control_answer::kind::no_such_subscriber:
      return api_response::error(404, answer_error(answer.line));
    case control_answer::kind::failed:
      return api_response::error(503, answer_error(answer.line));
    case control_answer::kind::answered:
      break;
  }
  rapidjson::Document doc;
  doc.Parse(answer.line.data(), answer.line.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("ok") || !doc["ok"].IsBool())
    return api_response::error(500, "the node's answer is not JSON (a bug in volleyd)");
  if (!doc["ok"].GetBool()) {
    auto error = answer_error(answer.line);
    // The delivery log's "no such event", "no such subscriber" and a
    // dead-letter key that is not there are 404s.
    if (error.rfind("no event \"", 0) == 0 || error.rfind("no subscriber named", 0) == 0 ||
        is_no_dlq_entry_error(error))
      return api_response::error(404, error);
    if (error.find("not available in cluster mode") != std::string::npos)
      return api_response::error(409, error);
    return api_response::error(503, error);
  }
  // A replay is accepted: its deliveries are on disk, their attempts follow.
  return api_response::json(request.op == control_op::events_replay ? 202 : 200,
                            without_newline(answer.line));
}

} // namespace volley
