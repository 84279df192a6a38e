#pragma once
// Group commit: the writes of many messages (routed events, subscribers'
// results) gathered into one synced transaction, and what follows from its
// fate: the answer of every event line, in arrival order, and the committed
// deliveries for each subscriber.
//
// Deduplication lives here too, because only here is it known whether a
// commit stuck: a client's id is remembered in the same transaction as its
// event, and forgotten again when that transaction fails, so a retry after
// an error is never mistaken for a repeat.
//
// It also keeps which subscribers are disabled at run time (410 Gone, or an
// operator), as the latest writes say, for subscribers started later.
// Plain logic over the store interface: no CAF, time passed in.

#include "delivery/delivery.hpp"
#include "routing/routing_table.hpp"
#include "storage/dedup_window.hpp"
#include "storage/store.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace volley {

// Remembered ids pruned per commit beyond the commit's own new ids: enough to
// work off a backlog (after a restart, or a lowered cap) over a few commits
// without making any one of them large.
constexpr size_t prune_budget_per_commit = 1024;

// The delivery log: events are logged for `retention_ms` (0: not at all)
// within `max_bytes`; pruned a bounded number per commit.
struct delivery_log_policy {
  int64_t retention_ms = 0;
  uint64_t max_bytes = 0;
};

class write_coalescer {
public:
  // One event line's answer; `reply` is the index the caller gave its batch.
  struct answer {
    size_t reply = 0;
    uint64_t slot = 0;
    std::string line; // the full answer line, newline included
  };

  struct commit_outcome {
    bool ok = true;
    std::string error;           // when !ok
    std::vector<answer> answers; // in arrival order
    // Committed deliveries by subscriber, in commit order.
    std::unordered_map<std::string, std::vector<delivery>> deliveries;
    bool retry_soon = false;              // failed, and subscribers' writes are kept for another try
    std::vector<mirrored_change> changes; // what the commit changed, when the store mirrors
    bool snapshot_saved = false;          // a monitor snapshot was in it
  };

  // Events answered since start, by how (for the metrics).
  struct answer_counts {
    uint64_t accepted = 0;   // on disk
    uint64_t duplicates = 0; // a repeat of a remembered id
    uint64_t refused = 0;    // the commit failed
  };

  write_coalescer(uint64_t last_seq, dedup_window dedup, delivery_log_policy log = {});

  // The routed events of one ingress batch, answered through `reply`.
  void add_events(std::vector<routed_event>&& events, size_t reply);
  void add_writes(write_batch&& batch);
  // The logged event delivered again, as a new delivery of the same id and
  // body to each subscriber named (its replay is marked in the log). Its
  // deliveries come out of the next commit like any event's.
  void add_replay(const logged_event& event, const std::vector<std::string>& subscribers, int64_t now_ms);

  size_t pending_records() const;
  // Nothing to commit and nobody waiting for an answer.
  bool idle() const { return pending_.empty() && acks_.empty(); }
  // Event lines wait for the next commit's answer.
  bool answers_waiting() const { return !acks_.empty(); }

  // Commits what is pending (if anything), then says who hears what.
  commit_outcome commit(store& db, int64_t now_ms);

  // What the store remembers: the dedup window's ids, disabled subscribers.
  void seed_dedup(const std::vector<remembered_id>& ids);
  // Forgets every id and remembers these (a partition moved away).
  void reset_dedup(const std::vector<remembered_id>& ids);
  void seed_disabled(std::vector<subscriber_status> disabled);
  // Disabled subscribers, as the latest writes (committed or pending) say.
  std::vector<subscriber_status> disabled() const;
  const dedup_window& dedup() const { return dedup_; }
  const answer_counts& answered() const { return answered_; }

private:
  // What an event's answer depends on.
  enum class ack_rule {
    commit,          // ok when its batch commits, an error otherwise
    repeat_in_batch, // repeats an id first accepted in this batch: as `commit`, marked duplicate
    repeat,          // repeats an id committed earlier: ok and marked duplicate, whatever happens
  };

  struct pending_ack {
    size_t reply = 0;
    uint64_t slot = 0;
    std::string id;
    ack_rule rule = ack_rule::commit;
  };

  id_pruning pruning(int64_t now_ms) const;

  uint64_t last_seq_;
  dedup_window dedup_;
  delivery_log_policy log_;
  std::unordered_set<std::string> batch_ids_;            // client ids first accepted in pending_
  write_batch pending_;                                  // the next transaction
  std::vector<std::shared_ptr<event_payload>> payloads_; // parallel to pending_.events
  std::vector<pending_ack> acks_;                        // in arrival order
  std::map<std::string, subscriber_status> disabled_;
  answer_counts answered_;
};

} // namespace volley
