#include "health/rolling_window.hpp"

#include <algorithm>

namespace volley {

rolling_window::rolling_window(uint64_t window_ms, uint64_t slot_ms)
  : slot_ms_(std::max<uint64_t>(slot_ms, 1)),
    slot_count_(std::max<uint64_t>((window_ms + slot_ms_ - 1) / slot_ms_, 1)) {}

rolling_window::slot* rolling_window::slot_for(int64_t index) {
  auto newest = slots_.empty() ? index : std::max(index, slots_.back().index);
  auto oldest = newest - static_cast<int64_t>(slot_count_) + 1;
  if (index < oldest)
    return nullptr; // the window has left it
  // Slots the window has left go, so at most slot_count_ are kept.
  auto kept = std::find_if(slots_.begin(), slots_.end(), [&](const slot& s) { return s.index >= oldest; });
  slots_.erase(slots_.begin(), kept);
  auto it = std::lower_bound(slots_.begin(), slots_.end(), index,
                             [](const slot& s, int64_t i) { return s.index < i; });
  if (it == slots_.end() || it->index != index)
    it = slots_.insert(it, slot{index, delivery_counts{}});
  return &*it;
}

void rolling_window::add(int64_t now_ms, const delivery_counts& counts) {
  if (counts.empty())
    return;
  if (auto* s = slot_for(now_ms / static_cast<int64_t>(slot_ms_)))
    s->counts.merge(counts);
}

delivery_counts rolling_window::total(int64_t now_ms) const { return total(now_ms, window_ms()); }

delivery_counts rolling_window::total(int64_t now_ms, uint64_t span_ms) const {
  auto span_slots = std::clamp<uint64_t>((span_ms + slot_ms_ - 1) / slot_ms_, 1, slot_count_);
  auto newest = now_ms / static_cast<int64_t>(slot_ms_);
  auto oldest = newest - static_cast<int64_t>(span_slots) + 1;
  delivery_counts sum;
  for (const auto& s : slots_)
    if (s.index >= oldest && s.index <= newest)
      sum.merge(s.counts);
  return sum;
}

std::vector<rolling_window::point> rolling_window::points(int64_t now_ms) const {
  const auto slot = static_cast<int64_t>(slot_ms_);
  const auto newest = now_ms / slot;
  const auto count = static_cast<int64_t>(slot_count_);
  std::vector<point> out;
  out.reserve(slot_count_);
  for (auto index = newest - count + 1; index <= newest; ++index) {
    point p;
    p.start_ms = index * slot;
    auto s = std::lower_bound(slots_.begin(), slots_.end(), index,
                              [](const auto& filled, int64_t i) { return filled.index < i; });
    if (s != slots_.end() && s->index == index)
      p.counts = s->counts;
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<std::pair<int64_t, delivery_counts>> rolling_window::filled_slots() const {
  std::vector<std::pair<int64_t, delivery_counts>> out;
  for (const auto& s : slots_)
    if (!s.counts.empty())
      out.emplace_back(s.index, s.counts);
  return out;
}

void rolling_window::restore(int64_t index, const delivery_counts& counts) {
  if (index < 0 || counts.empty())
    return;
  if (auto* s = slot_for(index))
    s->counts.merge(counts);
}

} // namespace volley
