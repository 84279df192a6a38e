#include "protocol/dlq_entries.hpp"

#include "protocol/json_text.hpp"
#include "time/timestamp.hpp"

namespace volley {

std::string format_delivery_key(const delivery_key& key) {
  return key.subscriber + "/" + std::to_string(key.event_seq);
}

namespace {
constexpr std::string_view no_dlq_entry = "no dead-letter entry ";
}

std::string no_dlq_entry_error(const delivery_key& key) {
  return std::string{no_dlq_entry} + format_delivery_key(key) +
         " on this node (it was retried or deleted already, or never existed; `volley dlq list` shows the "
         "keys)";
}

bool is_no_dlq_entry_error(std::string_view error) {
  return error.substr(0, no_dlq_entry.size()) == no_dlq_entry;
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
