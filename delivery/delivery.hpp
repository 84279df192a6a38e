#pragma once
// A delivery in memory: one event owed to one subscriber. The event's body
// is shared (immutable) by all of its deliveries, so fan-out to N
// subscribers never copies it.

#include "storage/records.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace volley {

struct event_payload {
  uint64_t seq = 0;
  std::string id;
  std::string type;
  int64_t created_ms = 0;
  std::shared_ptr<const std::string> body;
};
using payload_ptr = std::shared_ptr<const event_payload>;

struct delivery {
  delivery_record record;
  payload_ptr payload;
};

// A delivery read back from disk, in the shape subscribers take.
inline delivery delivery_from_disk(pending_delivery&& p) {
  auto payload = std::make_shared<event_payload>();
  payload->seq = p.event.seq;
  payload->id = std::move(p.event.id);
  payload->type = std::move(p.event.type);
  payload->created_ms = p.event.created_ms;
  payload->body = std::make_shared<const std::string>(std::move(p.event.body));
  return {std::move(p.delivery), std::move(payload)};
}

} // namespace volley
