#pragma once
// Tests wait for conditions with a deadline, never for a fixed time.

#include <chrono>
#include <functional>
#include <thread>

namespace volley::test {

// Polls `condition` until it holds or `timeout` passes; returns its last value.
inline bool wait_until(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition())
      return true;
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10)); // poll interval, not a wait for a result
  }
}

} // namespace volley::test
