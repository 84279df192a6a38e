#pragma once
// The persistence actor: the only writer of the store, on a thread of its own
// (spawned detached). Writes arrive as messages and are grouped: the first
// write after a commit sends the actor a `flush` message, which queues behind
// every write already in the mailbox, so one synced transaction covers them
// all; with a batch interval the flush is sent delayed, so more writes can
// join. Only after the commit are events acknowledged and their deliveries
// handed to the subscriber actors.
//
// Deduplication lives here too, because only this actor knows whether a
// commit stuck: a client's id is remembered in the same transaction as its
// event, and forgotten again when that transaction fails, so a retry after
// an error is never mistaken for a repeat.
//
// It also keeps which subscribers are disabled at run time (410 Gone, or an
// operator): a subscriber actor registering here is told at once when it is
// recorded as disabled, before any delivery reaches it.

#include "config/config.hpp"
#include "messages/messages.hpp"
#include "storage/dedup_window.hpp"
#include "storage/store.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace volley {

struct persistence_options {
  uint32_t batch_max = 4096;    // records per transaction at most
  std::chrono::milliseconds batch_interval{0}; // 0: commit once the mailbox has no more writes
  int64_t dedup_window_ms = 0;  // 0: no deduplication
  size_t dedup_max_ids = 1000000;
};

// Remembered ids pruned per commit beyond the commit's own new ids: enough to
// work off a backlog (after a restart, or a lowered cap) over a few commits
// without making any one of them large.
constexpr size_t prune_budget_per_commit = 1024;

struct persistence_state {
  static inline const char* name = "persistence";

  // What an event's answer depends on.
  enum class ack_rule {
    commit,          // ok when its batch commits, an error otherwise
    repeat_in_batch, // repeats an id first accepted in this batch: as `commit`, marked duplicate
    repeat,          // repeats an id committed earlier: ok and marked duplicate, whatever happens
  };

  struct pending_ack {
    caf::actor reply_to;
    uint64_t slot = 0;
    std::string id;
    ack_rule rule = ack_rule::commit;
  };

  std::shared_ptr<store> db;
  caf::actor monitor;
  uint32_t batch_max = 4096;
  std::chrono::milliseconds batch_interval{0};
  uint64_t last_seq = 0;
  bool flush_scheduled = false;
  // Every flush bumps it; a scheduled flush message carries the value it was
  // scheduled under, so one whose batch was committed meanwhile is ignored.
  uint64_t flush_generation = 0;
  dedup_window dedup;
  std::unordered_set<std::string> batch_ids; // client ids first accepted in `pending`

  write_batch pending;                                 // the next transaction
  std::vector<std::shared_ptr<event_payload>> payloads; // parallel to pending.events
  std::vector<pending_ack> acks;                        // in arrival order
  std::unordered_map<std::string, caf::actor> subscribers;
  // Disabled subscribers as the latest writes say (committed or about to be).
  std::unordered_map<std::string, subscriber_status> disabled;

  // Fills the dedup window with what the store remembers from the window.
  void seed_dedup(int64_t now_ms);
  // Reads which subscribers were left disabled by the previous run.
  void load_disabled();
  void add_events(persist_batch& batch);
  void add_writes(write_batch& batch);
  // Which remembered ids the next commit prunes.
  id_pruning pruning(int64_t now_ms) const;
  // Commits what is pending, then acknowledges and dispatches.
  void flush(caf::event_based_actor* self);
  // A flush after `delay` (0: behind whatever the mailbox holds now).
  void schedule_flush(caf::event_based_actor* self, std::chrono::milliseconds delay);
  void send_gauges(caf::event_based_actor* self);
  std::string handle_op(caf::event_based_actor* self, const std::string& op, const std::string& line);
  size_t pending_records() const;
  std::string queue_line();
  // Hands an operator's op to one subscriber actor; its answer comes back.
  caf::result<std::string> forward_to(caf::event_based_actor* self, const std::string& name,
                                      caf::message msg);
};

caf::behavior persistence(caf::stateful_actor<persistence_state>* self, std::shared_ptr<store> db,
                          persistence_options options, caf::actor monitor);

} // namespace volley
