#pragma once
// The store reader: answers the operator's reads of the store (`queue`,
// `dlq.list`) on a thread of its own (spawned detached), with read-only
// transactions. LMDB readers never block the writer, so a query that walks
// every pending delivery no longer delays the commits that acks wait for.

#include "actors/subscriber_registry.hpp"
#include "messages/messages.hpp"
#include "storage/store.hpp"

#include <memory>

namespace volley {

struct store_reader_state {
  static inline const char* name = "store_reader";
};

caf::behavior store_reader(caf::stateful_actor<store_reader_state>* self, std::shared_ptr<store> db,
                           std::shared_ptr<const subscriber_registry> subscribers);

} // namespace volley
