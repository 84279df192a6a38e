#include "actors/router.hpp"

#include "protocol/timestamp.hpp"

namespace volley {

routing_table::routing_table(const std::vector<subscriber_config>& subscribers,
                             const std::vector<priority_rule>& rules) {
  for (const auto& s : subscribers) {
    names_.push_back(s.name);
    subscribers_.add(names_.size() - 1, s.events);
  }
  for (size_t i = 0; i < rules.size(); ++i) {
    rules_.add(i, {rules[i].event});
    rule_priorities_.push_back(rules[i].priority);
  }
}

uint8_t routing_table::priority_for(std::string_view type, int event_priority) const {
  if (event_priority != no_priority)
    return static_cast<uint8_t>(event_priority);
  if (rule_priorities_.empty())
    return 0;
  scratch_.clear();
  rules_.match(type, scratch_);
  return scratch_.empty() ? 0 : static_cast<uint8_t>(rule_priorities_[scratch_.front()]);
}

void routing_table::targets_for(std::string_view type, uint8_t priority,
                                std::vector<delivery_target>& out) const {
  scratch_.clear();
  subscribers_.match(type, scratch_);
  for (auto i : scratch_)
    out.push_back({names_[i], priority});
}

persist_batch router_state::route(ingest_batch& batch) {
  persist_batch out;
  out.reply_to = batch.reply_to;
  out.events.reserve(batch.items.size());
  for (auto& item : batch.items) {
    auto& ev = item.event;
    routed_event routed;
    routed.slot = item.slot;
    routed.client_id = !ev.id.empty();
    if (!routed.client_id)
      ev.id = generate_event_id();
    auto payload = std::make_shared<event_payload>();
    table.targets_for(ev.type, table.priority_for(ev.type, ev.priority), routed.targets);
    // Built once and shared by every subscriber; not at all when none wants it.
    if (!routed.targets.empty())
      payload->body = std::make_shared<const std::string>(
        delivery_body(ev.id, ev.type, item.received_ms, ev.data));
    payload->id = std::move(ev.id);
    payload->type = std::move(ev.type);
    payload->created_ms = item.received_ms;
    routed.payload = std::move(payload);
    out.events.push_back(std::move(routed));
  }
  return out;
}

caf::behavior router(caf::stateful_actor<router_state>* self, routing_table table,
                     caf::actor persistence) {
  self->state.table = std::move(table);
  self->state.persistence = std::move(persistence);
  return {
    [=](update_atom, routing_table& table) { self->state.table = std::move(table); },
    [=](ingest_atom, ingest_batch& batch) {
      self->send(self->state.persistence, persist_atom::value, self->state.route(batch));
    },
  };
}

} // namespace volley
