#pragma once
// The router: matches each event against the precompiled subscriber filters,
// assigns its priority, gives an id to events that came without one, and
// passes the routed batch on to persistence (which deduplicates client ids
// and acknowledges).

#include "config/config.hpp"
#include "messages/messages.hpp"
#include "routing/filter_index.hpp"

#include <string>
#include <vector>

namespace volley {

// Which subscribers get an event and at which priority. Plain logic.
class routing_table {
public:
  routing_table() = default;
  routing_table(const std::vector<subscriber_config>& subscribers,
                const std::vector<priority_rule>& rules);

  // The event's own priority wins; else the first matching rule; else 0.
  uint8_t priority_for(std::string_view type, int event_priority) const;

  // Appends one target per matching enabled subscriber.
  void targets_for(std::string_view type, uint8_t priority, std::vector<delivery_target>& out) const;

private:
  std::vector<std::string> names_;
  filter_index subscribers_;
  filter_index rules_;
  std::vector<int> rule_priorities_;
  mutable std::vector<size_t> scratch_;
};

struct router_state {
  static inline const char* name = "router";

  persist_batch route(ingest_batch& batch);

  routing_table table;
  caf::actor persistence;
};

caf::behavior router(caf::stateful_actor<router_state>* self, routing_table table,
                     caf::actor persistence);

} // namespace volley

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::routing_table)
