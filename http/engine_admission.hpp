#pragma once
// How many requests the HTTP engine takes before they would only queue in
// it, and whom to tell when there is room again.
//
// Subscribers ask before they sign a request: past the engine's capacity a
// delivery waits in its subscriber's queue (counted by the memory budget,
// signed when it is sent), not as a signed request in the engine's queue,
// where 10,000 subscribers' allowances once piled up 220,000 requests whose
// signature timestamps aged as they waited. Capacity is the transfers the
// engine runs at once and a quarter more (see http_engine.cpp), so the
// engine never idles while subscribers answer a wake-up.
//
// A subscriber that finds no room asks to be woken (when_room), saying how
// many requests it has ready. Waiters are woken first come first served,
// each only once the room covers what it asked for, and that room is
// promised to it: later wake-ups do not hand it out again, and callers that
// are not waiting find no room while others wait. (Waking as many waiters
// as there was room, one each, woke five subscribers per request that
// ended at 10,000 subscribers: the first took the room, the others asked
// again.) A promise ends when requests are added (whoever adds them) or
// when nothing is outstanding any more, so a woken subscriber that sends
// fewer than it asked for, or none because it stopped, holds no room for
// long. Thread-safe: actors ask, engine threads end requests.

#include <atomic>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>

namespace volley {

class engine_admission {
public:
  explicit engine_admission(size_t capacity);

  size_t capacity() const { return capacity_; }
  size_t outstanding() const { return outstanding_.load(std::memory_order_relaxed); }
  // Requests a caller that was not woken may add now: none while others
  // wait, else the capacity less what is outstanding or promised.
  size_t room() const;
  // Requests a caller just woken may add: the capacity less what is
  // outstanding (its promise is part of it).
  size_t room_when_woken() const { return free(); }
  // The most a waiter is promised at once: a waiter asking for more is
  // woken when that much is free.
  size_t most_promised() const { return most_promised_; }

  // Requests taken (a batch may overshoot room() a little: callers look
  // before others add). They end promises as far as they go.
  void added(size_t n);
  // One request ended (completed, or dropped at stop): wakes waiters.
  void ended();
  // Calls `wake` once when `wanted` requests (at most most_promised(), at
  // least one) have room, at once if they have now. `wake` must be short
  // (it runs on an engine thread): send a message.
  void when_room(size_t wanted, std::function<void()> wake);

private:
  struct waiter {
    size_t wanted;
    std::function<void()> wake;
  };

  size_t free() const;
  void wake_some();

  const size_t capacity_;
  const size_t most_promised_;
  std::atomic<size_t> outstanding_{0};
  std::atomic<size_t> promised_{0}; // room set aside for woken waiters
  std::atomic<size_t> waiting_{0};  // waiters_.size(), read without the lock
  std::mutex mutex_;
  std::deque<waiter> waiters_;
};

} // namespace volley
