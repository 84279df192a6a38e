#include "api/node_routes.hpp"

#include "api/control_endpoints.hpp"
#include "api/dashboard_page.hpp"
#include "api/event_intake.hpp"
#include "api/media_type.hpp"
#include "api/metrics_exposition.hpp"
#include "api/prometheus_text.hpp"
#include "api/request_guard.hpp"
#include "api/series_endpoint.hpp"

namespace volley {

namespace {

using gateway_ptr = std::shared_ptr<node_gateway>;

api_response subscriber_response(subscriber_answer answer) {
  switch (answer.what) {
    case subscriber_answer::kind::ok:
      return api_response::json(200, std::move(answer.body));
    case subscriber_answer::kind::created:
      return api_response::json(201, std::move(answer.body));
    case subscriber_answer::kind::invalid:
      return api_response::json(400, std::move(answer.body));
    case subscriber_answer::kind::not_found:
      return api_response::json(404, std::move(answer.body));
    case subscriber_answer::kind::conflict:
      return api_response::json(409, std::move(answer.body));
    case subscriber_answer::kind::unavailable:
      return api_response::json(503, std::move(answer.body));
  }
  return api_response::error(500, "unknown answer (a bug in volleyd)");
}

void post_events(const gateway_ptr& gateway, uint64_t max_line_bytes, const api_request& request,
                 responder respond) {
  auto intake = std::make_shared<event_intake>(read_events(request, max_line_bytes));
  if (intake->invalid > 0)
    gateway->invalid_events(intake->invalid);
  if (intake->refused) {
    respond(std::move(*intake->refused));
    return;
  }
  if (intake->events.empty()) {
    respond(events_response(*intake, {}));
    return;
  }
  auto events = std::move(intake->events);
  gateway->ingest(std::move(events), [intake, respond](std::vector<std::string> answers) {
    respond(events_response(*intake, std::move(answers)));
  });
}

void call_control(const gateway_ptr& gateway, control_call call, const responder& respond) {
  if (!call.request) {
    respond(std::move(*call.refused));
    return;
  }
  auto request = *call.request;
  gateway->control(std::move(*call.request),
                   [request, respond](control_answer answer) { respond(control_response(request, answer)); });
}

void change_subscribers(const gateway_ptr& gateway, subscriber_change change, const api_request& request,
                        const responder& respond) {
  const bool has_body =
    change.what == subscriber_change::kind::create || change.what == subscriber_change::kind::replace;
  if (has_body) {
    const auto type = media_type(request.header("content-type").value_or(""));
    if (!type.empty() && type != "application/json") {
      respond(api_response::error(415, "Content-Type must be application/json, got " + type));
      return;
    }
    change.body = request.body;
  }
  gateway->subscribers(std::move(change), [respond](subscriber_answer answer) {
    auto response = subscriber_response(std::move(answer));
    respond(std::move(response));
  });
}

} // namespace

route_table node_routes(std::shared_ptr<node_gateway> gateway, node_routes_options options) {
  route_table routes;
  // Every handler first keeps other web pages out.
  auto add = [&](const char* method, const std::string& pattern, api_handler handler,
                 route_access access = route_access::token) {
    routes.add(
      method, pattern,
      [handler = std::move(handler), token_set = options.token_set](const api_request& request,
                                                                    responder respond) {
        if (auto refused = refuse_browser_request(request, token_set)) {
          respond(std::move(*refused));
          return;
        }
        handler(request, std::move(respond));
      },
      access);
  };
  auto query_op = [&](const char* pattern, control_op op) {
    add("GET", pattern, [gateway, op](const api_request& request, responder respond) {
      call_control(gateway, read_control_query(request, op), respond);
    });
  };

  add("POST", "/v1/events", [gateway, options](const api_request& request, responder respond) {
    post_events(gateway, options.max_line_bytes, request, std::move(respond));
  });

  add("GET", "/metrics", [gateway](const api_request&, responder respond) {
    gateway->metrics([respond](std::optional<metrics_snapshot> snapshot) {
      if (!snapshot) {
        respond(api_response::error(503, "the monitor did not answer; try again"));
        return;
      }
      api_response response;
      response.body = metrics_exposition(*snapshot);
      response.content_type = prometheus_text::content_type;
      respond(std::move(response));
    });
  });

  query_op("/v1/events", control_op::events_list);
  query_op("/v1/events/{id}", control_op::events_show);
  add("POST", "/v1/events/{id}/replay", [gateway](const api_request& request, responder respond) {
    call_control(gateway, read_event_replay(request), respond);
  });
  add("GET", "/v1/stats/series", [gateway](const api_request& request, responder respond) {
    auto query = read_series_query(request);
    if (query.refused) {
      respond(std::move(*query.refused));
      return;
    }
    gateway->series(query.window, [respond](std::optional<stats_series> series) {
      if (!series) {
        respond(api_response::error(503, "the monitor did not answer; try again"));
        return;
      }
      respond(api_response::json(200, series_json(*series)));
    });
  });

  for (auto& file : dashboard_files(options.token_set))
    add(
      "GET", file.path,
      [response = std::move(file.response)](const api_request&, responder respond) { respond(response); },
      route_access::open);

  query_op("/v1/health", control_op::health);
  query_op("/v1/stats", control_op::stats);
  query_op("/v1/queue", control_op::queue);
  query_op("/v1/failures", control_op::failures);
  query_op("/v1/dlq", control_op::dlq_list);
  add("POST", "/v1/dlq/retry", [gateway](const api_request& request, responder respond) {
    call_control(gateway, read_dlq_retry(request), respond);
  });
  for (const char* pattern : {"/v1/dlq/{key}", "/v1/dlq/{subscriber}/{seq}"})
    add("DELETE", pattern, [gateway](const api_request& request, responder respond) {
      call_control(gateway, read_dlq_delete(request), respond);
    });

  using kind = subscriber_change::kind;
  auto subscriber_route = [&](const char* method, const char* pattern, kind what) {
    add(method, pattern, [gateway, what](const api_request& request, responder respond) {
      subscriber_change change;
      change.what = what;
      change.name = std::string(request.param("name").value_or(""));
      change_subscribers(gateway, std::move(change), request, respond);
    });
  };
  subscriber_route("GET", "/v1/subscribers", kind::list);
  subscriber_route("POST", "/v1/subscribers", kind::create);
  subscriber_route("GET", "/v1/subscribers/{name}", kind::get);
  subscriber_route("PUT", "/v1/subscribers/{name}", kind::replace);
  subscriber_route("DELETE", "/v1/subscribers/{name}", kind::remove);
  for (auto [action, op] :
       {std::pair{"test", control_op::test}, std::pair{"enable", control_op::subscriber_enable},
        std::pair{"disable", control_op::subscriber_disable}})
    add("POST", std::string("/v1/subscribers/{name}/") + action,
        [gateway, op = op](const api_request& request, responder respond) {
          call_control(gateway, read_control_query(request, op), respond);
        });
  return routes;
}

} // namespace volley
