#include "routing/routing_table.hpp"

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

routed_event routing_table::route(parsed_event&& ev, uint64_t slot, int64_t received_ms) const {
  routed_event routed;
  routed.slot = slot;
  routed.client_id = !ev.id.empty();
  if (!routed.client_id)
    ev.id = generate_event_id();
  targets_for(ev.type, priority_for(ev.type, ev.priority), routed.targets);
  auto payload = std::make_shared<event_payload>();
  // Built once and shared by every subscriber; not at all when none wants it.
  if (!routed.targets.empty())
    payload->body = std::make_shared<const std::string>(delivery_body(ev.id, ev.type, received_ms, ev.data));
  payload->id = std::move(ev.id);
  payload->type = std::move(ev.type);
  payload->created_ms = received_ms;
  routed.payload = std::move(payload);
  return routed;
}

} // namespace volley
