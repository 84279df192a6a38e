#pragma once
// The client ids of recently accepted events: an id accepted less than the
// window ago is a repeat, acknowledged but not delivered again. This is the
// in-memory view of the ids the store remembers; the persistence actor seeds
// it from disk at start-up and keeps both in step. Plain logic, time passed in.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>

namespace volley {

class dedup_window {
public:
  // `window_ms` 0 turns deduplication off. `max_ids` bounds memory whatever
  // the rate of ids: beyond it the oldest are forgotten first.
  explicit dedup_window(int64_t window_ms = 0, size_t max_ids = 1000000)
    : window_ms_(window_ms), max_ids_(max_ids) {}

  bool enabled() const { return window_ms_ > 0 && max_ids_ > 0; }
  int64_t window_ms() const { return window_ms_; }
  size_t max_ids() const { return max_ids_; }
  size_t size() const { return ids_.size(); }

  // True when `id` was accepted at most `window_ms` before `now_ms`.
  bool contains(const std::string& id, int64_t now_ms);

  // Records `id` as accepted at `accepted_ms`, replacing an earlier record
  // of it. Nothing happens while the window is off.
  void remember(const std::string& id, int64_t accepted_ms);

  // contains(), and remember() when it was not there.
  bool seen(const std::string& id, int64_t now_ms);

  // Drops `id`: its acceptance did not stick (the commit failed), so a
  // retry of it must count as new.
  void forget(const std::string& id);

private:
  struct record {
    int64_t accepted_ms = 0;
    uint64_t ticket = 0; // tells this record's order_ entry from stale ones
  };
  struct order_entry {
    int64_t accepted_ms = 0;
    uint64_t ticket = 0;
    std::string id;
  };

  void expire(int64_t now_ms);
  bool is_live(const order_entry& e) const;

  int64_t window_ms_;
  size_t max_ids_;
  uint64_t next_ticket_ = 0;
  std::unordered_map<std::string, record> ids_;
  // Acceptance order, for expiry and the cap. Entries of forgotten or
  // re-remembered ids stay until they reach an end, and are skipped there.
  std::deque<order_entry> order_;
};

} // namespace volley
