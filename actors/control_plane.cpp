#include "actors/control_plane.hpp"

#include "protocol/ingress_line.hpp"

namespace volley {

control_plane::route control_plane::route_of(const control_request& req) const {
  caf::actor target;
  switch (req.owner()) {
    case control_owner::monitor:
      target = monitor;
      break;
    case control_owner::store_reader:
      target = store_reader;
      break;
    case control_owner::persistence:
      target = persistence;
      break;
    case control_owner::node:
      target = node;
      break;
    case control_owner::subscriber:
      target = subscribers ? subscribers->find(req.subscriber) : caf::actor{};
      if (!target)
        return {{}, error_line("no subscriber named \"" + req.subscriber + "\"")};
      break;
  }
  if (!target)
    return {{}, error_line(std::string{"\""} + req.name() + "\" is not available on this node")};
  return {target, {}};
}

} // namespace volley
