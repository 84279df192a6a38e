#include "http/engine_admission.hpp"

#include <algorithm>
#include <vector>

namespace volley {

engine_admission::engine_admission(size_t capacity)
  : capacity_(capacity), most_promised_(std::clamp<size_t>(capacity / 8, 1, 64)) {}

size_t engine_admission::free() const {
  auto used = outstanding();
  return used < capacity_ ? capacity_ - used : 0;
}

size_t engine_admission::room() const {
  if (waiting_.load(std::memory_order_relaxed) > 0)
    return 0;
  auto left = free();
  auto promised = promised_.load(std::memory_order_relaxed);
  return left > promised ? left - promised : 0;
}

void engine_admission::added(size_t n) {
  outstanding_.fetch_add(n, std::memory_order_relaxed);
  auto promised = promised_.load(std::memory_order_relaxed);
  while (promised > 0 && !promised_.compare_exchange_weak(promised, promised - std::min(promised, n),
                                                          std::memory_order_relaxed)) {
  }
}

void engine_admission::ended() {
  if (outstanding_.fetch_sub(1, std::memory_order_relaxed) == 1)
    promised_.store(0, std::memory_order_relaxed); // nothing outstanding: no promise is still being kept
  if (waiting_.load(std::memory_order_relaxed) > 0)
    wake_some();
}

void engine_admission::when_room(size_t wanted, std::function<void()> wake) {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    waiters_.push_back({std::clamp<size_t>(wanted, 1, most_promised_), std::move(wake)});
    waiting_.store(waiters_.size(), std::memory_order_relaxed);
  }
  // Room may have come between the caller's look and now.
  wake_some();
}

void engine_admission::wake_some() {
  std::vector<std::function<void()>> woken;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    if (outstanding() == 0)
      promised_.store(0, std::memory_order_relaxed); // see ended()
    auto left = free();
    auto promised = promised_.load(std::memory_order_relaxed);
    left = left > promised ? left - promised : 0;
    size_t given = 0;
    while (!waiters_.empty() && waiters_.front().wanted <= left) {
      left -= waiters_.front().wanted;
      given += waiters_.front().wanted;
      woken.push_back(std::move(waiters_.front().wake));
      waiters_.pop_front();
    }
    if (given > 0)
      promised_.fetch_add(given, std::memory_order_relaxed);
    waiting_.store(waiters_.size(), std::memory_order_relaxed);
  }
  for (auto& wake : woken)
    wake(); // outside the lock: a wake may ask again
}

} // namespace volley
