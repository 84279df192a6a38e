#pragma once
// The router actor: routes each event of an ingress batch through the
// current routing_table (filters, priorities, generated ids) and passes the
// routed batch on to persistence, which deduplicates client ids, commits
// and acknowledges.

#include "messages/messages.hpp"
#include "routing/routing_table.hpp"

namespace volley {

struct router_state {
  static inline const char* name = "router";
  routing_table table;
  caf::actor persistence;
};

caf::behavior router(caf::stateful_actor<router_state>* self, routing_table table, caf::actor persistence);

} // namespace volley
