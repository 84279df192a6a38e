#include "http/engine_admission.hpp"

#include <algorithm>
#include <vector>

namespace volley {

size_t engine_admission::room() const {
  auto used = outstanding();
  return used < capacity_ ? capacity_ - used : 0;
}

void engine_admission::ended() {
  outstanding_.fetch_sub(1, std::memory_order_relaxed);
  if (waiting_.load(std::memory_order_relaxed) > 0)
    wake_some();
}

void engine_admission::when_room(std::function<void()> wake) {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    waiters_.push_back(std::move(wake));
    waiting_.store(waiters_.size(), std::memory_order_relaxed);
  }
  // Room may have come between the caller's look and now.
  wake_some();
}

void engine_admission::wake_some() {
  auto room = this->room();
  if (room == 0)
    return;
  std::vector<std::function<void()>> woken;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    auto n = std::min(room, waiters_.size());
    for (size_t i = 0; i < n; ++i) {
      woken.push_back(std::move(waiters_.front()));
      waiters_.pop_front();
    }
    waiting_.store(waiters_.size(), std::memory_order_relaxed);
  }
  for (auto& wake : woken)
    wake(); // outside the lock: a wake may ask again
}

} // namespace volley
