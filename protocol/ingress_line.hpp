#pragma once
// The ingress protocol (docs/ARCHITECTURE.md): one JSON object per line, either an event
// or a control line carrying "op". This parses and validates one line and
// writes the answer lines; the ingress actor only moves bytes.

#include <cstdint>
#include <string>
#include <string_view>

namespace volley {

constexpr int no_priority = -1;
constexpr size_t max_event_id_bytes = 256;
constexpr size_t max_event_type_bytes = 256;

struct parsed_event {
  std::string id; // empty when the client sent none
  std::string type;
  std::string data = "null"; // compact JSON text of "data"
  int priority = no_priority;
  std::string key; // cluster mode: the Kafka key (else the id); empty when absent
};

struct parsed_line {
  enum class kind { event, op, error } what = kind::error;
  parsed_event event; // kind::event
  std::string op;     // kind::op: the "op" value; the line is kept for its fields
  std::string error;  // kind::error: what was wrong, for the client
};

parsed_line parse_ingress_line(std::string_view line);

// {"ok":true,"id":"..."} (with "duplicate":true for a repeated id)
std::string ack_line(std::string_view id, bool duplicate);

// {"ok":false,"error":"..."}
std::string error_line(std::string_view error);

// The delivery body: {"id":..,"type":..,"timestamp":"<RFC 3339>","data":..}
std::string delivery_body(std::string_view id, std::string_view type, int64_t created_ms,
                          std::string_view data_json);

// A new, unique event id: "evt_" + 32 hex digits.
std::string generate_event_id();

// Whether `id` has the form generate_event_id() gives. In cluster mode the
// ingress writes generated ids into the record; they are unique, so the
// consumer does not remember them for deduplication.
bool looks_generated(std::string_view id);

// The event as one ingress line's JSON object (no newline), compact, with
// only the fields it has: what cluster mode writes to the events topic, so
// any Kafka producer can write the same.
std::string event_line(const parsed_event& event);

} // namespace volley
