#include "actors/persistence.hpp"

#include "logging/logger.hpp"
#include "protocol/fields.hpp"
#include "protocol/ingress_line.hpp"
#include "protocol/json_text.hpp"
#include "storage/replay_plan.hpp"
#include "storage/store_queries.hpp"

#include <algorithm>

namespace volley {

namespace {

// Fills the dedup window with what the store remembers from the window.
void seed_dedup(write_coalescer& writes, store& db, int64_t now_ms) {
  const auto& dedup = writes.dedup();
  if (!dedup.enabled())
    return;
  auto ids = db.recent_ids(now_ms - dedup.window_ms(), dedup.max_ids());
  if (!ids) {
    log_error("storage: cannot read the remembered client event ids: " + ids.error() +
              "; repeats of events accepted before this start may be delivered again");
    return;
  }
  writes.seed_dedup(*ids);
  if (!ids->empty())
    log_info("storage: " + std::to_string(ids->size()) +
             " client event ids from the dedup window remembered from disk");
}

// Which subscribers the previous run left disabled.
void seed_disabled(write_coalescer& writes, store& db) {
  auto disabled = db.disabled_subscribers();
  if (!disabled) {
    log_error("storage: cannot read which subscribers are disabled: " + disabled.error() +
              "; subscribers disabled before this start (410 Gone or an operator) start "
              "enabled; disable them again with volley subscriber disable");
    return;
  }
  writes.seed_disabled(std::move(*disabled));
}

} // namespace

void persistence_state::dispatch(caf::event_based_actor* self,
                                 std::unordered_map<std::string, std::vector<delivery>>& by_subscriber,
                                 bool requeued) {
  for (auto& [name, list] : by_subscriber) {
    auto actor = deps.subscribers ? deps.subscribers->find(name) : caf::actor{};
    if (!actor)
      continue; // not configured (any more): it stays on disk
    if (requeued)
      self->send(actor, requeue_atom::value, delivery_batch{std::move(list)});
    else
      self->send(actor, deliver_atom::value, delivery_batch{std::move(list)});
  }
}

void persistence_state::schedule_flush(caf::event_based_actor* self, std::chrono::milliseconds delay) {
  flush_scheduled = true;
  flush_due = self->clock().now() + delay;
  if (delay.count() == 0)
    self->send(self, flush_atom::value, flush_generation);
  else
    self->delayed_send(self, delay, flush_atom::value, flush_generation);
}

void persistence_state::flush_soon(caf::event_based_actor* self) {
  if (writes->pending_records() >= options.batch_max) {
    flush(self);
    return;
  }
  // Subscribers' results wait for nobody: they go with the next commit
  // events bring, or on their own a little later. A synced commit for
  // every few results cost ~12 us per delivery with 4,096 requests in
  // flight (bench (g)); a kill -9 meanwhile only delivers those again.
  auto delay = writes->answers_waiting() ? options.batch_interval
                                         : std::max(options.batch_interval, options.outcome_interval);
  // A flush scheduled later than this one stays: it finds its batch
  // committed and is ignored.
  if (!flush_scheduled || self->clock().now() + delay < flush_due)
    schedule_flush(self, delay);
}

bool persistence_state::flush(caf::event_based_actor* self) {
  // Whatever flush is scheduled is for what this one commits now.
  ++flush_generation;
  flush_scheduled = false;
  if (writes->idle())
    return true;
  auto records = writes->pending_records();
  auto out = writes->commit(*deps.db, deps.now());
  if (out.snapshot_saved)
    snapshot_saved_ms = snapshot_asked_ms;
  if (out.ok)
    dispatch(self, out.deliveries, false);
  else
    log_error("storage: commit of " + std::to_string(records) + " records failed: " + out.error);
  // Acknowledge in arrival order, one message per run of the same connection.
  acks_by_reply acks;
  size_t current = 0;
  ack_batch run;
  auto end_run = [&] {
    if (!run.acks.empty() && reply_to[current])
      acks.emplace_back(reply_to[current], std::move(run));
    run = ack_batch{};
  };
  for (auto& a : out.answers) {
    if (a.reply != current) {
      end_run();
      current = a.reply;
    }
    run.acks.push_back({a.slot, std::move(a.line)});
  }
  end_run();
  reply_to.clear();
  if (out.ok && deps.changelog && !out.changes.empty()) {
    // Cluster mode: acknowledged (so its offsets committed) only once the
    // changelog holds what the commit changed.
    auto token = ++next_token;
    awaiting_changelog[token] = std::move(acks);
    auto me = caf::actor_cast<caf::actor>(self);
    deps.changelog->append(std::move(out.changes),
                           [me, token] { caf::anon_send(me, mirrored_atom::value, token); });
  } else {
    for (auto& [to, batch] : acks)
      self->send(to, ack_atom::value, std::move(batch));
  }
  if (!out.ok && deps.partitions) {
    // What of a partition was taken but not committed is not applied: its
    // later events wait until the consumer has read it again from there.
    for (auto& [p, seq] : applied) {
      auto s = deps.partitions->partition(p);
      auto on_disk = s ? s->last_event_seq() : 0;
      if (seq > on_disk) {
        seq = std::max(on_disk, partitioned_store::partition_start(p));
        blocked.insert(p);
      }
    }
  }
  // Subscribers' writes (finished, retried, dead-lettered) must not be
  // lost: they were kept; try again shortly.
  if (out.retry_soon) {
    schedule_flush(self, std::chrono::seconds(1));
    // New writes wait for that retry too rather than fail again at once.
    flush_due = std::chrono::steady_clock::time_point::min();
  }
  return out.ok;
}

void persistence_state::screen(caf::event_based_actor* self, persist_batch& batch) {
  ack_batch now;
  std::vector<routed_event> taken;
  taken.reserve(batch.events.size());
  for (auto& ev : batch.events) {
    if (!ev.origin) {
      taken.push_back(std::move(ev));
      continue;
    }
    auto p = ev.origin->partition;
    auto seq = partitioned_store::seq_of(p, ev.origin->offset);
    auto it = applied.find(p);
    if (it == applied.end()) {
      now.acks.push_back(
        {ev.slot, error_line("partition " + std::to_string(p) + " is not owned by this node")});
    } else if (blocked.count(p) > 0) {
      now.acks.push_back(
        {ev.slot, error_line("partition " + std::to_string(p) +
                             " is read again from an earlier offset after a failed commit")});
    } else if (seq <= it->second) {
      now.acks.push_back({ev.slot, ack_line(ev.payload->id, true)}); // applied before
    } else {
      it->second = seq;
      taken.push_back(std::move(ev));
    }
  }
  batch.events = std::move(taken);
  if (!now.acks.empty() && batch.reply_to)
    self->send(batch.reply_to, ack_atom::value, std::move(now));
}

void persistence_state::tell_subscribers(caf::event_based_actor* self, const caf::message& msg) {
  if (!deps.subscribers)
    return;
  for (auto& [name, actor] : deps.subscribers->all())
    self->send(actor, msg);
}

int64_t persistence_state::ready(caf::event_based_actor* self, uint16_t partition) {
  auto s = deps.partitions->partition(partition);
  if (!s)
    return -1;
  auto last = s->last_event_seq();
  applied[partition] = std::max(last, partitioned_store::partition_start(partition));
  blocked.erase(partition);
  const auto& dedup = writes->dedup();
  if (dedup.enabled()) {
    if (auto ids = s->recent_ids(deps.now() - dedup.window_ms(), dedup.max_ids()))
      writes->seed_dedup(*ids);
  }
  tell_subscribers(self, caf::make_message(adopt_atom::value, partition));
  if (auto disabled = s->disabled_subscribers()) {
    for (auto& d : *disabled)
      if (auto actor = deps.subscribers ? deps.subscribers->find(d.subscriber) : caf::actor{})
        self->send(actor, restore_atom::value, d);
    writes->seed_disabled(std::move(*disabled));
  }
  return last > partitioned_store::partition_start(partition) ? partitioned_store::offset_of(last) : -1;
}

std::string persistence_state::replay(caf::event_based_actor* self, const control_request& req) {
  if (deps.partitions)
    return error_line("replay is not available in cluster mode: a replayed delivery has no record "
                      "in the events topic; publish the event again under a new id");
  auto log = deps.db->read_event_log(req.event_id);
  if (!log)
    return error_line("events.replay failed: " + log.error());
  if (!*log || (*log)->event.body.empty())
    return error_line("no event \"" + req.event_id +
                      "\" in the delivery log (not accepted with deliveries, or older than "
                      "log.retention_hours)");
  auto plan = plan_replay(**log, req.subscriber, [&](const std::string& name) {
    return deps.subscribers && deps.subscribers->find(name);
  });
  if (!plan.error.empty())
    return error_line(plan.error);
  const auto& to = plan.to;
  writes->add_replay((*log)->event, to, deps.now());
  if (!flush(self))
    return error_line("events.replay failed: storage refused it (see the log)");
  fields out;
  out.boolean("ok", true).text("id", req.event_id).json("replayed", json_string_array(to));
  return out.json_object() + "\n";
}

caf::result<bool> persistence_state::release(caf::event_based_actor* self, uint16_t partition) {
  flush(self); // what was taken of it is committed (and its changes sent) first
  tell_subscribers(self, caf::make_message(drop_atom::value, partition));
  deps.partitions->release(partition);
  applied.erase(partition);
  blocked.erase(partition);
  const auto& dedup = writes->dedup();
  if (dedup.enabled()) {
    auto ids = deps.partitions->recent_ids(deps.now() - dedup.window_ms(), dedup.max_ids());
    writes->reset_dedup(ids ? *ids : std::vector<remembered_id>{});
  }
  return true;
}

void persistence_state::send_gauges(caf::event_based_actor* self) {
  if (!deps.monitor)
    return;
  auto pending = deps.db->count_pending_total();
  auto dlq = deps.db->count_dlq();
  if (!pending || !dlq) {
    log_error("storage: cannot read the queue sizes: " + (!pending ? pending.error() : dlq.error()));
    return;
  }
  const auto& answered = writes->answered();
  self->send(deps.monitor, gauges_atom::value,
             storage_gauges{*pending, *dlq, answered.accepted, answered.duplicates, answered.refused,
                            snapshot_saved_ms});
}

caf::behavior persistence(caf::stateful_actor<persistence_state>* self, persistence_deps deps,
                          persistence_options options) {
  auto& st = self->state;
  st.deps = std::move(deps);
  st.options = options;
  st.writes.emplace(st.deps.db->last_event_seq(),
                    dedup_window{options.dedup_window_ms, options.dedup_max_ids}, options.log);
  seed_dedup(*st.writes, *st.deps.db, st.deps.now());
  seed_disabled(*st.writes, *st.deps.db);
  self->send(self, tick_atom::value);
  return {
    [=](persist_atom, persist_batch& batch) {
      auto& st = self->state;
      if (st.deps.partitions)
        st.screen(self, batch);
      st.reply_to.push_back(std::move(batch.reply_to));
      st.writes->add_events(std::move(batch.events), st.reply_to.size() - 1);
      st.flush_soon(self);
    },
    [=](write_atom, write_batch& batch) {
      self->state.writes->add_writes(std::move(batch));
      self->state.flush_soon(self);
    },
    [=](commit_atom, write_batch& batch) -> caf::result<bool> {
      // Answered once on disk (an operator's enable or disable).
      auto& st = self->state;
      st.writes->add_writes(std::move(batch));
      if (!st.flush(self))
        return caf::make_error(caf::sec::runtime_error, "storage refused the write (see the log)");
      return true;
    },
    [=](flush_atom, uint64_t generation) {
      // Stale when batch_max, an op or a page read flushed first: that
      // commit took this flush's records already.
      if (generation == self->state.flush_generation)
        self->state.flush(self);
    },
    [=](page_atom, const std::string& name, uint64_t after_seq, uint32_t limit,
        uint64_t max_bytes) -> caf::result<delivery_page> {
      auto& st = self->state;
      st.flush(self); // the page sees every commit whose deliveries went out before it
      page_bounds bounds{limit, max_bytes};
      auto pending = st.deps.db->read_pending(name, after_seq, bounds);
      if (!pending)
        return caf::make_error(caf::sec::runtime_error, pending.error());
      delivery_page page;
      uint64_t bytes = 0;
      for (auto& p : *pending) {
        bytes += event_bytes(p.event);
        page.deliveries.push_back(delivery_from_disk(std::move(p)));
      }
      // Room left under both caps: the read found nothing more.
      page.complete = bounds.room(page.deliveries.size(), bytes);
      return page;
    },
    [=](disabled_atom) { return self->state.writes->disabled(); },
    [=](control_atom, const control_request& req) -> std::string {
      auto& st = self->state;
      if (req.op == control_op::events_replay)
        return st.replay(self, req);
      if (req.op != control_op::dlq_retry && req.op != control_op::dlq_delete)
        return error_line(std::string{"persistence does not answer \""} + req.name() + "\"");
      st.flush(self); // the change sees every write that arrived before it
      auto change = change_dlq(*st.deps.db, req);
      st.dispatch(self, change.requeued, true);
      st.send_gauges(self);
      return change.answer;
    },
    // -- cluster mode: partitions coming and going ---------------------------
    [=](adopt_atom, uint16_t partition) -> caf::result<bool> {
      auto& st = self->state;
      if (!st.deps.partitions)
        return caf::make_error(caf::sec::runtime_error, "not in cluster mode");
      st.flush(self);
      if (auto error = st.deps.partitions->adopt(partition); !error.empty())
        return caf::make_error(caf::sec::runtime_error, error);
      return true;
    },
    [=](restore_atom, uint16_t partition, const std::vector<mirrored_change>& changes) -> caf::result<bool> {
      auto s = self->state.deps.partitions ? self->state.deps.partitions->partition(partition) : nullptr;
      if (!s)
        return caf::make_error(caf::sec::runtime_error,
                               "partition " + std::to_string(partition) + " was not adopted");
      auto r = s->apply_changes(changes);
      if (r.status != write_status::ok)
        return caf::make_error(caf::sec::runtime_error, r.error);
      return true;
    },
    [=](ready_atom, uint16_t partition) -> int64_t { return self->state.ready(self, partition); },
    [=](release_atom, uint16_t partition) { return self->state.release(self, partition); },
    [=](resume_atom, uint16_t partition) { self->state.blocked.erase(partition); },
    [=](mirrored_atom, uint64_t token) {
      auto& st = self->state;
      auto it = st.awaiting_changelog.find(token);
      if (it == st.awaiting_changelog.end())
        return;
      for (auto& [to, batch] : it->second)
        self->send(to, ack_atom::value, std::move(batch));
      st.awaiting_changelog.erase(it);
    },
    [=](tick_atom) {
      auto& st = self->state;
      if (st.options.snapshot_interval.count() > 0 && st.deps.monitor &&
          std::chrono::steady_clock::now() >= st.next_snapshot) {
        // Statistics that outlast a restart, at most one interval old.
        st.next_snapshot = std::chrono::steady_clock::now() + st.options.snapshot_interval;
        auto asked = st.deps.now(); // the snapshot holds everything counted before this
        self->request(st.deps.monitor, std::chrono::seconds(10), snapshot_atom::value)
          .then(
            [=](std::string& text) {
              self->state.snapshot_asked_ms = asked;
              write_batch b;
              b.monitor_snapshot = std::move(text);
              self->state.writes->add_writes(std::move(b));
              self->state.flush_soon(self);
            },
            [](caf::error&) {});
      }
      self->state.send_gauges(self);
      self->state.deps.db->release_cached_pages();
      self->delayed_send(self, std::chrono::seconds(1), tick_atom::value);
    },
    [=](drain_atom) {
      self->state.flush(self);
      return true;
    },
  };
}

} // namespace volley
