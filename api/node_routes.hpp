#pragma once
// The routes of volleyd's HTTP API (README, "HTTP API"), each a thin handler
// over the node_gateway: it reads the request (event_intake,
// control_endpoints), makes one gateway call and answers from its callback.
// No handler waits for anything. Plain logic over the gateway interface.

#include "api/node_gateway.hpp"
#include "api/route_table.hpp"

#include <cstdint>
#include <memory>

namespace volley {

struct node_routes_options {
  uint64_t max_line_bytes = 1 << 20; // ingress.max_line_bytes: the largest event
  bool token_set = false;            // api.token is set (request_guard.hpp)
};

route_table node_routes(std::shared_ptr<node_gateway> gateway, node_routes_options options);

} // namespace volley
