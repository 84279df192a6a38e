#pragma once
// Completions handed from an HTTP engine thread to the actor that owns the
// requests. Only the first completion of a burst has to wake the actor; the
// actor then takes them all, so a busy subscriber handles many results per
// message instead of one message per result.

#include <mutex>
#include <utility>
#include <vector>

namespace volley {

template <class T>
class completion_queue {
public:
  // True when the queue was empty: the caller must wake the owner.
  bool push(T&& item) {
    std::lock_guard<std::mutex> guard{mutex_};
    items_.push_back(std::move(item));
    return items_.size() == 1;
  }

  std::vector<T> take() {
    std::vector<T> out;
    std::lock_guard<std::mutex> guard{mutex_};
    out.swap(items_);
    return out;
  }

private:
  std::mutex mutex_;
  std::vector<T> items_;
};

} // namespace volley
