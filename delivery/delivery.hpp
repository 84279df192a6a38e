#pragma once
// A delivery in memory: one event owed to one subscriber. The event's body
// is shared (immutable) by all of its deliveries, so fan-out to N
// subscribers never copies it.

#include "delivery/memory_budget.hpp"
#include "storage/records.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace volley {

// The node's memory budget, charged for a payload by the first queue that
// holds one of its deliveries and given back when the last delivery that
// shares the payload goes. Moved only before the payload is shared.
class payload_charge {
public:
  payload_charge() = default;
  payload_charge(payload_charge&& other) noexcept : budget_(std::move(other.budget_)), bytes_(other.bytes_) {
    taken_.store(other.taken_.load());
  }
  payload_charge& operator=(payload_charge&&) = delete;
  ~payload_charge() {
    if (budget_)
      budget_->release(bytes_);
  }

  // Charges `bytes` unless some queue did already (queues run on any thread).
  void charge_once(const std::shared_ptr<memory_budget>& budget, uint64_t bytes) const {
    if (!budget || taken_.exchange(true))
      return;
    budget_ = budget;
    bytes_ = bytes;
    budget->charge(bytes);
  }

private:
  mutable std::atomic<bool> taken_{false};
  mutable std::shared_ptr<memory_budget> budget_;
  mutable uint64_t bytes_ = 0;
};

struct event_payload {
  uint64_t seq = 0;
  std::string id;
  std::string type;
  int64_t created_ms = 0;
  std::shared_ptr<const std::string> body;
  payload_charge charge;
};
using payload_ptr = std::shared_ptr<const event_payload>;

// What a payload holds in memory, as the budget counts it: its strings and
// the shared objects around them.
inline uint64_t payload_bytes(const event_payload& p) {
  constexpr uint64_t shared_objects = sizeof(event_payload) + 2 * 32;
  return (p.body ? p.body->size() : 0) + p.id.size() + p.type.size() + shared_objects;
}

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
