#pragma once
// The control ops over HTTP: a request's query, path and body read into the
// same control_request the TCP ingress parses, and the op's answer line
// turned into a status. Plain logic, no I/O.
//
//   GET /v1/health, /v1/queue                      no parameters
//   GET /v1/stats?hours=N                          N in 1..24
//   GET /v1/failures?limit=N                       N in 1..1000
//   GET /v1/dlq?subscriber=S&after=KEY&limit=N     N in 1..10000
//   POST /v1/dlq/retry  {"key": "billing/42"} or {"subscriber": "billing"}
//   DELETE /v1/dlq/{key}  (the key's '/' as %2F) or /v1/dlq/{subscriber}/{seq}
//   POST /v1/subscribers/{name}/test|enable|disable
//   GET /v1/events/{id}                            its delivery log (404 when none)
//   GET /v1/events?subscriber=S&status=failed|all&since=1h&limit=N   logged attempts
//   POST /v1/events/{id}/replay  {} or {"subscriber": "billing"}   202 once on disk
// Answers: 200 with the op's answer line as the body; 400 for a bad
// parameter (an unknown one included); 404 for an unknown subscriber, or a
// dead-letter key with no entry; 503 when the op failed (storage, a stopped
// part of the node), as {"error": "..."}.

#include "api/api_request.hpp"
#include "api/api_response.hpp"
#include "api/node_gateway.hpp"
#include "control/control_request.hpp"

#include <optional>

namespace volley {

struct control_call {
  std::optional<control_request> request;
  std::optional<api_response> refused; // when there is no request: why (400)
};

// GET ops and the subscriber actions: the query's parameters (and the path's
// {name}) for `op`.
control_call read_control_query(const api_request& request, control_op op);
// POST /v1/dlq/retry: its JSON body.
control_call read_dlq_retry(const api_request& request);
// POST /v1/events/{id}/replay: an optional {"subscriber": ...} body.
control_call read_event_replay(const api_request& request);
// DELETE /v1/dlq/...: the key from the path.
control_call read_dlq_delete(const api_request& request);

api_response control_response(const control_request& request, const control_answer& answer);

} // namespace volley
