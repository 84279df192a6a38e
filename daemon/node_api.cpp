// The node's HTTP API: its bridge actor and its server, started after the
// TCP ingress and stopped before the actors drain.

#include "daemon/node.hpp"

#include "actors/api_bridge.hpp"
#include "api/http_server.hpp"
#include "api/node_routes.hpp"
#include "logging/logger.hpp"

#include <chrono>
#include <exception>

namespace volley {

namespace {

// Owed answers (events waiting for their commit) get this long at shutdown.
constexpr auto api_stop_grace = std::chrono::seconds(5);

http_server_options server_options(const api_config& api) {
  http_server_options o;
  o.host = api.host;
  o.port = api.port;
  o.token = api.token;
  o.max_body_bytes = api.max_body_bytes;
  o.max_header_bytes = api.max_header_bytes;
  o.header_timeout_ms = api.header_timeout_ms;
  o.body_timeout_ms = api.body_timeout_ms;
  o.idle_timeout_ms = api.idle_timeout_ms;
  o.write_timeout_ms = api.write_timeout_ms;
  o.max_connections = api.max_connections;
  o.max_pipelined = api.max_pipelined;
  o.threads = api.threads;
  return o;
}

} // namespace

bool node::start_api(const caf::actor& events, const control_plane& control) {
  if (!cfg_.api.enabled)
    return true;
  api_bridge_ = sys_.spawn(api_bridge, api_bridge_deps{events, control, wall_clock()});
  node_routes_options routes;
  routes.max_line_bytes = cfg_.ingress.max_line_bytes;
  routes.token_set = !cfg_.api.token.empty();
  try {
    api_ = std::make_unique<http_server>(server_options(cfg_.api),
                                         node_routes(std::make_shared<bridge_gateway>(api_bridge_), routes));
  } catch (const std::exception& e) {
    log_error(e.what());
    return false;
  }
  log_info("api listening on " + cfg_.api.host + ":" + std::to_string(api_->port()) +
           (cfg_.api.token.empty() ? " (no api.token: anyone who can connect may use it)" : ""));
  return true;
}

void node::stop_api() {
  if (api_)
    api_->stop(api_stop_grace);
}

} // namespace volley
