#pragma once
// POST /v1/events: the body taken apart into events with the TCP ingress's
// own parser (parse_ingress_line), and the HTTP answer put together from
// each event's answer line once it is durable. Plain logic, no I/O.
//
//   Content-Type application/json (or none): one event. 200 with its answer
//     ({"ok":true,"id":...}), 400 {"error": ...} when it is malformed (the
//     parser's message, naming the offset), 413 over ingress.max_line_bytes,
//     503 when storage refused it.
//   Content-Type application/x-ndjson: one event per line. 200 with a JSON
//     array of one answer per line, in order, each exactly the TCP ingress's
//     answer to that line (a bad line refused alone); 400 when no line holds
//     an event, 503 when none was accepted because storage refused them.
//   Anything else: 415.

#include "api/api_request.hpp"
#include "api/api_response.hpp"
#include "protocol/ingress_line.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace volley {

struct event_intake {
  std::optional<api_response> refused; // the request as a whole; then nothing is ingested
  bool ndjson = false;
  std::vector<parsed_event> events; // to ingest, in order
  // One per line: the answer line when the line was refused here, nullopt
  // for an event (its answer comes from ingest, in order).
  std::vector<std::optional<std::string>> answers;
  uint64_t invalid = 0; // lines refused as malformed
};

// `max_line_bytes`: ingress.max_line_bytes, the largest event either way in.
event_intake read_events(const api_request& request, uint64_t max_line_bytes);

// The response, given the answer line of every event in intake.events.
api_response events_response(event_intake& intake, std::vector<std::string> event_answers);

} // namespace volley
