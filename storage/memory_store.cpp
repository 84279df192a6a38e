#include "storage/memory_store.hpp"

#include "storage/record_codec.hpp"

#include <algorithm>

namespace volley {

// The order of the steps below is the contract lmdb_store follows too: new
// events, updates, finished, dead-lettered, DLQ deletes, DLQ requeues,
// subscriber status changes, subscriber definitions, remembered ids, pruning.
write_result memory_store::commit(const write_batch& batch) {
  std::lock_guard<std::mutex> guard{mutex_};
  write_result result;
  if (failure_) {
    result.status = *failure_;
    result.error = "memory_store: commit failure injected by the test";
    return result;
  }
  if (batch.empty())
    return result; // pruning rides along with a write, as on disk
  // Every check happens before the first change: nothing partial, as on disk.
  if (auto error = check_batch(batch); !error.empty()) {
    result.status = write_status::failed;
    result.error = "refused a malformed write batch: " + error;
    return result;
  }
  for (const auto& ev : batch.events)
    if (ev.event.seq <= last_event_seq_) {
      result.status = write_status::failed;
      result.error = "refused a write batch: new event seq " + std::to_string(ev.event.seq) +
                     " is not above last_event_seq " + std::to_string(last_event_seq_);
      return result;
    }

  for (const auto& ev : batch.events) {
    if (ev.event.seq > last_event_seq_)
      last_event_seq_ = ev.event.seq;
    if (ev.deliveries.empty())
      continue; // nobody to deliver to: only the seq advances
    events_[ev.event.seq] = {ev.event, static_cast<uint32_t>(ev.deliveries.size())};
    for (const auto& d : ev.deliveries)
      deliveries_[key_of(d.key)] = d;
  }

  for (const auto& d : batch.updates)
    if (auto it = deliveries_.find(key_of(d.key)); it != deliveries_.end())
      it->second = d;

  for (const auto& key : batch.finished)
    if (deliveries_.erase(key_of(key)) > 0)
      release_event(key.event_seq);

  for (const auto& r : batch.dead_lettered) {
    auto it = deliveries_.find(key_of(r.key));
    if (it == deliveries_.end())
      continue; // finished or dead-lettered already
    deliveries_.erase(it);
    dlq_record record = r;
    // The DLQ copy must be able to re-create the event on requeue.
    if (auto ev = events_.find(r.key.event_seq); ev != events_.end()) {
      if (record.event_id.empty())
        record.event_id = ev->second.event.id;
      if (record.type.empty())
        record.type = ev->second.event.type;
      if (record.body.empty())
        record.body = ev->second.event.body;
    }
    release_event(r.key.event_seq);
    dlq_[key_of(r.key)] = std::move(record);
  }

  for (const auto& key : batch.dlq_deleted)
    result.dlq_removed += dlq_.erase(key_of(key));

  for (const auto& key : batch.dlq_requeued) {
    auto it = dlq_.find(key_of(key));
    if (it == dlq_.end())
      continue;
    const dlq_record& r = it->second;
    if (deliveries_.count(key_of(key)) > 0) {
      dlq_.erase(it); // already pending again: the DLQ entry is stale
      continue;
    }
    delivery_record d;
    d.key = key;
    d.priority = r.priority;
    d.created_ms = r.created_ms;
    auto ev = events_.find(key.event_seq);
    if (ev != events_.end()) {
      ++ev->second.refcount;
    } else {
      event_record e;
      e.seq = key.event_seq;
      e.id = r.event_id;
      e.type = r.type;
      e.created_ms = r.created_ms;
      e.body = r.body;
      ev = events_.emplace(key.event_seq, stored_event{std::move(e), 1}).first;
    }
    deliveries_[key_of(key)] = d;
    result.requeued.push_back({d, ev->second.event});
    dlq_.erase(it);
  }

  for (const auto& c : batch.status_changes) {
    if (c.disabled)
      disabled_[c.subscriber] = c;
    else
      disabled_.erase(c.subscriber);
  }

  for (const auto& d : batch.definitions) {
    if (d.deleted)
      definitions_.erase(d.name);
    else
      definitions_[d.name] = d;
  }

  for (const auto& r : batch.remembered)
    remember_id(r);
  prune_ids(batch.pruning);

  for (const auto& e : batch.logged_events) {
    if (auto it = log_events_.find(e.id); it != log_events_.end()) {
      log_by_time_.erase({it->second.created_ms, e.id});
      log_bytes_ -= std::min(log_bytes_, logged_size(it->second));
    }
    log_events_[e.id] = e;
    log_by_time_.insert({e.created_ms, e.id});
    log_bytes_ += logged_size(e);
  }
  for (const auto& a : batch.logged_attempts) {
    log_attempts_[a.event_id].push_back(a);
    log_bytes_ += logged_size(a);
  }
  prune_log(batch.log_prune);
  if (batch.monitor_snapshot)
    monitor_snapshot_ = batch.monitor_snapshot;
  return result;
}

read_result<std::optional<std::string>> memory_store::monitor_snapshot() {
  std::lock_guard<std::mutex> guard{mutex_};
  return monitor_snapshot_;
}

// Roughly what lmdb_store counts for an entry: its bytes and some framing.
uint64_t memory_store::logged_size(const logged_event& e) {
  return e.id.size() * 2 + e.type.size() + e.body.size() + 40;
}

uint64_t memory_store::logged_size(const logged_attempt& a) {
  return (a.event_id.size() + a.subscriber.size()) * 2 + a.error.size() + 60;
}

void memory_store::prune_log(const log_pruning& p) {
  for (size_t deleted = 0; deleted < p.max_deletions && !log_by_time_.empty(); ++deleted) {
    auto oldest = log_by_time_.begin();
    if (oldest->first >= p.before_ms && log_bytes_ <= p.max_bytes)
      return;
    auto id = oldest->second;
    log_by_time_.erase(oldest);
    if (auto it = log_events_.find(id); it != log_events_.end()) {
      log_bytes_ -= std::min(log_bytes_, logged_size(it->second));
      log_events_.erase(it);
    }
    if (auto it = log_attempts_.find(id); it != log_attempts_.end()) {
      for (const auto& a : it->second)
        log_bytes_ -= std::min(log_bytes_, logged_size(a));
      log_attempts_.erase(it);
    }
  }
}

read_result<std::optional<event_log>> memory_store::read_event_log(const std::string& event_id) {
  std::lock_guard<std::mutex> guard{mutex_};
  if (read_failure_)
    return read_result<std::optional<event_log>>::failure(*read_failure_);
  auto e = log_events_.find(event_id);
  auto a = log_attempts_.find(event_id);
  if (e == log_events_.end() && a == log_attempts_.end())
    return std::optional<event_log>{};
  event_log out;
  out.event.id = event_id;
  if (e != log_events_.end())
    out.event = e->second;
  if (a != log_attempts_.end())
    out.attempts = a->second;
  std::stable_sort(out.attempts.begin(), out.attempts.end(),
                   [](const logged_attempt& x, const logged_attempt& y) { return x.at_ms < y.at_ms; });
  return std::optional<event_log>{std::move(out)};
}

read_result<std::vector<logged_attempt>> memory_store::list_attempts(const attempt_query& query) {
  std::lock_guard<std::mutex> guard{mutex_};
  if (read_failure_)
    return read_result<std::vector<logged_attempt>>::failure(*read_failure_);
  std::vector<logged_attempt> all;
  for (const auto& [id, attempts] : log_attempts_)
    for (const auto& a : attempts) {
      if (a.at_ms < query.since_ms || (!query.subscriber.empty() && a.subscriber != query.subscriber))
        continue;
      if (query.failed_only &&
          (a.outcome == attempt_outcome::delivered || a.outcome == attempt_outcome::replay))
        continue;
      all.push_back(a);
    }
  std::stable_sort(all.begin(), all.end(),
                   [](const logged_attempt& x, const logged_attempt& y) { return x.at_ms > y.at_ms; });
  if (all.size() > query.limit)
    all.resize(query.limit);
  return all;
}

void memory_store::remember_id(const remembered_id& r) {
  auto [it, inserted] = remembered_.emplace(r.id, r.accepted_ms);
  if (!inserted) {
    remembered_by_time_.erase({it->second, r.id});
    it->second = r.accepted_ms;
  }
  remembered_by_time_.emplace(r.accepted_ms, r.id);
}

void memory_store::prune_ids(const id_pruning& p) {
  for (size_t deleted = 0; deleted < p.max_deletions && !remembered_by_time_.empty(); ++deleted) {
    auto oldest = remembered_by_time_.begin();
    if (oldest->first >= p.before_ms && remembered_by_time_.size() <= p.keep_at_most)
      return;
    remembered_.erase(oldest->second);
    remembered_by_time_.erase(oldest);
  }
}

void memory_store::release_event(uint64_t seq) {
  auto it = events_.find(seq);
  if (it == events_.end())
    return;
  if (it->second.refcount <= 1)
    events_.erase(it);
  else
    --it->second.refcount;
}

uint64_t memory_store::last_event_seq() {
  std::lock_guard<std::mutex> guard{mutex_};
  return last_event_seq_;
}

read_result<std::vector<std::string>> memory_store::pending_subscribers() {
  std::lock_guard<std::mutex> guard{mutex_};
  if (read_failure_)
    return read_result<std::vector<std::string>>::failure(*read_failure_);
  std::vector<std::string> names;
  for (const auto& entry : deliveries_)
    if (names.empty() || names.back() != entry.first.first)
      names.push_back(entry.first.first);
  return names;
}

read_result<std::vector<pending_delivery>>
memory_store::read_pending(const std::string& subscriber, uint64_t after_seq, page_bounds bounds) {
  std::lock_guard<std::mutex> guard{mutex_};
  if (read_failure_)
    return read_result<std::vector<pending_delivery>>::failure(*read_failure_);
  std::vector<pending_delivery> out;
  uint64_t bytes = 0;
  for (auto it = deliveries_.upper_bound({subscriber, after_seq});
       it != deliveries_.end() && it->first.first == subscriber && bounds.room(out.size(), bytes); ++it) {
    auto ev = events_.find(it->first.second);
    if (ev == events_.end())
      continue; // cannot happen here; lmdb_store skips such entries too
    out.push_back({it->second, ev->second.event});
    bytes += event_bytes(ev->second.event);
  }
  return out;
}

read_result<size_t> memory_store::count_pending(const std::string& subscriber) {
  std::lock_guard<std::mutex> guard{mutex_};
  size_t n = 0;
  for (auto it = deliveries_.lower_bound({subscriber, 0});
       it != deliveries_.end() && it->first.first == subscriber; ++it)
    ++n;
  return n;
}

read_result<std::array<size_t, 4>> memory_store::count_pending_by_priority(const std::string& subscriber) {
  std::lock_guard<std::mutex> guard{mutex_};
  std::array<size_t, 4> counts{};
  for (auto it = deliveries_.lower_bound({subscriber, 0});
       it != deliveries_.end() && it->first.first == subscriber; ++it)
    counts[std::min<size_t>(it->second.priority, 3)] += 1;
  return counts;
}

read_result<size_t> memory_store::count_pending_total() {
  std::lock_guard<std::mutex> guard{mutex_};
  return deliveries_.size();
}

read_result<std::vector<dlq_record>> memory_store::list_dlq(const std::optional<std::string>& subscriber,
                                                            const std::optional<delivery_key>& after,
                                                            size_t limit) {
  std::lock_guard<std::mutex> guard{mutex_};
  if (read_failure_)
    return read_result<std::vector<dlq_record>>::failure(*read_failure_);
  std::vector<dlq_record> out;
  // Start after `after`, or at the subscriber's first entry if that is later.
  auto it = after ? dlq_.upper_bound(key_of(*after)) : dlq_.begin();
  if (subscriber) {
    const key_type first{*subscriber, 0};
    if (!after || key_of(*after) < first)
      it = dlq_.lower_bound(first);
  }
  for (; it != dlq_.end() && out.size() < limit; ++it) {
    if (subscriber && it->first.first != *subscriber)
      break;
    out.push_back(it->second);
  }
  return out;
}

read_result<size_t> memory_store::count_dlq() {
  std::lock_guard<std::mutex> guard{mutex_};
  return dlq_.size();
}

read_result<std::vector<remembered_id>> memory_store::recent_ids(int64_t since_ms, size_t limit) {
  std::lock_guard<std::mutex> guard{mutex_};
  std::vector<remembered_id> out;
  for (auto it = remembered_by_time_.rbegin();
       it != remembered_by_time_.rend() && out.size() < limit && it->first >= since_ms; ++it)
    out.push_back({it->second, it->first});
  std::reverse(out.begin(), out.end());
  return out;
}

read_result<std::vector<subscriber_status>> memory_store::disabled_subscribers() {
  std::lock_guard<std::mutex> guard{mutex_};
  std::vector<subscriber_status> out;
  for (const auto& entry : disabled_)
    out.push_back(entry.second);
  return out;
}

void memory_store::set_commit_failure(std::optional<write_status> status) {
  std::lock_guard<std::mutex> guard{mutex_};
  failure_ = status;
}

void memory_store::set_read_failure(std::optional<std::string> error) {
  std::lock_guard<std::mutex> guard{mutex_};
  read_failure_ = std::move(error);
}

read_result<std::vector<subscriber_definition>> memory_store::subscriber_definitions() {
  std::lock_guard<std::mutex> guard{mutex_};
  if (read_failure_)
    return read_result<std::vector<subscriber_definition>>::failure(*read_failure_);
  std::vector<subscriber_definition> out;
  for (const auto& [name, d] : definitions_)
    out.push_back(d);
  return out;
}

} // namespace volley
