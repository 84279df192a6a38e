#include "api/event_intake.hpp"

#include "api/answer_line.hpp"
#include "api/media_type.hpp"
#include "protocol/json_text.hpp"

namespace volley {

namespace {

std::string line_too_long(uint64_t max_line_bytes) {
  return "line longer than " + std::to_string(max_line_bytes) + " bytes (ingress.max_line_bytes)";
}

constexpr const char* op_refused =
  "control ops are not taken on /v1/events: use the /v1 endpoint of the op (README, \"HTTP API\")";

// One NDJSON line, answered as the TCP ingress answers it (ops aside).
void read_line(std::string_view line, uint64_t max_line_bytes, event_intake& out) {
  auto refuse = [&](std::string_view error) {
    ++out.invalid;
    out.answers.push_back(error_line(error));
  };
  if (line.size() > max_line_bytes)
    return refuse(line_too_long(max_line_bytes));
  if (line.find_first_not_of(" \t\r") == std::string_view::npos)
    return refuse("empty line: expected one JSON object");
  auto parsed = parse_ingress_line(line);
  switch (parsed.what) {
    case parsed_line::kind::error:
      return refuse(parsed.error);
    case parsed_line::kind::op:
      return refuse(op_refused);
    case parsed_line::kind::event:
      out.events.push_back(std::move(parsed.event));
      out.answers.emplace_back(std::nullopt);
      return;
  }
}

void read_single(const std::string& body, uint64_t max_line_bytes, event_intake& out) {
  auto refuse = [&](int status, std::string_view error) {
    ++out.invalid;
    out.refused = api_response::error(status, error);
  };
  if (body.size() > max_line_bytes)
    return refuse(413,
                  "event of " + std::to_string(body.size()) + " bytes: " + line_too_long(max_line_bytes));
  if (body.find_first_not_of(" \t\r\n") == std::string::npos)
    return refuse(400, "empty body: expected one JSON event, or NDJSON with Content-Type "
                       "application/x-ndjson");
  auto parsed = parse_ingress_line(body);
  switch (parsed.what) {
    case parsed_line::kind::error:
      return refuse(400, parsed.error);
    case parsed_line::kind::op:
      return refuse(400, op_refused);
    case parsed_line::kind::event:
      out.events.push_back(std::move(parsed.event));
      out.answers.emplace_back(std::nullopt);
      return;
  }
}

} // namespace

event_intake read_events(const api_request& request, uint64_t max_line_bytes) {
  event_intake out;
  const auto type = media_type(request.header("content-type").value_or(""));
  if (type == "application/x-ndjson") {
    out.ndjson = true;
  } else if (!type.empty() && type != "application/json") {
    out.refused = api_response::error(415, "Content-Type must be application/json (one event) or "
                                           "application/x-ndjson (one event per line), got " +
                                             type);
    return out;
  }
  if (!out.ndjson) {
    read_single(request.body, max_line_bytes, out);
    return out;
  }
  std::string_view rest = request.body;
  if (rest.empty()) {
    out.refused = api_response::error(400, "empty body: expected one JSON event per line");
    return out;
  }
  while (!rest.empty()) {
    auto nl = rest.find('\n');
    read_line(rest.substr(0, nl), max_line_bytes, out);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
  }
  return out;
}

api_response events_response(event_intake& intake, std::vector<std::string> event_answers) {
  size_t next = 0;
  size_t accepted = 0, refused_by_storage = 0;
  std::string first_error;
  for (size_t i = 0; i < intake.answers.size(); ++i) {
    auto& answer = intake.answers[i];
    if (!answer) {
      answer = next < event_answers.size() ? std::move(event_answers[next++])
                                           : error_line("no answer for this event (a bug in volleyd)");
      (answer_ok(*answer) ? accepted : refused_by_storage) += 1;
    }
    if (first_error.empty() && !answer_ok(*answer))
      first_error = "line " + std::to_string(i + 1) + ": " + answer_error(*answer);
  }
  if (!intake.ndjson) {
    const auto& line = *intake.answers.front();
    if (accepted == 1)
      return api_response::json(200, without_newline(line));
    auto refused = api_response::error(503, answer_error(line));
    refused.headers.emplace_back("Retry-After", "1");
    return refused;
  }
  std::string results = "[";
  for (auto& answer : intake.answers)
    results += (results.size() > 1 ? "," : "") + without_newline(std::move(*answer));
  results += "]";
  if (accepted > 0)
    return api_response::json(200, std::move(results));
  const bool storage = refused_by_storage > 0;
  std::string body = "{\"error\":";
  append_json_string(body, (storage ? "no event accepted: storage refused them; send them again "
                                      "shortly ("
                                    : "no line holds a valid event (") +
                             first_error + ")");
  body += ",\"results\":" + results + "}";
  auto response = api_response::json(storage ? 503 : 400, std::move(body));
  if (storage)
    response.headers.emplace_back("Retry-After", "1");
  return response;
}

} // namespace volley
