#include "tests/support/control_client.hpp"

#include "protocol/json_text.hpp"

#include <rapidjson/document.h>

#include <stdexcept>

namespace volley::test {

namespace {

using json = rapidjson::Value;

[[noreturn]] void bad_answer(const std::string& what, const std::string& line) {
  throw std::runtime_error(what + ": " + line.substr(0, 500));
}

void parse_object(rapidjson::Document& doc, const std::string& line) {
  doc.Parse(line.c_str());
  if (doc.HasParseError() || !doc.IsObject())
    bad_answer("control answer is not a JSON object", line);
}

int64_t integer(const json& object, const char* key, const std::string& line) {
  auto it = object.FindMember(key);
  if (it == object.MemberEnd() || !it->value.IsInt64())
    bad_answer(std::string{"control answer lacks integer \""} + key + "\"", line);
  return it->value.GetInt64();
}

std::string text(const json& object, const char* key, const std::string& line) {
  auto it = object.FindMember(key);
  if (it == object.MemberEnd() || !it->value.IsString())
    bad_answer(std::string{"control answer lacks string \""} + key + "\"", line);
  return {it->value.GetString(), it->value.GetStringLength()};
}

bool boolean(const json& object, const char* key, const std::string& line) {
  auto it = object.FindMember(key);
  if (it == object.MemberEnd() || !it->value.IsBool())
    bad_answer(std::string{"control answer lacks boolean \""} + key + "\"", line);
  return it->value.GetBool();
}

// A running total: "<name>_total" on the object, or "<name>" in its
// "since_start" object (the two shapes the stats answer has had).
int64_t total(const json& object, const char* name, const std::string& line) {
  auto flat = std::string{name} + "_total";
  if (object.HasMember(flat.c_str()))
    return integer(object, flat.c_str(), line);
  auto it = object.FindMember("since_start");
  if (it == object.MemberEnd() || !it->value.IsObject())
    bad_answer("stats answer has neither \"" + flat + "\" nor \"since_start\"", line);
  return integer(it->value, name, line);
}

void require_ok(const rapidjson::Document& doc, const std::string& line) {
  if (!boolean(doc, "ok", line))
    bad_answer("control op failed", line);
}

std::string quoted(const std::string& value) {
  std::string out;
  append_json_string(out, value);
  return out;
}

} // namespace

control_client::control_client(uint16_t port) : client_(port) {}

std::string control_client::call(const std::string& line) {
  client_.send_line(line);
  auto answer = client_.read_line();
  if (!answer)
    throw std::runtime_error("no answer to control line " + line);
  return *answer;
}

node_stats control_client::stats() {
  auto line = call("{\"op\":\"stats\"}");
  rapidjson::Document doc;
  parse_object(doc, line);
  require_ok(doc, line);
  if (!doc.HasMember("node") || !doc["node"].IsObject() || !doc.HasMember("subscribers") ||
      !doc["subscribers"].IsArray())
    bad_answer("stats answer lacks node or subscribers", line);
  node_stats out;
  const auto& node = doc["node"];
  out.queued = integer(node, "queued", line);
  out.dlq = integer(node, "dlq", line);
  out.delivered_total = total(node, "delivered", line);
  out.attempts_total = total(node, "attempts", line);
  out.dead_lettered_total = total(node, "dead_lettered", line);
  if (!node.HasMember("memory") || !node["memory"].IsObject())
    bad_answer("stats answer lacks node.memory", line);
  out.memory_used_bytes = integer(node["memory"], "used_bytes", line);
  out.memory_budget_bytes = integer(node["memory"], "budget_bytes", line);
  for (const auto& s : doc["subscribers"].GetArray()) {
    subscriber_stats v;
    v.breaker = text(s, "breaker", line);
    v.enabled = boolean(s, "enabled", line);
    v.queued = integer(s, "queued", line);
    v.in_flight = integer(s, "in_flight", line);
    v.backlog_on_disk = boolean(s, "backlog_on_disk", line);
    v.consecutive_failures = integer(s, "consecutive_failures", line);
    v.delivered_total = total(s, "delivered", line);
    v.attempts_total = total(s, "attempts", line);
    v.dead_lettered_total = total(s, "dead_lettered", line);
    out.subscribers[text(s, "subscriber", line)] = v;
  }
  return out;
}

dlq_page control_client::dlq_list(const std::optional<std::string>& subscriber, size_t limit,
                                  const std::optional<std::string>& after) {
  std::string request = "{\"op\":\"dlq.list\",\"limit\":" + std::to_string(limit);
  if (subscriber)
    request += ",\"subscriber\":" + quoted(*subscriber);
  if (after)
    request += ",\"after\":" + quoted(*after);
  request += "}";
  auto line = call(request);
  rapidjson::Document doc;
  parse_object(doc, line);
  require_ok(doc, line);
  if (!doc.HasMember("entries") || !doc["entries"].IsArray() || !doc.HasMember("next"))
    bad_answer("dlq.list answer lacks entries or next", line);
  dlq_page page;
  for (const auto& e : doc["entries"].GetArray()) {
    dlq_entry d;
    d.key = text(e, "key", line);
    d.subscriber = text(e, "subscriber", line);
    d.event_id = text(e, "event_id", line);
    d.type = text(e, "type", line);
    d.attempts = integer(e, "attempts", line);
    d.last_status = integer(e, "last_status", line);
    d.last_error = text(e, "last_error", line);
    d.body = text(e, "body", line);
    page.entries.push_back(std::move(d));
  }
  const auto& next = doc["next"];
  if (next.IsString())
    page.next = std::string{next.GetString(), next.GetStringLength()};
  else if (!next.IsNull())
    bad_answer("dlq.list \"next\" is neither a key nor null", line);
  return page;
}

std::vector<dlq_entry> control_client::dlq_all(const std::optional<std::string>& subscriber,
                                               size_t page_size) {
  std::vector<dlq_entry> out;
  std::optional<std::string> after;
  for (;;) {
    auto page = dlq_list(subscriber, page_size, after);
    for (auto& e : page.entries)
      out.push_back(std::move(e));
    if (!page.next)
      return out;
    after = page.next;
  }
}

op_result control_client::dlq_op(const std::string& op, const std::string& field, const std::string& value) {
  op_result out;
  out.line = call("{\"op\":" + quoted(op) + "," + quoted(field) + ":" + quoted(value) + "}");
  rapidjson::Document doc;
  parse_object(doc, out.line);
  out.ok = boolean(doc, "ok", out.line);
  if (out.ok)
    out.count = integer(doc, "count", out.line);
  else
    out.error = text(doc, "error", out.line);
  return out;
}

} // namespace volley::test
