#include "storage/write_coalescer.hpp"

#include "protocol/ingress_line.hpp"
#include "storage/partitioned_store.hpp"

#include <limits>

namespace volley {

namespace {

template <class T>
void append_moved(std::vector<T>& to, std::vector<T>& from) {
  to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
}

} // namespace

// Logged events pruned per commit beyond the commit's own new ones.
constexpr size_t log_prune_budget_per_commit = 256;

write_coalescer::write_coalescer(uint64_t last_seq, dedup_window dedup, delivery_log_policy log)
  : last_seq_(last_seq), dedup_(std::move(dedup)), log_(log) {}

size_t write_coalescer::pending_records() const {
  return pending_.events.size() + pending_.updates.size() + pending_.finished.size() +
         pending_.dead_lettered.size() + pending_.remembered.size() + pending_.status_changes.size() +
         pending_.definitions.size() + pending_.logged_attempts.size();
}

void write_coalescer::seed_dedup(const std::vector<remembered_id>& ids) {
  for (const auto& r : ids)
    dedup_.remember(r.id, r.accepted_ms);
}

void write_coalescer::reset_dedup(const std::vector<remembered_id>& ids) {
  dedup_ = dedup_window{dedup_.window_ms(), dedup_.max_ids()};
  seed_dedup(ids);
}

void write_coalescer::seed_disabled(std::vector<subscriber_status> disabled) {
  for (auto& s : disabled) {
    auto name = s.subscriber;
    disabled_[name] = std::move(s);
  }
}

std::vector<subscriber_status> write_coalescer::disabled() const {
  std::vector<subscriber_status> out;
  for (const auto& [name, status] : disabled_)
    out.push_back(status);
  return out;
}

void write_coalescer::add_events(std::vector<routed_event>&& events, size_t reply) {
  for (auto& ev : events) {
    pending_ack a;
    a.reply = reply;
    a.slot = ev.slot;
    a.id = ev.payload->id;
    const int64_t accepted_ms = ev.payload->created_ms;
    // Generated ids are unique: only a client's own id can repeat.
    const bool deduplicated = ev.client_id && dedup_.enabled();
    if (deduplicated && dedup_.contains(a.id, accepted_ms)) {
      a.rule = batch_ids_.count(a.id) > 0 ? ack_rule::repeat_in_batch : ack_rule::repeat;
      acks_.push_back(std::move(a));
      continue;
    }
    const uint16_t source = ev.origin ? ev.origin->partition : 0;
    if (deduplicated) {
      // Remembered in the event's own transaction, even when nobody wants
      // the event: a repeat must be recognised after a restart as well.
      dedup_.remember(a.id, accepted_ms);
      batch_ids_.insert(a.id);
      pending_.remembered.push_back({a.id, accepted_ms, source});
    }
    acks_.push_back(std::move(a));
    if (ev.origin) {
      // A consumed event's seq is its record's: the same on every node and
      // every time it is consumed again. Even when nobody wants it, it is
      // written (as the partition's applied offset).
      ev.payload->seq = partitioned_store::seq_of(ev.origin->partition, ev.origin->offset);
    } else if (ev.targets.empty()) {
      continue; // nothing to deliver, nothing to keep: acknowledged with the batch
    } else {
      ev.payload->seq = ++last_seq_;
    }
    new_event ne;
    ne.event.seq = ev.payload->seq;
    ne.event.id = ev.payload->id;
    ne.event.type = ev.payload->type;
    ne.event.created_ms = ev.payload->created_ms;
    // The store copies the body; the shared copy stays in memory.
    if (ev.payload->body)
      ne.event.body = *ev.payload->body;
    for (auto& t : ev.targets) {
      delivery_record d;
      d.key.subscriber = std::move(t.subscriber);
      d.key.event_seq = ne.event.seq;
      d.priority = t.priority;
      d.created_ms = ne.event.created_ms;
      ne.deliveries.push_back(std::move(d));
    }
    if (log_.retention_ms > 0 && !ne.deliveries.empty())
      pending_.logged_events.push_back({ne.event.id, ne.event.type, ne.event.created_ms, ne.event.body});
    pending_.events.push_back(std::move(ne));
    payloads_.push_back(std::move(ev.payload));
  }
}

void write_coalescer::add_replay(const logged_event& event, const std::vector<std::string>& subscribers,
                                 int64_t now_ms) {
  auto payload = std::make_shared<event_payload>();
  payload->seq = ++last_seq_;
  payload->id = event.id;
  payload->type = event.type;
  payload->created_ms = event.created_ms;
  payload->body = std::make_shared<const std::string>(event.body);
  new_event ne;
  ne.event = {payload->seq, event.id, event.type, event.created_ms, event.body};
  for (const auto& name : subscribers) {
    delivery_record d;
    d.key = {name, payload->seq};
    d.created_ms = now_ms;
    ne.deliveries.push_back(std::move(d));
    logged_attempt marker;
    marker.event_id = event.id;
    marker.subscriber = name;
    marker.at_ms = now_ms;
    marker.outcome = attempt_outcome::replay;
    pending_.logged_attempts.push_back(std::move(marker));
  }
  pending_.events.push_back(std::move(ne));
  payloads_.push_back(std::move(payload));
}

void write_coalescer::add_writes(write_batch&& batch) {
  append_moved(pending_.updates, batch.updates);
  append_moved(pending_.finished, batch.finished);
  append_moved(pending_.dead_lettered, batch.dead_lettered);
  for (const auto& c : batch.status_changes) {
    if (c.disabled)
      disabled_[c.subscriber] = c;
    else
      disabled_.erase(c.subscriber);
  }
  append_moved(pending_.status_changes, batch.status_changes);
  append_moved(pending_.definitions, batch.definitions);
  append_moved(pending_.logged_attempts, batch.logged_attempts);
  if (batch.monitor_snapshot)
    pending_.monitor_snapshot = std::move(batch.monitor_snapshot);
}

id_pruning write_coalescer::pruning(int64_t now_ms) const {
  id_pruning p;
  // With the window off, whatever an earlier run remembered is pruned away.
  p.before_ms = now_ms - dedup_.window_ms();
  p.keep_at_most = dedup_.enabled() ? dedup_.max_ids() : 0;
  p.max_deletions = pending_.remembered.size() + prune_budget_per_commit;
  return p;
}

write_coalescer::commit_outcome write_coalescer::commit(store& db, int64_t now_ms) {
  commit_outcome out;
  write_result result;
  if (!pending_.empty()) {
    pending_.pruning = pruning(now_ms);
    // With the log off, whatever an earlier run logged is pruned away.
    pending_.log_prune.before_ms =
      log_.retention_ms > 0 ? now_ms - log_.retention_ms : std::numeric_limits<int64_t>::max();
    pending_.log_prune.max_bytes = log_.retention_ms > 0 ? log_.max_bytes : 0;
    pending_.log_prune.max_deletions = pending_.logged_events.size() + log_prune_budget_per_commit;
    result = db.commit(pending_);
  }
  out.ok = result.status == write_status::ok;
  if (!out.ok) {
    out.error = result.error;
    // Not on disk, so not accepted: the client's retry must count as new.
    for (const auto& id : batch_ids_)
      dedup_.forget(id);
  }
  batch_ids_.clear();
  if (out.ok) {
    out.snapshot_saved = pending_.monitor_snapshot.has_value();
    out.changes = std::move(result.changes);
    for (size_t i = 0; i < pending_.events.size(); ++i) {
      payload_ptr payload = payloads_[i];
      for (auto& d : pending_.events[i].deliveries)
        out.deliveries[d.key.subscriber].push_back({std::move(d), payload});
    }
  }
  for (auto& a : acks_) {
    const bool accepted = out.ok || a.rule == ack_rule::repeat;
    (!accepted                    ? answered_.refused
     : a.rule == ack_rule::commit ? answered_.accepted
                                  : answered_.duplicates) += 1;
    std::string line =
      accepted ? ack_line(a.id, a.rule != ack_rule::commit) : error_line("not accepted: " + result.error);
    out.answers.push_back({a.reply, a.slot, std::move(line)});
  }
  acks_.clear();
  payloads_.clear();
  pending_.events.clear();
  pending_.remembered.clear();
  pending_.logged_events.clear(); // with their events: the clients send those again
  if (out.ok) {
    pending_ = write_batch{};
  } else {
    // Subscribers' writes (finished, retried, dead-lettered) must not be
    // lost: they stay for the next try.
    out.retry_soon = !pending_.empty();
  }
  return out;
}

} // namespace volley
