#include "actors/router.hpp"

namespace volley {

caf::behavior router(caf::stateful_actor<router_state>* self, routing_table table, caf::actor persistence) {
  self->state.table = std::move(table);
  self->state.persistence = std::move(persistence);
  return {
    [=](routes_atom, routing_table& table) { self->state.table = std::move(table); },
    [=](ingest_atom, ingest_batch& batch) {
      persist_batch out;
      out.reply_to = std::move(batch.reply_to);
      out.events.reserve(batch.items.size());
      for (auto& item : batch.items)
        out.events.push_back(self->state.table.route(std::move(item.event), item.slot, item.received_ms));
      self->send(self->state.persistence, persist_atom::value, std::move(out));
    },
  };
}

} // namespace volley
