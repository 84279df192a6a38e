#pragma once
// Where a control request goes: the op table (control/control_request.hpp)
// names the owner of each op, this turns the owner into an actor. The TCP
// ingress (and the HTTP API) parse a request once and send it here.

#include "actors/subscriber_registry.hpp"
#include "control/control_request.hpp"

#include <caf/actor.hpp>

#include <memory>
#include <string>

namespace volley {

struct control_plane {
  caf::actor monitor;
  caf::actor store_reader;
  caf::actor persistence;
  caf::actor node; // answers reload
  std::shared_ptr<const subscriber_registry> subscribers;

  struct route {
    caf::actor target; // invalid when `error` says why there is none
    std::string error; // an answer line
  };

  route route_of(const control_request& req) const;
};

} // namespace volley
