#pragma once
// How many requests the HTTP engine takes before they would only queue in
// it, and whom to tell when there is room again.
//
// Subscribers ask before they sign a request: past the engine's capacity a
// delivery waits in its subscriber's queue (counted by the memory budget,
// signed when it is sent), not as a signed request in the engine's queue,
// where 10,000 subscribers' allowances once piled up 220,000 requests whose
// signature timestamps aged as they waited. Capacity is twice the transfers
// the engine runs at once, so the engine never idles while subscribers
// answer a wake-up.
//
// A subscriber that finds no room asks to be woken (when_room). Each ended
// request wakes as many waiters as there is room, first come first served;
// a waiter that no longer needs the room leaves it for the next ended
// request's waiters. Thread-safe: actors ask, engine threads end requests.

#include <atomic>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>

namespace volley {

class engine_admission {
public:
  explicit engine_admission(size_t capacity) : capacity_(capacity) {}

  size_t capacity() const { return capacity_; }
  size_t outstanding() const { return outstanding_.load(std::memory_order_relaxed); }
  // Requests the engine takes now without queueing them past its capacity.
  size_t room() const;

  void added(size_t n) { outstanding_.fetch_add(n, std::memory_order_relaxed); }
  // One request ended (completed, or dropped at stop): wakes waiters.
  void ended();
  // Calls `wake` once when there may be room (at once if there is now).
  // `wake` must be short (it runs on an engine thread): send a message.
  void when_room(std::function<void()> wake);

private:
  void wake_some();

  const size_t capacity_;
  std::atomic<size_t> outstanding_{0};
  std::atomic<size_t> waiting_{0}; // waiters_.size(), read without the lock
  std::mutex mutex_;
  std::deque<std::function<void()>> waiters_;
};

} // namespace volley
