#pragma once
// One subscriber's deliveries in memory: ready to send (by priority),
// waiting for a retry time, and in flight. Bounded in count (`memory_limit`)
// and in bytes (the node's memory_budget, shared by every queue): past
// either, a newly committed delivery stays on disk only and is paged back in
// as the backlog drains.
//
// Deliveries come from one or more sources, each a store with its own seq
// order: the node's one store, or in cluster mode one per Kafka partition
// (an event seq carries its source in its top 16 bits). Per source, the
// watermark is the highest event seq memory has taken in commit order;
// everything above it may be on disk only.
// Plain logic: no CAF, time passed in.

#include "delivery/delivery.hpp"
#include "delivery/memory_budget.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <vector>

namespace volley {

// Ask the store for up to `limit` pending deliveries with event seq above
// `after_seq` (which names the source too), stopping once their events
// reach `max_bytes` (0: no byte cap).
struct page_request {
  uint16_t source = 0;
  uint64_t after_seq = 0;
  uint32_t limit = 0;
  uint64_t max_bytes = 0;
};

class delivery_queue {
public:
  static constexpr int64_t page_retry_ms = 1000; // after a failed read
  static constexpr int source_shift = 48;

  static uint16_t source_of(uint64_t seq) { return static_cast<uint16_t>(seq >> source_shift); }
  static uint64_t source_start(uint16_t source) { return uint64_t{source} << source_shift; }

  // What a delivery costs the budget beside its payload: the record and
  // the containers' nodes around it.
  static constexpr uint64_t delivery_overhead = sizeof(delivery) + 64;

  // `single_source`: the node's one store, all of it on disk at start. Else
  // sources come and go with adopt_source/drop_source (cluster mode).
  // Without a budget only the count bounds memory.
  explicit delivery_queue(uint32_t memory_limit, bool single_source = true,
                          std::shared_ptr<memory_budget> budget = nullptr);
  ~delivery_queue();
  delivery_queue(delivery_queue&&) = default; // the budget's share moves along
  delivery_queue& operator=(delivery_queue&&) = delete;

  void set_memory_limit(uint32_t limit) { memory_limit_ = limit; }

  // A source whose deliveries are all on disk now (a partition restored).
  void adopt_source(uint16_t source);
  // Forgets a source and its deliveries in memory (a partition moved away).
  // Its deliveries in flight come back to owns() == false.
  void drop_source(uint16_t source);
  bool owns(uint64_t seq) const { return sources_.count(source_of(seq)) > 0; }

  // A delivery just committed, in commit order. False when it stays on disk
  // only (memory is full, or older ones are still there): a page brings it.
  bool offer(delivery&& d, int64_t now_ms);

  // Taken whatever the cap: a delivery outside the paging order (requeued
  // from the dead-letter queue).
  void put(delivery&& d, int64_t now_ms);

  // Back to wait for its retry time (after a failed attempt).
  void retry_at(delivery&& d, int64_t due_ms);

  // A page to ask for now, if memory has room and a backlog is on disk;
  // nullopt otherwise, or while an answer is awaited.
  std::optional<page_request> want_page(int64_t now_ms);
  // The store's answer: `complete` when it held no more than this.
  void take_page(std::vector<delivery>&& page, bool complete, int64_t now_ms);
  // The read failed: ask again after page_retry_ms.
  void page_failed(int64_t now_ms);
  // When want_page may ask again after a failure (0: not waiting for that).
  int64_t page_retry_at_ms() const;

  // Moves the waiting deliveries whose time has come to the ready queues.
  void promote_due(int64_t now_ms);
  // The earliest retry time still waiting.
  std::optional<int64_t> next_due() const;

  bool has_ready() const;
  // The oldest delivery of the highest ready priority, now counted in flight.
  delivery start_next();
  // An attempt came back (whatever its fate); retry_at or put take it back.
  void attempt_ended(const delivery& d);

  size_t in_flight() const { return in_flight_; }
  size_t in_memory() const; // ready + waiting + in flight
  size_t waiting() const { return waiting_.size(); }
  uint64_t bytes_in_memory() const { return own_bytes_; } // as the budget counts them
  std::array<size_t, 4> ready_by_priority() const;
  bool backlog_on_disk() const;
  // The watermark of source 0 (the single store's).
  uint64_t watermark() const;

private:
  struct source_state {
    uint64_t watermark = 0;
    bool on_disk = true;
    int64_t retry_at_ms = 0; // a failed page: not before this
  };

  void enqueue(delivery&& d, int64_t now_ms);
  // A delivery enters or leaves memory: its bytes to this queue and the budget.
  void hold(const delivery& d);
  void let_go(const delivery& d);
  // Whether memory may take one more delivery in commit order.
  bool has_room() const;
  // The byte cap of the next page (0: none), or nullopt when too little room.
  std::optional<uint64_t> page_bytes() const;

  uint32_t memory_limit_;
  std::shared_ptr<memory_budget> budget_;
  uint64_t own_bytes_ = 0;
  std::map<uint16_t, source_state> sources_;
  std::optional<uint16_t> requested_; // the source a page was asked for
  // A priority's ready deliveries, first in first out. Allocates nothing
  // until its first delivery: a std::deque allocates ~600 bytes when
  // made, and four per subscriber were 21 MB at 10,000 idle subscribers.
  class ready_fifo {
  public:
    bool empty() const { return !q_ || q_->empty(); }
    size_t size() const { return q_ ? q_->size() : 0; }
    void push_back(delivery&& d) {
      if (!q_)
        q_ = std::make_unique<std::deque<delivery>>();
      q_->push_back(std::move(d));
    }
    delivery take_front() {
      auto d = std::move(q_->front());
      q_->pop_front();
      return d;
    }
    template <class Pred>
    void remove_if(Pred gone) {
      if (q_)
        q_->erase(std::remove_if(q_->begin(), q_->end(), gone), q_->end());
    }

  private:
    std::unique_ptr<std::deque<delivery>> q_;
  };

  std::array<ready_fifo, 4> ready_;          // index = priority
  std::multimap<int64_t, delivery> waiting_; // retry due (unix ms) -> delivery
  size_t in_flight_ = 0;
};

} // namespace volley
