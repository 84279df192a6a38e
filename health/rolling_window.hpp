#pragma once
// Counts over the last `window` of time, kept in fixed slots of time so old
// counts fall out without storing individual outcomes. Only the slots that
// hold counts are kept (at most window / slot of them). Time is passed in.

#include "health/delivery_counts.hpp"

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace volley {

class rolling_window {
public:
  rolling_window(uint64_t window_ms, uint64_t slot_ms);

  void add(int64_t now_ms, const delivery_counts& counts);

  // The sum over the slots still inside the window at `now_ms`.
  delivery_counts total(int64_t now_ms) const;
  // The sum over the newest slots covering `span_ms` (at most the window).
  delivery_counts total(int64_t now_ms, uint64_t span_ms) const;

  uint64_t window_ms() const { return slot_ms_ * slot_count_; }
  uint64_t slot_ms() const { return slot_ms_; }
  // Whether the ring is allocated: not before something was counted.
  bool holds_slots() const { return !slots_.empty(); }

  // One slot of the window: when it starts and what was added in it.
  struct point {
    int64_t start_ms = 0;
    delivery_counts counts;
  };
  // Every slot inside the window at `now_ms`, oldest first, ending with the
  // slot `now_ms` falls in (still filling). Slots nothing was added to are
  // there too, empty, so the points are evenly spaced for a chart.
  std::vector<point> points(int64_t now_ms) const;

  // The slots that hold counts, by their index (time / slot_ms), for a
  // snapshot; restore() puts one back (a slot the window has left is
  // ignored as soon as time moves past it, like any old slot).
  std::vector<std::pair<int64_t, delivery_counts>> filled_slots() const;
  void restore(int64_t index, const delivery_counts& counts);

private:
  struct slot {
    int64_t index = -1; // now_ms / slot_ms of the counts it holds
    delivery_counts counts;
  };

  // The slot of `index`, added when missing after dropping the ones the
  // window has left; nullptr when `index` is older than the window that
  // ends at the newest slot.
  slot* slot_for(int64_t index);

  uint64_t slot_ms_;
  size_t slot_count_;
  // The filled slots, oldest first. A monitor keeps four windows per
  // subscriber: a ring of every slot cost 27 KB per subscriber, idle or
  // busy in one minute of the day.
  std::vector<slot> slots_;
};

} // namespace volley
