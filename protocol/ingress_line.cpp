#include "protocol/ingress_line.hpp"

#include "protocol/json_text.hpp"
#include "protocol/timestamp.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>

namespace volley {

namespace {

// Deeply nested input must not exhaust the stack: RapidJSON's iterative
// parser keeps its stack on the heap.
constexpr unsigned parse_flags = rapidjson::kParseIterativeFlag |
                                 rapidjson::kParseValidateEncodingFlag;

parsed_line fail(std::string message) {
  parsed_line out;
  out.what = parsed_line::kind::error;
  out.error = std::move(message);
  return out;
}

} // namespace

parsed_line parse_ingress_line(std::string_view line) {
  if (!line.empty() && line.back() == '\r')
    line.remove_suffix(1);
  rapidjson::Document doc;
  doc.Parse<parse_flags>(line.data(), line.size());
  if (doc.HasParseError())
    return fail(std::string{"invalid JSON at offset "} + std::to_string(doc.GetErrorOffset()) +
                ": " + rapidjson::GetParseError_En(doc.GetParseError()));
  if (!doc.IsObject())
    return fail("each line must be a JSON object");
  if (auto op = doc.FindMember("op"); op != doc.MemberEnd()) {
    if (!op->value.IsString() || op->value.GetStringLength() == 0)
      return fail("\"op\" must be a non-empty string");
    parsed_line out;
    out.what = parsed_line::kind::op;
    out.op.assign(op->value.GetString(), op->value.GetStringLength());
    return out;
  }
  parsed_line out;
  out.what = parsed_line::kind::event;
  auto& ev = out.event;
  for (auto& m : doc.GetObject()) {
    std::string_view key{m.name.GetString(), m.name.GetStringLength()};
    auto& v = m.value;
    if (key == "type") {
      if (!v.IsString() || v.GetStringLength() == 0)
        return fail("\"type\" must be a non-empty string");
      if (v.GetStringLength() > max_event_type_bytes)
        return fail("\"type\" is longer than 256 bytes");
      ev.type.assign(v.GetString(), v.GetStringLength());
    } else if (key == "id") {
      if (!v.IsString() || v.GetStringLength() == 0)
        return fail("\"id\" must be a non-empty string");
      if (v.GetStringLength() > max_event_id_bytes)
        return fail("\"id\" is longer than 256 bytes");
      ev.id.assign(v.GetString(), v.GetStringLength());
    } else if (key == "priority") {
      if (!v.IsInt() || v.GetInt() < 0 || v.GetInt() > 3)
        return fail("\"priority\" must be an integer from 0 to 3");
      ev.priority = v.GetInt();
    } else if (key == "data") {
      rapidjson::StringBuffer buf;
      rapidjson::Writer<rapidjson::StringBuffer> writer{buf};
      v.Accept(writer);
      ev.data.assign(buf.GetString(), buf.GetSize());
    } else {
      return fail("unknown field \"" + std::string{key} +
                  "\" (an event has type, data, id, priority)");
    }
  }
  if (ev.type.empty())
    return fail("\"type\" is required");
  return out;
}

std::string ack_line(std::string_view id, bool duplicate) {
  std::string out;
  out.reserve(id.size() + 40);
  out += "{\"ok\":true,\"id\":";
  append_json_string(out, id);
  if (duplicate)
    out += ",\"duplicate\":true";
  out += "}\n";
  return out;
}

std::string error_line(std::string_view error) {
  std::string out = "{\"ok\":false,\"error\":";
  append_json_string(out, error);
  out += "}\n";
  return out;
}

std::string delivery_body(std::string_view id, std::string_view type, int64_t created_ms,
                          std::string_view data_json) {
  std::string out;
  out.reserve(data_json.size() + id.size() + type.size() + 80);
  out += "{\"id\":";
  append_json_string(out, id);
  out += ",\"type\":";
  append_json_string(out, type);
  out += ",\"timestamp\":\"";
  out += format_rfc3339_ms(created_ms);
  out += "\",\"data\":";
  out.append(data_json.data(), data_json.size());
  out += '}';
  return out;
}

std::string generate_event_id() {
  // A random per-process prefix plus a counter: unique without a syscall per id.
  static const uint64_t prefix = [] {
    std::random_device rd;
    return (uint64_t{rd()} << 32) ^ rd() ^
           static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  }();
  static std::atomic<uint64_t> counter{0};
  char buf[40];
  std::snprintf(buf, sizeof(buf), "evt_%016llx%016llx", static_cast<unsigned long long>(prefix),
                static_cast<unsigned long long>(counter.fetch_add(1, std::memory_order_relaxed)));
  return buf;
}

} // namespace volley
