#pragma once
// The storage backend interface. The persistence actor is its only writer;
// reads may come from other threads too (the operator's queries run off the
// commit thread). lmdb_store is the real one, memory_store keeps actors
// testable without disk. Reads report failures in their result.

#include "storage/read_result.hpp"
#include "storage/records.hpp"

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace volley {

class store {
public:
  virtual ~store() = default;

  // Applies the whole batch in one transaction, synced before it returns ok.
  // Deleting a key that is absent is not an error (it was already finished).
  // An event is removed once no pending delivery refers to it any more.
  // A remembered id that is already stored takes its new accept time.
  virtual write_result commit(const write_batch& batch) = 0;

  // Highest event seq ever stored (0 for a new store).
  virtual uint64_t last_event_seq() = 0;

  // Subscribers that have at least one pending delivery, sorted by name.
  virtual read_result<std::vector<std::string>> pending_subscribers() = 0;

  // Pending deliveries of one subscriber with event_seq > after_seq, in
  // event_seq order, within `bounds`.
  virtual read_result<std::vector<pending_delivery>> read_pending(const std::string& subscriber,
                                                                  uint64_t after_seq, page_bounds bounds) = 0;

  virtual read_result<size_t> count_pending(const std::string& subscriber) = 0;
  // One subscriber's pending deliveries by priority (index 0..3). Walks
  // them all: for operators' queries, not for the hot path.
  virtual read_result<std::array<size_t, 4>> count_pending_by_priority(const std::string& subscriber) = 0;
  virtual read_result<size_t> count_pending_total() = 0;

  // DLQ entries in (subscriber, event_seq) order after `after` (exclusive;
  // nullopt: from the start), optionally of one subscriber, at most `limit`.
  virtual read_result<std::vector<dlq_record>> list_dlq(const std::optional<std::string>& subscriber,
                                                        const std::optional<delivery_key>& after,
                                                        size_t limit) = 0;

  virtual read_result<size_t> count_dlq() = 0;

  // Lets go of the stored data this process holds in memory only as a
  // cache, so that its resident set does not grow with the queue; reads
  // find it again. Called about once a second.
  virtual void release_cached_pages() {}
  // The most recent remembered client ids accepted at or after `since_ms`,
  // at most `limit`, oldest first: what seeds the dedup window at start-up.
  virtual read_result<std::vector<remembered_id>> recent_ids(int64_t since_ms, size_t limit) = 0;
  // Subscribers recorded as disabled (status_changes), sorted by name, each
  // with disabled = true and the reason and time it was recorded with.
  virtual read_result<std::vector<subscriber_status>> disabled_subscribers() = 0;
  // The subscribers added over the HTTP API, sorted by name.
  virtual read_result<std::vector<subscriber_definition>> subscriber_definitions() = 0;

  // The delivery log of one event; nullopt when the log has none (never
  // accepted with deliveries, or pruned).
  virtual read_result<std::optional<event_log>> read_event_log(const std::string& event_id) = 0;
  // Logged attempts, newest first, as `query` asks.
  virtual read_result<std::vector<logged_attempt>> list_attempts(const attempt_query& query) = 0;

  // The monitor's last snapshot; nullopt when none was written.
  virtual read_result<std::optional<std::string>> monitor_snapshot() = 0;
};

} // namespace volley
