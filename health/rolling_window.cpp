#include "health/rolling_window.hpp"

#include <algorithm>

namespace volley {

rolling_window::rolling_window(uint64_t window_ms, uint64_t slot_ms)
  : slot_ms_(std::max<uint64_t>(slot_ms, 1)),
    slot_count_(std::max<uint64_t>((window_ms + slot_ms_ - 1) / slot_ms_, 1)) {}

rolling_window::slot& rolling_window::slot_for(int64_t index) {
  if (slots_.empty())
    slots_.resize(slot_count_);
  return slots_[static_cast<size_t>(index) % slot_count_];
}

void rolling_window::add(int64_t now_ms, const delivery_counts& counts) {
  if (counts.empty())
    return;
  auto index = now_ms / static_cast<int64_t>(slot_ms_);
  auto& s = slot_for(index);
  if (s.index != index) {
    s.index = index;
    s.counts = delivery_counts{};
  }
  s.counts.merge(counts);
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
    if (!slots_.empty()) {
      const auto& s = slots_[static_cast<size_t>(index) % slot_count_];
      if (s.index == index)
        p.counts = s.counts;
    }
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<std::pair<int64_t, delivery_counts>> rolling_window::filled_slots() const {
  std::vector<std::pair<int64_t, delivery_counts>> out;
  for (const auto& s : slots_)
    if (s.index >= 0 && !s.counts.empty())
      out.emplace_back(s.index, s.counts);
  return out;
}

void rolling_window::restore(int64_t index, const delivery_counts& counts) {
  if (index < 0)
    return;
  auto& s = slot_for(index);
  if (s.index > index)
    return; // a newer slot holds that place
  if (s.index != index) {
    s.index = index;
    s.counts = delivery_counts{};
  }
  s.counts.merge(counts);
}

} // namespace volley
