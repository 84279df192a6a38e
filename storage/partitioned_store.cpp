#include "storage/partitioned_store.hpp"

#include <algorithm>
#include <filesystem>
#include <set>
#include <unordered_map>

namespace volley {

namespace {

namespace fs = std::filesystem;

constexpr const char* partition_dir_prefix = "p";

// Sums one count over every partition, or the first failure.
template <class F>
read_result<size_t> sum_over(const std::map<uint16_t, std::shared_ptr<lmdb_store>>& stores, F&& f) {
  size_t total = 0;
  for (const auto& [p, s] : stores) {
    auto n = f(*s);
    if (!n)
      return read_result<size_t>::failure(n.error());
    total += *n;
  }
  return total;
}

bool key_less(const delivery_key& a, const delivery_key& b) {
  return a.subscriber != b.subscriber ? a.subscriber < b.subscriber : a.event_seq < b.event_seq;
}

} // namespace

partitioned_store::partitioned_store(std::string root, uint64_t map_size_mb,
                                     std::shared_ptr<store> node_store)
  : root_(std::move(root)), map_size_mb_(map_size_mb), node_store_(std::move(node_store)) {}

std::string partitioned_store::directory_of(uint16_t partition) const {
  return (fs::path(root_) / (partition_dir_prefix + std::to_string(partition))).string();
}

std::map<uint16_t, std::shared_ptr<lmdb_store>> partitioned_store::snapshot() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return stores_;
}

std::string partitioned_store::remove_leftovers() {
  std::error_code ec;
  fs::remove_all(root_, ec);
  if (ec)
    return "cannot remove the partition stores left in '" + root_ + "': " + ec.message();
  return "";
}

std::string partitioned_store::adopt(uint16_t partition) {
  release(partition);
  std::string error;
  auto s = lmdb_store::open(directory_of(partition), map_size_mb_, error);
  if (!s)
    return error;
  s->set_mirroring(true);
  std::lock_guard<std::mutex> guard{mutex_};
  stores_[partition] = std::shared_ptr<lmdb_store>{std::move(s)};
  return "";
}

void partitioned_store::release(uint16_t partition) {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    stores_.erase(partition); // a reader still holding it keeps it open until done
  }
  std::error_code ec;
  fs::remove_all(directory_of(partition), ec);
}

std::shared_ptr<lmdb_store> partitioned_store::partition(uint16_t partition) const {
  std::lock_guard<std::mutex> guard{mutex_};
  auto it = stores_.find(partition);
  return it == stores_.end() ? nullptr : it->second;
}

std::vector<uint16_t> partitioned_store::partitions() const {
  std::vector<uint16_t> out;
  for (const auto& [p, s] : snapshot())
    out.push_back(p);
  return out;
}

write_result partitioned_store::commit(const write_batch& batch) {
  auto stores = snapshot();
  if (!batch.definitions.empty()) {
    // A cluster's subscribers come from the config file (daemon/node_subscribers.cpp).
    write_result refused;
    refused.status = write_status::failed;
    refused.error = "subscriber definitions are not partition state; in cluster mode they come "
                    "from the config file";
    return refused;
  }
  std::map<uint16_t, write_batch> parts;
  auto part = [&](uint64_t seq) -> write_batch* {
    auto p = partition_of(seq);
    if (stores.count(p) == 0)
      return nullptr; // not ours (any more)
    return &parts[p];
  };
  for (const auto& e : batch.events)
    if (auto* b = part(e.event.seq))
      b->events.push_back(e);
  for (const auto& d : batch.updates)
    if (auto* b = part(d.key.event_seq))
      b->updates.push_back(d);
  for (const auto& k : batch.finished)
    if (auto* b = part(k.event_seq))
      b->finished.push_back(k);
  for (const auto& r : batch.dead_lettered)
    if (auto* b = part(r.key.event_seq))
      b->dead_lettered.push_back(r);
  for (const auto& k : batch.dlq_deleted)
    if (auto* b = part(k.event_seq))
      b->dlq_deleted.push_back(k);
  for (const auto& k : batch.dlq_requeued)
    if (auto* b = part(k.event_seq))
      b->dlq_requeued.push_back(k);
  for (const auto& r : batch.remembered)
    if (stores.count(r.source) > 0)
      parts[r.source].remembered.push_back(r);
  // A subscriber's state is every partition's: each changelog must say it.
  if (!batch.status_changes.empty())
    for (const auto& [p, s] : stores)
      parts[p].status_changes = batch.status_changes;
  write_result out;
  for (auto& [p, b] : parts) {
    if (b.empty())
      continue;
    b.pruning = batch.pruning;
    auto r = stores[p]->commit(b);
    if (r.status != write_status::ok) {
      if (out.status == write_status::ok) {
        out.status = r.status;
        out.error = r.error;
      }
      continue;
    }
    for (auto& c : r.changes) {
      c.source = p;
      out.changes.push_back(std::move(c));
    }
    for (auto& q : r.requeued)
      out.requeued.push_back(std::move(q));
    out.dlq_removed += r.dlq_removed;
  }
  if (node_store_ &&
      (!batch.logged_events.empty() || !batch.logged_attempts.empty() || batch.monitor_snapshot)) {
    write_batch log;
    log.logged_events = batch.logged_events;
    log.logged_attempts = batch.logged_attempts;
    log.log_prune = batch.log_prune;
    log.monitor_snapshot = batch.monitor_snapshot;
    auto r = node_store_->commit(log);
    if (r.status != write_status::ok && out.status == write_status::ok) {
      out.status = r.status;
      out.error = r.error;
    }
  }
  return out;
}

