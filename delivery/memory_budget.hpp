#pragma once
// The node's byte budget for deliveries held in memory (queue.memory_mb),
// shared by every subscriber's queue. Past it, newly committed deliveries
// stay on disk only and are paged back in as memory frees.
//
// A quarter of the budget is guaranteed, split evenly over the queues, so a
// subscriber whose backlog fills memory (an endpoint down, its retries
// waiting) never starves a healthy one; the other three quarters are lent
// to whichever queue wants them. A queue may take one more delivery while it
// has room, so the node exceeds the budget by at most one body per queue.
// Thread-safe: subscriber actors charge and release on any scheduler thread.

#include <atomic>
#include <cstdint>
#include <limits>

namespace volley {

class memory_budget {
public:
  static constexpr uint64_t unlimited = std::numeric_limits<uint64_t>::max();

  explicit memory_budget(uint64_t limit_bytes = 0) { set_limit(limit_bytes); } // 0: no budget
  void set_limit(uint64_t limit_bytes) { limit_.store(limit_bytes == 0 ? unlimited : limit_bytes); }

  uint64_t limit() const { return limit_.load(std::memory_order_relaxed); }
  uint64_t limit_or_zero() const { return limit() == unlimited ? 0 : limit(); } // as reported
  uint64_t used() const { return used_.load(std::memory_order_relaxed); }

  void charge(uint64_t bytes) { used_.fetch_add(bytes, std::memory_order_relaxed); }
  void release(uint64_t bytes) { used_.fetch_sub(bytes, std::memory_order_relaxed); }

  // A queue starts or stops sharing the budget (its guaranteed share changes).
  void join() { queues_.fetch_add(1, std::memory_order_relaxed); }
  void leave() { queues_.fetch_sub(1, std::memory_order_relaxed); }

  // Bytes a queue that holds `own` may still take in: the rest of its
  // guaranteed share or of the lent part, whichever is larger.
  uint64_t room_for(uint64_t own) const;
  // The least room worth a page read (so a tight budget pages in batches,
  // not one delivery per read).
  uint64_t page_min() const;

private:
  std::atomic<uint64_t> limit_{unlimited};
  std::atomic<uint64_t> used_{0};
  std::atomic<uint32_t> queues_{0};
};

} // namespace volley
