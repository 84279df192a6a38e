#pragma once
// Which of an engine thread's libcurl multi handles a transfer runs on.
//
// Each multi handle keeps its own connection cache, and libcurl 7.88's
// curl_multi_remove_handle walks the connections in its handle's cache on
// every completion (bench/README.md, "What changes bought"). So a thread
// spreads its transfers over `max_multis` handles, about `per_multi`
// each, and a completion costs a walk of about that many connections,
// whatever the concurrency.
//
// A keep-alive connection is reused only within its multi handle, and a
// cache that holds connections to many origins evicts one origin's idle
// connections to make room for another's. So every origin
// (scheme://host:port) has homes: its transfers run on its first home
// while fewer than twice `per_multi` run there, then on its second, and so
// on. Its connections stay on its homes, where its next transfers find
// them. An origin's first home is, when it is first seen, the handle
// fewest origins call home, so origins share handles only when there are
// more of them than handles.
//
// Why: a handle whose cache is full closes its oldest idle connection to
// open one for another origin (and libcurl walks the whole cache to find
// it). At 16k in flight to 64 origins, 500 ms each (bench (g)), homes
// picked by hash put two or three origins on some handles and none on a
// third of them, and a home's room of per_multi and a quarter sent an
// origin's ups and downs to another origin's home: 0.23 connects per
// delivery. Spread homes: 0.17; and twice per_multi: 0.09, at 0.77x the
// CPU per delivery and 1.3x the rate (manual runs, 3 each, medians).
//
// An origin with no transfer running is remembered (its idle connections
// are still on its homes) up to `max_idle_origins` of them; past that the
// one idle longest is forgotten, and if it comes back it is placed like a
// new one. So a daemon whose subscribers come and go over months keeps a
// bounded table, and a handle's count of origins calling it home counts
// live ones. Plain logic: no libcurl in here.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace volley {

// "https://host:port" of a URL: what a connection is reused for.
std::string_view origin_of(std::string_view url);

// The engine thread an origin's requests go to while that thread is
// lightly loaded: picked by the origin's hash, mixed first (the plain
// hash's low bits pick the origin's multi handles within the thread).
inline size_t home_thread(std::string_view origin, size_t threads) {
  if (threads <= 1)
    return 0;
  uint64_t key = std::hash<std::string_view>{}(origin);
  key = (key ^ (key >> 31)) * 0x7fb5d329728ea185ULL;
  return static_cast<size_t>((key ^ (key >> 27)) % threads);
}

class transfer_placement {
public:
  struct spot {
    size_t multi = 0;    // the multi handle's index, < multis()
    uint64_t origin = 0; // the origin's key, for release
    size_t home = 0;     // which of the origin's homes
  };

  // Origins with nothing running that are remembered when no bound is
  // given: about 150 bytes each.
  static constexpr size_t default_idle_origins = 4096;

  transfer_placement(size_t per_multi, size_t max_multis, size_t max_idle_origins = default_idle_origins);

  // Where a new transfer to `origin` runs, counted there until release().
  spot place(std::string_view origin);
  void release(const spot& s);

  size_t running(size_t multi) const { return running_[multi]; }
  size_t multis() const { return running_.size(); }
  size_t per_multi() const { return per_multi_; }
  // Transfers of one origin on one home at most.
  size_t per_home() const { return 2 * per_multi_; }

  // Origins whose first home a handle is.
  size_t homed(size_t multi) const { return homed_[multi]; }
  // Origins remembered: those running transfers and the idle kept.
  size_t origins() const { return origins_.size(); }
  bool remembers(std::string_view origin) const {
    return origins_.count(std::hash<std::string_view>{}(origin)) > 0;
  }

private:
  struct origin_homes {
    size_t first = 0;                      // its first home
    std::vector<size_t> counts;            // transfers running on each home, first home first
    std::list<uint64_t>::iterator idle_at; // its place in idle_, when nothing of it runs
  };

  size_t home(uint64_t key, const origin_homes& o, size_t nth) const;
  // Nothing of it runs (so it is in idle_, once placed).
  static bool idle(const origin_homes& o);
  size_t least_homed(uint64_t key) const;

  size_t per_multi_;
  std::vector<size_t> running_; // per handle
  std::vector<size_t> homed_;   // per handle
  // Origin (by hash: a collision only shares homes) -> its homes. Kept
  // when its transfers end, up to max_idle_ of them: its idle connections
  // are still on its homes.
  std::unordered_map<uint64_t, origin_homes> origins_;
  // Origins with nothing running, the longest idle first.
  std::list<uint64_t> idle_;
  size_t max_idle_;
};

} // namespace volley
