#include "subscriber/delivery_queue.hpp"

#include <algorithm>

namespace volley {

delivery_queue::delivery_queue(uint32_t memory_limit) : memory_limit_(memory_limit) {}

size_t delivery_queue::in_memory() const {
  size_t n = waiting_.size() + in_flight_;
  for (const auto& q : ready_)
    n += q.size();
  return n;
}

void delivery_queue::enqueue(delivery&& d, int64_t now_ms) {
  auto due = d.record.next_attempt_ms;
  if (due > now_ms) {
    waiting_.emplace(due, std::move(d));
    return;
  }
  auto prio = std::min<size_t>(d.record.priority, ready_.size() - 1);
  ready_[prio].push_back(std::move(d));
}

bool delivery_queue::offer(delivery&& d, int64_t now_ms) {
  // Once one delivery stayed on disk, every later one must too: pages read
  // in seq order above the watermark and would skip nothing, but memory
  // would hold deliveries out of order with the disk.
  if (on_disk_)
    return false;
  if (in_memory() >= memory_limit_) {
    on_disk_ = true;
    return false;
  }
  watermark_ = std::max(watermark_, d.record.key.event_seq);
  enqueue(std::move(d), now_ms);
  return true;
}

void delivery_queue::put(delivery&& d, int64_t now_ms) { enqueue(std::move(d), now_ms); }

void delivery_queue::retry_at(delivery&& d, int64_t due_ms) {
  d.record.next_attempt_ms = due_ms;
  waiting_.emplace(due_ms, std::move(d));
}

std::optional<page_request> delivery_queue::want_page(int64_t now_ms) {
  auto limit = std::max<uint32_t>(memory_limit_, 2);
  if (!on_disk_ || page_requested_ || now_ms < page_retry_at_ms_ || in_memory() >= limit / 2)
    return std::nullopt;
  page_requested_ = true;
  page_retry_at_ms_ = 0;
  return page_request{watermark_, static_cast<uint32_t>(limit - in_memory())};
}

void delivery_queue::take_page(std::vector<delivery>&& page, bool complete, int64_t now_ms) {
  page_requested_ = false;
  for (auto& d : page) {
    // Taken in memory meanwhile (a commit that arrived before the read).
    if (d.record.key.event_seq <= watermark_)
      continue;
    watermark_ = d.record.key.event_seq;
    enqueue(std::move(d), now_ms);
  }
  if (complete)
    on_disk_ = false;
}

void delivery_queue::page_failed(int64_t now_ms) {
  page_requested_ = false;
  page_retry_at_ms_ = now_ms + page_retry_ms;
}

void delivery_queue::promote_due(int64_t now_ms) {
  while (!waiting_.empty() && waiting_.begin()->first <= now_ms) {
    auto node = waiting_.extract(waiting_.begin());
    enqueue(std::move(node.mapped()), now_ms);
  }
}

std::optional<int64_t> delivery_queue::next_due() const {
  if (waiting_.empty())
    return std::nullopt;
  return waiting_.begin()->first;
}

bool delivery_queue::has_ready() const {
  return std::any_of(ready_.begin(), ready_.end(), [](const auto& q) { return !q.empty(); });
}

delivery delivery_queue::start_next() {
  auto q = std::find_if(ready_.rbegin(), ready_.rend(), [](const auto& x) { return !x.empty(); });
  auto d = std::move(q->front());
  q->pop_front();
  ++in_flight_;
  return d;
}

std::array<size_t, 4> delivery_queue::ready_by_priority() const {
  std::array<size_t, 4> out{};
  for (size_t i = 0; i < ready_.size(); ++i)
    out[i] = ready_[i].size();
  return out;
}

} // namespace volley
