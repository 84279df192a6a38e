#include "subscriber/delivery_queue.hpp"

#include <algorithm>

namespace volley {

delivery_queue::delivery_queue(uint32_t memory_limit, bool single_source,
                               std::shared_ptr<memory_budget> budget)
  : memory_limit_(memory_limit), budget_(std::move(budget)) {
  if (single_source)
    sources_[0] = source_state{source_start(0), true, 0};
  if (budget_)
    budget_->join();
}

delivery_queue::~delivery_queue() {
  if (!budget_)
    return;
  // Payloads give their bytes back as they go; the records' share is ours.
  budget_->release(in_memory() * delivery_overhead);
  budget_->leave();
}

void delivery_queue::hold(const delivery& d) {
  auto bytes = payload_bytes(*d.payload);
  own_bytes_ += bytes + delivery_overhead;
  if (budget_) {
    budget_->charge(delivery_overhead);
    d.payload->charge.charge_once(budget_, bytes);
  }
}

void delivery_queue::let_go(const delivery& d) {
  own_bytes_ -= payload_bytes(*d.payload) + delivery_overhead;
  if (budget_)
    budget_->release(delivery_overhead);
}

bool delivery_queue::has_room() const {
  if (in_memory() >= memory_limit_)
    return false;
  // An empty queue always takes one, however large, so every subscriber moves.
  return !budget_ || in_memory() == 0 || budget_->room_for(own_bytes_) > 0;
}

std::optional<uint64_t> delivery_queue::page_bytes() const {
  if (!budget_)
    return 0;
  auto room = budget_->room_for(own_bytes_);
  if (room == memory_budget::unlimited)
    return 0;
  if (in_memory() == 0)
    return std::max<uint64_t>(room, 1); // at least one delivery
  if (room == 0 || room < budget_->page_min())
    return std::nullopt; // wait for room worth a read
  return room;
}

void delivery_queue::attempt_ended(const delivery& d) {
  --in_flight_;
  let_go(d);
}

void delivery_queue::adopt_source(uint16_t source) {
  sources_[source] = source_state{source_start(source), true, 0};
}

void delivery_queue::drop_source(uint16_t source) {
  sources_.erase(source);
  if (requested_ == source)
    requested_.reset(); // its answer, if it comes, finds no source
  auto gone = [&](const delivery& d) {
    if (source_of(d.record.key.event_seq) != source)
      return false;
    let_go(d);
    return true;
  };
  for (auto& q : ready_)
    q.remove_if(gone);
  for (auto it = waiting_.begin(); it != waiting_.end();)
    it = gone(it->second) ? waiting_.erase(it) : std::next(it);
}

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
  auto it = sources_.find(source_of(d.record.key.event_seq));
  if (it == sources_.end())
    return false; // not ours (any more)
  auto& src = it->second;
  // Once one delivery of a source stayed on disk, every later one must
  // too: memory must never hold a source's deliveries out of order with
  // its disk, or a page would skip some.
  if (src.on_disk)
    return false;
  if (!has_room()) {
    src.on_disk = true;
    return false;
  }
  src.watermark = std::max(src.watermark, d.record.key.event_seq);
  hold(d);
  enqueue(std::move(d), now_ms);
  return true;
}

void delivery_queue::put(delivery&& d, int64_t now_ms) {
  if (!owns(d.record.key.event_seq))
    return;
  hold(d);
  enqueue(std::move(d), now_ms);
}

void delivery_queue::retry_at(delivery&& d, int64_t due_ms) {
  d.record.next_attempt_ms = due_ms;
  hold(d);
  waiting_.emplace(due_ms, std::move(d));
}

std::optional<page_request> delivery_queue::want_page(int64_t now_ms) {
  auto limit = std::max<uint32_t>(memory_limit_, 2);
  if (requested_ || in_memory() >= limit / 2)
    return std::nullopt;
  auto bytes = page_bytes();
  if (!bytes)
    return std::nullopt;
  for (auto& [source, src] : sources_) {
    if (!src.on_disk || now_ms < src.retry_at_ms)
      continue;
    requested_ = source;
    src.retry_at_ms = 0;
    return page_request{source, src.watermark, static_cast<uint32_t>(limit - in_memory()), *bytes};
  }
  return std::nullopt;
}

void delivery_queue::take_page(std::vector<delivery>&& page, bool complete, int64_t now_ms) {
  auto requested = requested_;
  requested_.reset();
  auto it = requested ? sources_.find(*requested) : sources_.end();
  if (it == sources_.end())
    return; // dropped while the page was read
  auto& src = it->second;
  for (auto& d : page) {
    // Taken in memory meanwhile (a commit that arrived before the read).
    if (d.record.key.event_seq <= src.watermark || source_of(d.record.key.event_seq) != it->first)
      continue;
    src.watermark = d.record.key.event_seq;
    hold(d);
    enqueue(std::move(d), now_ms);
  }
  if (complete)
    src.on_disk = false;
}

void delivery_queue::page_failed(int64_t now_ms) {
  if (requested_)
    if (auto it = sources_.find(*requested_); it != sources_.end())
      it->second.retry_at_ms = now_ms + page_retry_ms;
  requested_.reset();
}

int64_t delivery_queue::page_retry_at_ms() const {
  int64_t at = 0;
  for (const auto& [source, src] : sources_)
    if (src.retry_at_ms > 0 && (at == 0 || src.retry_at_ms < at))
      at = src.retry_at_ms;
  return at;
}

bool delivery_queue::backlog_on_disk() const {
  return std::any_of(sources_.begin(), sources_.end(), [](const auto& s) { return s.second.on_disk; });
}

uint64_t delivery_queue::watermark() const {
  auto it = sources_.find(0);
  return it == sources_.end() ? 0 : it->second.watermark;
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
  auto d = q->take_front();
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
