#include "cluster/offset_tracker.hpp"

namespace volley {

void offset_tracker::advance(partition_state& s) {
  while (!s.open.empty() && s.open.begin()->second) {
    s.next = s.open.begin()->first + 1;
    s.moved = true;
    s.open.erase(s.open.begin());
  }
}

void offset_tracker::track(int32_t partition, int64_t offset) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto& s = partitions_[partition];
  if (s.open.emplace(offset, false).second)
    ++in_flight_;
}

void offset_tracker::done(int32_t partition, int64_t offset) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto it = partitions_.find(partition);
  if (it == partitions_.end())
    return;
  auto& s = it->second;
  auto rec = s.open.find(offset);
  if (rec == s.open.end() || rec->second)
    return;
  rec->second = true;
  --in_flight_;
  advance(s);
  changed_.notify_all();
}

bool offset_tracker::failed(int32_t partition, int64_t offset) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto it = partitions_.find(partition);
  if (it == partitions_.end())
    return false;
  auto& s = it->second;
  // Every record from the failed one on is read again: none is owed now.
  for (auto rec = s.open.lower_bound(offset); rec != s.open.end();) {
    if (!rec->second)
      --in_flight_;
    rec = s.open.erase(rec);
  }
  changed_.notify_all();
  if (s.failed_at && *s.failed_at <= offset)
    return false;
  bool first = !s.failed_at;
  s.failed_at = offset;
  return first;
}

std::optional<int64_t> offset_tracker::rewind_point(int32_t partition) const {
  std::lock_guard<std::mutex> guard{mutex_};
  auto it = partitions_.find(partition);
  return it == partitions_.end() ? std::nullopt : it->second.failed_at;
}

void offset_tracker::rewound(int32_t partition) {
  std::lock_guard<std::mutex> guard{mutex_};
  if (auto it = partitions_.find(partition); it != partitions_.end())
    it->second.failed_at.reset();
}

std::vector<offset_tracker::commit_point> offset_tracker::take_commits() {
  std::lock_guard<std::mutex> guard{mutex_};
  std::vector<commit_point> out;
  for (auto& [p, s] : partitions_) {
    if (!s.moved || !s.next)
      continue;
    s.moved = false;
    out.push_back({p, *s.next});
  }
  return out;
}

std::optional<int64_t> offset_tracker::committable(int32_t partition) const {
  std::lock_guard<std::mutex> guard{mutex_};
  auto it = partitions_.find(partition);
  return it == partitions_.end() ? std::nullopt : it->second.next;
}

size_t offset_tracker::in_flight() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return in_flight_;
}

bool offset_tracker::wait_drained(int32_t partition, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock{mutex_};
  return changed_.wait_for(lock, timeout, [&] {
    auto it = partitions_.find(partition);
    if (it == partitions_.end())
      return true;
    for (const auto& [offset, is_done] : it->second.open)
      if (!is_done)
        return false;
    return true;
  });
}

void offset_tracker::wait_below(size_t at_most, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock{mutex_};
  changed_.wait_for(lock, timeout, [&] { return in_flight_ <= at_most; });
}

void offset_tracker::forget(int32_t partition) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto it = partitions_.find(partition);
  if (it == partitions_.end())
    return;
  for (const auto& [offset, is_done] : it->second.open)
    if (!is_done)
      --in_flight_;
  partitions_.erase(it);
  changed_.notify_all();
}

} // namespace volley