read_result<std::optional<event_log>> partitioned_store::read_event_log(const std::string& event_id) {
  if (!node_store_)
    return std::optional<event_log>{};
  return node_store_->read_event_log(event_id);
}

read_result<std::optional<std::string>> partitioned_store::monitor_snapshot() {
  if (!node_store_)
    return std::optional<std::string>{};
  return node_store_->monitor_snapshot();
}

read_result<std::vector<logged_attempt>> partitioned_store::list_attempts(const attempt_query& query) {
  if (!node_store_)
    return std::vector<logged_attempt>{};
  return node_store_->list_attempts(query);
}

read_result<std::vector<std::string>> partitioned_store::pending_subscribers() {
  std::set<std::string> names;
  for (const auto& [p, s] : snapshot()) {
    auto some = s->pending_subscribers();
    if (!some)
      return read_result<std::vector<std::string>>::failure(some.error());
    names.insert(some->begin(), some->end());
  }
  return std::vector<std::string>{names.begin(), names.end()};
}

read_result<std::vector<pending_delivery>>
partitioned_store::read_pending(const std::string& subscriber, uint64_t after_seq, page_bounds bounds) {
  auto s = partition(partition_of(after_seq));
  if (!s)
    return std::vector<pending_delivery>{}; // not ours (any more): nothing to page in
  auto out = s->read_pending(subscriber, after_seq, bounds);
  if (!out)
    return out;
  // A partition's seqs stop at the next partition's start.
  auto next = partition_start(static_cast<uint16_t>(partition_of(after_seq) + 1));
  out->erase(std::remove_if(out->begin(), out->end(),
                            [&](const pending_delivery& d) { return d.delivery.key.event_seq >= next; }),
             out->end());
  return out;
}

read_result<size_t> partitioned_store::count_pending(const std::string& subscriber) {
  return sum_over(snapshot(), [&](lmdb_store& s) { return s.count_pending(subscriber); });
}

read_result<std::array<size_t, 4>>
partitioned_store::count_pending_by_priority(const std::string& subscriber) {
  std::array<size_t, 4> total{};
  for (const auto& [p, s] : snapshot()) {
    auto some = s->count_pending_by_priority(subscriber);
    if (!some)
      return read_result<std::array<size_t, 4>>::failure(some.error());
    for (size_t i = 0; i < total.size(); ++i)
      total[i] += (*some)[i];
  }
  return total;
}

read_result<size_t> partitioned_store::count_pending_total() {
  return sum_over(snapshot(), [](lmdb_store& s) { return s.count_pending_total(); });
}

read_result<size_t> partitioned_store::count_dlq() {
  return sum_over(snapshot(), [](lmdb_store& s) { return s.count_dlq(); });
}

read_result<std::vector<dlq_record>> partitioned_store::list_dlq(const std::optional<std::string>& subscriber,
                                                                 const std::optional<delivery_key>& after,
                                                                 size_t limit) {
  // Each partition's first `limit` after `after`, merged in key order.
  std::vector<dlq_record> all;
  for (const auto& [p, s] : snapshot()) {
    auto some = s->list_dlq(subscriber, after, limit);
    if (!some)
      return some;
    for (auto& r : *some)
      all.push_back(std::move(r));
  }
  std::sort(all.begin(), all.end(),
            [](const dlq_record& a, const dlq_record& b) { return key_less(a.key, b.key); });
  if (all.size() > limit)
    all.resize(limit);
  return all;
}

void partitioned_store::release_cached_pages() {
  for (const auto& [p, s] : snapshot())
    s->release_cached_pages();
}

read_result<std::vector<remembered_id>> partitioned_store::recent_ids(int64_t since_ms, size_t limit) {
  std::vector<remembered_id> all;
  for (const auto& [p, s] : snapshot()) {
    auto some = s->recent_ids(since_ms, limit);
    if (!some)
      return some;
    for (auto& r : *some) {
      r.source = p;
      all.push_back(std::move(r));
    }
  }
  // Oldest first; when over the limit, the most recent stay.
  std::stable_sort(all.begin(), all.end(), [](const remembered_id& a, const remembered_id& b) {
    return a.accepted_ms < b.accepted_ms;
  });
  if (all.size() > limit)
    all.erase(all.begin(), all.end() - static_cast<std::ptrdiff_t>(limit));
  return all;
}

read_result<std::vector<subscriber_status>> partitioned_store::disabled_subscribers() {
  std::map<std::string, subscriber_status> latest;
  for (const auto& [p, s] : snapshot()) {
    auto some = s->disabled_subscribers();
    if (!some)
      return some;
    for (auto& d : *some) {
      auto it = latest.find(d.subscriber);
      if (it == latest.end() || it->second.since_ms < d.since_ms)
        latest[d.subscriber] = d;
    }
  }
  std::vector<subscriber_status> out;
  for (auto& [name, d] : latest)
    out.push_back(std::move(d));
  return out;
}

read_result<std::vector<subscriber_definition>> partitioned_store::subscriber_definitions() {
  return std::vector<subscriber_definition>{}; // none: see commit()
}

} // namespace volley
