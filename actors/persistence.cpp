#include "actors/persistence.hpp"

#include "logging/logger.hpp"
#include "protocol/dlq_request.hpp"
#include "protocol/fields.hpp"
#include "protocol/json_text.hpp"
#include "protocol/timestamp.hpp"

#include <algorithm>
#include <chrono>

namespace volley {

namespace {

template <class T>
void append_moved(std::vector<T>& to, std::vector<T>& from) {
  to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
}

// Hands deliveries to their subscriber actors, one message per subscriber.
void dispatch(caf::event_based_actor* self, const std::unordered_map<std::string, caf::actor>& subscribers,
              std::unordered_map<std::string, delivery_batch>& by_subscriber, bool forced) {
  for (auto& [name, batch] : by_subscriber) {
    auto i = subscribers.find(name);
    if (i == subscribers.end())
      continue; // not configured (any more): it stays on disk
    self->send(i->second, deliver_atom::value, std::move(batch), forced);
  }
}

// A delivery read back from disk, in the shape subscribers take.
delivery from_disk(pending_delivery&& p) {
  auto payload = std::make_shared<event_payload>();
  payload->seq = p.event.seq;
  payload->id = std::move(p.event.id);
  payload->type = std::move(p.event.type);
  payload->created_ms = p.event.created_ms;
  payload->body = std::make_shared<const std::string>(std::move(p.event.body));
  return {std::move(p.delivery), std::move(payload)};
}

} // namespace

size_t persistence_state::pending_records() const {
  return pending.events.size() + pending.updates.size() + pending.finished.size() +
         pending.dead_lettered.size() + pending.remembered.size() +
         pending.status_changes.size();
}

void persistence_state::seed_dedup(int64_t now_ms) {
  if (!dedup.enabled())
    return;
  try {
    auto ids = db->recent_ids(now_ms - dedup.window_ms(), dedup.max_ids());
    for (const auto& r : ids)
      dedup.remember(r.id, r.accepted_ms);
    if (!ids.empty())
      log_info("storage: " + std::to_string(ids.size()) +
               " client event ids from the dedup window remembered from disk");
  } catch (const std::exception& e) {
    log_error(std::string{"storage: cannot read the remembered client event ids: "} + e.what() +
              "; repeats of events accepted before this start may be delivered again");
  }
}

void persistence_state::load_disabled() {
  try {
    for (auto& s : db->disabled_subscribers()) {
      auto name = s.subscriber;
      disabled[name] = std::move(s);
    }
  } catch (const std::exception& e) {
    log_error(std::string{"storage: cannot read which subscribers are disabled: "} + e.what() +
              "; subscribers disabled before this start (410 Gone or an operator) start "
              "enabled; disable them again with volley subscriber disable");
  }
}

void persistence_state::add_events(persist_batch& batch) {
  for (auto& ev : batch.events) {
    pending_ack a;
    a.reply_to = batch.reply_to;
    a.slot = ev.slot;
    a.id = ev.payload->id;
    const int64_t accepted_ms = ev.payload->created_ms;
    // Generated ids are unique: only a client's own id can repeat.
    const bool deduplicated = ev.client_id && dedup.enabled();
    if (deduplicated && dedup.contains(a.id, accepted_ms)) {
      a.rule = batch_ids.count(a.id) > 0 ? ack_rule::repeat_in_batch : ack_rule::repeat;
      acks.push_back(std::move(a));
      continue;
    }
    if (deduplicated) {
      // Remembered in the event's own transaction, even when nobody wants
      // the event: a repeat must be recognised after a restart as well.
      dedup.remember(a.id, accepted_ms);
      batch_ids.insert(a.id);
      pending.remembered.push_back({a.id, accepted_ms});
    }
    acks.push_back(std::move(a));
    // Nothing to deliver, nothing to keep: acknowledged with the batch.
    if (ev.targets.empty())
      continue;
    ev.payload->seq = ++last_seq;
    new_event ne;
    ne.event.seq = ev.payload->seq;
    ne.event.id = ev.payload->id;
    ne.event.type = ev.payload->type;
    ne.event.created_ms = ev.payload->created_ms;
    // The store copies the body into LMDB; the shared copy stays in memory.
    ne.event.body = *ev.payload->body;
    for (auto& t : ev.targets) {
      delivery_record d;
      d.key.subscriber = std::move(t.subscriber);
      d.key.event_seq = ne.event.seq;
      d.priority = t.priority;
      d.created_ms = ne.event.created_ms;
      ne.deliveries.push_back(std::move(d));
    }
    pending.events.push_back(std::move(ne));
    payloads.push_back(std::move(ev.payload));
  }
}

void persistence_state::add_writes(write_batch& batch) {
  append_moved(pending.updates, batch.updates);
  append_moved(pending.finished, batch.finished);
  append_moved(pending.dead_lettered, batch.dead_lettered);
  for (const auto& c : batch.status_changes) {
    if (c.disabled)
      disabled[c.subscriber] = c;
    else
      disabled.erase(c.subscriber);
  }
  append_moved(pending.status_changes, batch.status_changes);
}

id_pruning persistence_state::pruning(int64_t now_ms) const {
  id_pruning p;
  // With the window off, whatever an earlier run remembered is pruned away.
  p.before_ms = now_ms - dedup.window_ms();
  p.keep_at_most = dedup.enabled() ? dedup.max_ids() : 0;
  p.max_deletions = pending.remembered.size() + prune_budget_per_commit;
  return p;
}

void persistence_state::schedule_flush(caf::event_based_actor* self,
                                       std::chrono::milliseconds delay) {
  flush_scheduled = true;
  if (delay.count() == 0)
    self->send(self, flush_atom::value, flush_generation);
  else
    self->delayed_send(self, delay, flush_atom::value, flush_generation);
}

void persistence_state::flush(caf::event_based_actor* self) {
  // Whatever flush is scheduled is for what this one commits now.
  ++flush_generation;
  flush_scheduled = false;
  if (pending.empty() && acks.empty())
    return;
  write_result result;
  if (!pending.empty()) {
    pending.pruning = pruning(unix_ms_now());
    result = db->commit(pending);
  }
  bool ok = result.status == write_status::ok;
  if (!ok) {
    // Not on disk, so not accepted: the client's retry must count as new.
    for (const auto& id : batch_ids)
      dedup.forget(id);
  }
  batch_ids.clear();
  if (ok) {
    std::unordered_map<std::string, delivery_batch> by_subscriber;
    for (size_t i = 0; i < pending.events.size(); ++i) {
      payload_ptr payload = payloads[i];
      for (auto& d : pending.events[i].deliveries)
        by_subscriber[d.key.subscriber].deliveries.push_back({std::move(d), payload});
    }
    dispatch(self, subscribers, by_subscriber, false);
  } else {
    log_error("storage: commit of " + std::to_string(pending_records()) +
              " records failed: " + result.error);
  }
  // Acknowledge in arrival order, one message per run of the same connection.
  caf::actor current;
  ack_batch out;
  auto send_out = [&] {
    if (current && !out.acks.empty())
      self->send(current, ack_atom::value, std::move(out));
    out = ack_batch{};
  };
  for (auto& a : acks) {
    if (a.reply_to != current) {
      send_out();
      current = a.reply_to;
    }
    std::string line = ok || a.rule == ack_rule::repeat
                         ? ack_line(a.id, a.rule != ack_rule::commit)
                         : error_line("not accepted: " + result.error);
    out.acks.push_back({a.slot, std::move(line)});
  }
  send_out();
  acks.clear();
  payloads.clear();
  pending.events.clear();
  pending.remembered.clear();
  if (ok) {
    pending = write_batch{};
  } else {
    // Subscribers' writes (finished, retried, dead-lettered) must not be
    // lost: keep them and try again shortly.
    schedule_flush(self, std::chrono::seconds(1));
  }
}

void persistence_state::send_gauges(caf::event_based_actor* self) {
  if (!monitor)
    return;
  try {
    self->send(monitor, gauges_atom::value, storage_gauges{db->count_pending_total(), db->count_dlq()});
  } catch (const std::exception& e) {
    log_error(std::string{"storage: cannot read the queue sizes: "} + e.what());
  }
}

std::string persistence_state::handle_op(caf::event_based_actor* self, const std::string& op,
                                         const std::string& line) {
  flush(self); // ops see every write that arrived before them
  if (op == "queue")
    return queue_line();
  dlq_request req;
  if (auto error = parse_dlq_request(op, line, req); !error.empty())
    return error_line(error);
  if (op == "dlq.list") {
    auto entries = db->list_dlq(req.subscriber, req.after, req.limit + 1);
    bool more = entries.size() > req.limit;
    if (more)
      entries.resize(req.limit);
    return dlq_list_line(entries, more);
  }
  write_batch batch;
  if (req.key) {
    (op == "dlq.retry" ? batch.dlq_requeued : batch.dlq_deleted).push_back(*req.key);
  } else {
    // Every entry of one subscriber, page by page.
    std::optional<delivery_key> after;
    for (;;) {
      auto entries = db->list_dlq(req.subscriber, after, 1000);
      for (auto& e : entries)
        (op == "dlq.retry" ? batch.dlq_requeued : batch.dlq_deleted).push_back(e.key);
      if (entries.size() < 1000)
        break;
      after = entries.back().key;
    }
  }
  auto result = db->commit(batch);
  if (result.status != write_status::ok)
    return error_line(op + " failed: " + result.error);
  // What actually changed: a key that was not there counts 0.
  auto count = op == "dlq.retry" ? result.requeued.size() : result.dlq_removed;
  std::unordered_map<std::string, delivery_batch> by_subscriber;
  for (auto& p : result.requeued) {
    auto name = p.delivery.key.subscriber;
    by_subscriber[name].deliveries.push_back(from_disk(std::move(p)));
  }
  // Requeued deliveries are older than what subscribers page in from disk,
  // so they are handed over directly ("forced").
  dispatch(self, subscribers, by_subscriber, true);
  send_gauges(self);
  return "{\"ok\":true,\"count\":" + std::to_string(count) + "}\n";
}

caf::result<std::string> persistence_state::forward_to(caf::event_based_actor* self,
                                                      const std::string& name, caf::message msg) {
  auto it = subscribers.find(name);
  if (it == subscribers.end())
    return error_line("no subscriber named \"" + name + "\"");
  auto rp = self->make_response_promise<std::string>();
  self->request(it->second, caf::infinite, std::move(msg))
    .then([this, self, rp](std::string& answer) mutable {
            // What the subscriber wrote (an enable/disable) came before its
            // answer: on disk before the operator hears it is done.
            flush(self);
            rp.deliver(std::move(answer));
          },
          [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

std::string persistence_state::queue_line() {
  // Everything pending on disk, by subscriber and priority; subscribers no
  // longer configured show up too, so leftovers are never invisible.
  auto names = db->pending_subscribers();
  for (const auto& [name, actor] : subscribers)
    if (std::find(names.begin(), names.end(), name) == names.end())
      names.push_back(name);
  std::sort(names.begin(), names.end());
  std::string list = "[";
  for (const auto& name : names) {
    auto counts = db->count_pending_by_priority(name);
    fields f;
    f.text("subscriber", name)
      .boolean("configured", subscribers.count(name) > 0)
      .integer("pending", static_cast<int64_t>(counts[0] + counts[1] + counts[2] + counts[3]))
      .json("by_priority", json_integer_array(counts));
    list += (list.size() > 1 ? "," : "") + f.json_object();
  }
  fields out;
  out.boolean("ok", true)
    .integer("pending", static_cast<int64_t>(db->count_pending_total()))
    .integer("dlq", static_cast<int64_t>(db->count_dlq()))
    .json("subscribers", list + "]");
  return out.json_object() + "\n";
}

caf::behavior persistence(caf::stateful_actor<persistence_state>* self, std::shared_ptr<store> db,
                          persistence_options options, caf::actor monitor) {
  auto& st = self->state;
  st.db = std::move(db);
  st.batch_max = options.batch_max;
  st.batch_interval = options.batch_interval;
  st.monitor = std::move(monitor);
  st.last_seq = st.db->last_event_seq();
  st.dedup = dedup_window{options.dedup_window_ms, options.dedup_max_ids};
  st.seed_dedup(unix_ms_now());
  st.load_disabled();
  self->send(self, tick_atom::value);
  auto schedule = [self] {
    auto& st = self->state;
    if (st.pending_records() >= st.batch_max)
      st.flush(self);
    else if (!st.flush_scheduled)
      st.schedule_flush(self, st.batch_interval);
  };
  return {
    [=](persist_atom, persist_batch& batch) {
      self->state.add_events(batch);
      schedule();
    },
    [=](write_atom, write_batch& batch) {
      self->state.add_writes(batch);
      schedule();
    },
    [=](flush_atom, uint64_t generation) {
      // Stale when batch_max, an op or a page-in flushed first: that commit
      // took this flush's records already.
      if (generation == self->state.flush_generation)
        self->state.flush(self);
    },
    [=](register_atom, const std::string& name, caf::actor subscriber) {
      auto& st = self->state;
      // Told before anything else this actor sends it (deliveries, pages).
      if (auto it = st.disabled.find(name); it != st.disabled.end())
        self->send(subscriber, restore_atom::value, it->second.reason, it->second.since_ms);
      st.subscribers[name] = std::move(subscriber);
    },
    [=](forget_atom, const std::string& name) { self->state.subscribers.erase(name); },
    [=](enable_atom, const std::string& name, bool on) {
      return self->state.forward_to(self, name, caf::make_message(enable_atom::value, on));
    },
    [=](test_atom, const std::string& name) {
      return self->state.forward_to(self, name, caf::make_message(test_atom::value));
    },
    [=](page_atom, const std::string& name, uint64_t after_seq, uint32_t limit) {
      auto& st = self->state;
      st.flush(self);
      auto it = st.subscribers.find(name);
      if (it == st.subscribers.end())
        return;
      delivery_batch out;
      try {
        for (auto& p : st.db->read_pending(name, after_seq, limit))
          out.deliveries.push_back(from_disk(std::move(p)));
      } catch (const std::exception& e) {
        // The subscriber asks again when this empty, incomplete page arrives.
        log_error("storage: cannot page in deliveries of subscriber=" + name + ": " + e.what() +
                  "; retrying in 1 s");
        self->delayed_send(it->second, std::chrono::seconds(1), page_atom::value, delivery_batch{},
                           false);
        return;
      }
      bool complete = out.deliveries.size() < limit;
      self->send(it->second, page_atom::value, std::move(out), complete);
    },
    [=](op_atom, const std::string& op, const std::string& line) {
      // A store read that fails must not end this actor: it owns every ack.
      try {
        return self->state.handle_op(self, op, line);
      } catch (const std::exception& e) {
        log_error("storage: " + op + " failed: " + e.what());
        return error_line(op + " failed: " + e.what());
      }
    },
    [=](tick_atom) {
      self->state.send_gauges(self);
      self->state.db->release_cached_pages();
      self->delayed_send(self, std::chrono::seconds(1), tick_atom::value);
    },
    [=](drain_atom) {
      self->state.flush(self);
      return true;
    },
  };
}

} // namespace volley
