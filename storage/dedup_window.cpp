#include "storage/dedup_window.hpp"

namespace volley {

bool dedup_window::contains(const std::string& id, int64_t now_ms) {
  if (!enabled())
    return false;
  expire(now_ms);
  auto it = ids_.find(id);
  // Times need not arrive in order (several connections), so the front of
  // order_ is not always the oldest: check this id's own age as well.
  return it != ids_.end() && now_ms - it->second.accepted_ms <= window_ms_;
}

void dedup_window::remember(const std::string& id, int64_t accepted_ms) {
  if (!enabled())
    return;
  auto ticket = ++next_ticket_;
  ids_[id] = {accepted_ms, ticket};
  order_.push_back({accepted_ms, ticket, id});
  while (ids_.size() > max_ids_) {
    if (is_live(order_.front()))
      ids_.erase(order_.front().id);
    order_.pop_front();
  }
}

bool dedup_window::seen(const std::string& id, int64_t now_ms) {
  if (contains(id, now_ms))
    return true;
  remember(id, now_ms);
  return false;
}

void dedup_window::forget(const std::string& id) {
  ids_.erase(id);
  // Forgotten ids are usually the newest (a batch that failed to commit):
  // trim them off the back at once rather than carry them to the front.
  while (!order_.empty() && !is_live(order_.back()))
    order_.pop_back();
}

void dedup_window::expire(int64_t now_ms) {
  while (!order_.empty() && (!is_live(order_.front()) || now_ms - order_.front().accepted_ms > window_ms_)) {
    if (is_live(order_.front()))
      ids_.erase(order_.front().id);
    order_.pop_front();
  }
}

bool dedup_window::is_live(const order_entry& e) const {
  auto it = ids_.find(e.id);
  return it != ids_.end() && it->second.ticket == e.ticket;
}

} // namespace volley
