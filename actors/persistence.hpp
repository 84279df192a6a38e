#pragma once
// The persistence actor: the store's only writer, on a thread of its own
// (spawned detached). A thin shell over write_coalescer (group commit,
// acknowledgements, deduplication): the first write after a commit sends the
// actor a `flush` message, which queues behind every write already in the
// mailbox, so one synced transaction covers them all; with a batch interval
// the flush is sent delayed, so more writes can join. After the commit it
// acknowledges the events and hands their deliveries to the subscribers.
// It also answers the subscribers' page reads and applies the operator's
// dead-letter changes.

#include "actors/subscriber_registry.hpp"
#include "config/config.hpp"
#include "messages/messages.hpp"
#include "storage/change_log.hpp"
#include "storage/partitioned_store.hpp"
#include "storage/store.hpp"
#include "storage/write_coalescer.hpp"
#include "time/clock.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace volley {

struct persistence_options {
  uint32_t batch_max = 4096;                   // records per transaction at most
  std::chrono::milliseconds batch_interval{0}; // 0: commit once the mailbox has no more writes
  // How long subscribers' results (no event line waiting) may wait for a
  // commit that events would bring sooner; never less than batch_interval.
  std::chrono::milliseconds outcome_interval{0};
  int64_t dedup_window_ms = 0;                 // 0: no deduplication
  size_t dedup_max_ids = 1000000;
  delivery_log_policy log; // retention 0: no delivery log
  // How often the monitor's statistics are written; 0: never.
  std::chrono::milliseconds snapshot_interval{0};
};

struct persistence_deps {
  std::shared_ptr<store> db;
  std::shared_ptr<const subscriber_registry> subscribers;
  caf::actor monitor; // may be invalid (tests)
  clock_fn now = wall_clock();
  // Cluster mode: `db` is this store, one per owned partition, and every
  // commit's changes go to the changelog before its events are acknowledged.
  std::shared_ptr<partitioned_store> partitions;
  change_log* changelog = nullptr;
};

struct persistence_state {
  static inline const char* name = "persistence";

  persistence_deps deps;
  persistence_options options;
  std::optional<write_coalescer> writes;
  std::vector<caf::actor> reply_to; // who answers are for, by the index given to the coalescer

  // Cluster mode.
  using acks_by_reply = std::vector<std::pair<caf::actor, ack_batch>>;
  std::map<uint16_t, uint64_t> applied; // per owned partition: the highest seq taken
  std::set<uint16_t> blocked;           // a commit of it failed: its events wait for resume
  uint64_t next_token = 0;
  std::chrono::steady_clock::time_point next_snapshot{};
  int64_t snapshot_asked_ms = 0;                        // when the pending snapshot was asked for
  int64_t snapshot_saved_ms = 0;                        // ... and the one last committed
  std::map<uint64_t, acks_by_reply> awaiting_changelog; // acks of commits not yet in Kafka
  bool flush_scheduled = false;
  // When the earliest scheduled flush is due; min() while a failed commit's
  // retry holds new writes back.
  std::chrono::steady_clock::time_point flush_due{};
  // Every flush bumps it; a scheduled flush message carries the value it was
  // scheduled under, so one whose batch was committed meanwhile is ignored.
  uint64_t flush_generation = 0;

  // Commits what is pending, then acknowledges and hands deliveries over.
  // False when the commit failed.
  bool flush(caf::event_based_actor* self);
  // A flush after `delay` (0: behind whatever the mailbox holds now).
  void schedule_flush(caf::event_based_actor* self, std::chrono::milliseconds delay);
  // A flush now when the batch is full, else one scheduled unless one is
  // due as soon: after batch_interval when event lines wait for their
  // answers, after outcome_interval when only subscribers' results do.
  void flush_soon(caf::event_based_actor* self);
  void send_gauges(caf::event_based_actor* self);
  // Events of partitions it cannot take now are answered at once (cluster).
  void screen(caf::event_based_actor* self, persist_batch& batch);
  caf::result<bool> release(caf::event_based_actor* self, uint16_t partition);
  // events.replay: the logged event delivered again; answered once on disk.
  std::string replay(caf::event_based_actor* self, const control_request& req);
  int64_t ready(caf::event_based_actor* self, uint16_t partition);
  void tell_subscribers(caf::event_based_actor* self, const caf::message& msg);
  void dispatch(caf::event_based_actor* self,
                std::unordered_map<std::string, std::vector<delivery>>& by_subscriber, bool requeued);
};

caf::behavior persistence(caf::stateful_actor<persistence_state>* self, persistence_deps deps,
                          persistence_options options);

} // namespace volley
