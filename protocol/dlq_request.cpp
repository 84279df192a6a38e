#include "protocol/dlq_request.hpp"

#include "protocol/json_text.hpp"
#include "protocol/timestamp.hpp"

#include <rapidjson/document.h>

namespace volley {

std::string format_delivery_key(const delivery_key& key) {
  return key.subscriber + "/" + std::to_string(key.event_seq);
}

std::optional<delivery_key> parse_delivery_key(const std::string& text) {
  auto slash = text.rfind('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == text.size())
    return std::nullopt;
  delivery_key key;
  key.subscriber = text.substr(0, slash);
  uint64_t seq = 0;
  for (size_t i = slash + 1; i < text.size(); ++i) {
    char c = text[i];
    if (c < '0' || c > '9')
      return std::nullopt;
    auto digit = static_cast<uint64_t>(c - '0');
    if (seq > (UINT64_MAX - digit) / 10)
      return std::nullopt;
    seq = seq * 10 + digit;
  }
  key.event_seq = seq;
  return key;
}

std::string parse_dlq_request(const std::string& op, const std::string& line, dlq_request& out) {
  if (op != "dlq.list" && op != "dlq.retry" && op != "dlq.delete")
    return "unknown op \"" + op + "\"";
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(line.data(), line.size());
  if (doc.HasParseError() || !doc.IsObject())
    return "invalid control line";
  for (auto& m : doc.GetObject()) {
    std::string name{m.name.GetString(), m.name.GetStringLength()};
    auto& v = m.value;
    if (name == "op")
      continue;
    if (name == "subscriber") {
      if (!v.IsString() || v.GetStringLength() == 0)
        return "\"subscriber\" must be a non-empty string";
      out.subscriber = std::string{v.GetString(), v.GetStringLength()};
    } else if (name == "key" || name == "after") {
      std::optional<delivery_key> key;
      if (v.IsString())
        key = parse_delivery_key(std::string{v.GetString(), v.GetStringLength()});
      if (!key)
        return "\"" + name + "\" must be a DLQ key like \"billing/42\"";
      (name == "key" ? out.key : out.after) = std::move(key);
    } else if (name == "limit") {
      if (!v.IsUint() || v.GetUint() == 0 || v.GetUint() > 10000)
        return "\"limit\" must be an integer from 1 to 10000";
      out.limit = v.GetUint();
    } else {
      return "unknown field \"" + name + "\" for " + op;
    }
  }
  if (op != "dlq.list" && !out.key && !out.subscriber)
    return op + " needs \"key\" (one entry) or \"subscriber\" (all of its entries)";
  return "";
}

std::string dlq_list_line(const std::vector<dlq_record>& entries, bool more) {
  std::string out = "{\"ok\":true,\"entries\":[";
  bool first = true;
  for (const auto& e : entries) {
    if (!first)
      out += ',';
    first = false;
    out += "{\"key\":";
    append_json_string(out, format_delivery_key(e.key));
    out += ",\"subscriber\":";
    append_json_string(out, e.key.subscriber);
    out += ",\"event_id\":";
    append_json_string(out, e.event_id);
    out += ",\"type\":";
    append_json_string(out, e.type);
    out += ",\"attempts\":" + std::to_string(e.attempts);
    out += ",\"last_status\":" + std::to_string(e.last_status);
    out += ",\"last_error\":";
    append_json_string(out, e.last_error);
    out += ",\"created\":\"" + format_rfc3339_ms(e.created_ms) + "\"";
    out += ",\"failed\":\"" + format_rfc3339_ms(e.failed_ms) + "\"";
    out += ",\"body\":";
    append_json_string(out, e.body);
    out += '}';
  }
  out += "],\"next\":";
  if (more && !entries.empty())
    append_json_string(out, format_delivery_key(entries.back().key));
  else
    out += "null";
  out += "}\n";
  return out;
}

} // namespace volley
