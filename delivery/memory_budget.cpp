#include "delivery/memory_budget.hpp"

#include <algorithm>

namespace volley {

uint64_t memory_budget::room_for(uint64_t own) const {
  auto limit = this->limit();
  if (limit == unlimited)
    return unlimited;
  auto guaranteed = limit / 4 / std::max<uint32_t>(queues_.load(std::memory_order_relaxed), 1);
  auto lent = limit - limit / 4;
  auto used = this->used();
  uint64_t own_room = own < guaranteed ? guaranteed - own : 0;
  uint64_t lent_room = used < lent ? lent - used : 0;
  return std::max(own_room, lent_room);
}

uint64_t memory_budget::page_min() const {
  auto limit = this->limit();
  if (limit == unlimited)
    return 0;
  auto guaranteed = limit / 4 / std::max<uint32_t>(queues_.load(std::memory_order_relaxed), 1);
  return std::min<uint64_t>(uint64_t{1} << 20, guaranteed / 2);
}

} // namespace volley
