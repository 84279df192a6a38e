#pragma once
// Which subscribers get an event and at which priority: the precompiled
// subscriber filters and priority rules of one config. Plain logic; the
// router actor holds one and swaps it on reload.

#include "config/config.hpp"
#include "delivery/delivery.hpp"
#include "protocol/ingress_line.hpp"
#include "routing/filter_index.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace volley {

// One subscriber that wants an event, at the event's priority.
struct delivery_target {
  std::string subscriber;
  uint8_t priority = 0;
};

// Where an event consumed from Kafka came from (cluster mode).
struct event_origin {
  uint16_t partition = 0;
  int64_t offset = 0;
};

// An accepted event on its way to persistence: its payload (the delivery
// body built once), who wants it, and the answer slot of its ingress line.
struct routed_event {
  uint64_t slot = 0;
  bool client_id = false;                 // the id came from the client (else generated): deduplicated
  std::shared_ptr<event_payload> payload; // seq assigned by persistence
  std::vector<delivery_target> targets;
  std::optional<event_origin> origin; // cluster mode: its record in the events topic
};

class routing_table {
public:
  routing_table() = default;
  routing_table(const std::vector<subscriber_config>& subscribers, const std::vector<priority_rule>& rules);

  // The event's own priority wins; else the first matching rule; else 0.
  uint8_t priority_for(std::string_view type, int event_priority) const;

  // Appends one target per matching subscriber.
  void targets_for(std::string_view type, uint8_t priority, std::vector<delivery_target>& out) const;

  // Routes one event received at `received_ms`; an event without an id of
  // its own gets a generated one. The body is built only when someone wants it.
  routed_event route(parsed_event&& ev, uint64_t slot, int64_t received_ms) const;

private:
  std::vector<std::string> names_;
  filter_index subscribers_;
  filter_index rules_;
  std::vector<int> rule_priorities_;
  mutable std::vector<size_t> scratch_;
};

} // namespace volley
