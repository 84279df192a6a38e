#pragma once
// What Volley keeps on disk: events, the deliveries that still owe an HTTP
// request, the dead-letter queue, the client ids of recent events (for
// deduplication across restarts) and which subscribers are disabled.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace volley {

// A delivery's identity: one event for one subscriber.
struct delivery_key {
  std::string subscriber;
  uint64_t event_seq = 0;

  friend bool operator==(const delivery_key& a, const delivery_key& b) {
    return a.event_seq == b.event_seq && a.subscriber == b.subscriber;
  }
};

struct event_record {
  uint64_t seq = 0; // node-wide, increasing; assigned by persistence
  std::string id;   // the event id (client's idempotency key or generated)
  std::string type;
  int64_t created_ms = 0; // unix ms when accepted
  std::string body;       // the exact HTTP body sent on every attempt
};

struct delivery_record {
  delivery_key key;
  uint8_t priority = 0;        // 0 normal .. 3 critical
  uint32_t attempts = 0;       // attempts already made
  int64_t next_attempt_ms = 0; // unix ms; 0: as soon as possible
  int64_t created_ms = 0;
};

// A delivery with the event it carries, as handed back by reads.
struct pending_delivery {
  delivery_record delivery;
  event_record event;
};

// What an event's strings take in memory; a page's byte cap counts this.
inline uint64_t event_bytes(const event_record& e) { return e.body.size() + e.id.size() + e.type.size(); }

// How much one read of pending deliveries returns: at most `count`, and no
// more once their events' bytes reach `bytes` (0: no byte cap). Implicit
// from a count: `read_pending(name, after, 100)` reads a page of 100.
struct page_bounds {
  page_bounds(size_t count, uint64_t bytes = 0) : count(count), bytes(bytes) {} // NOLINT: implicit
  size_t count;
  uint64_t bytes;

  // Whether a page that holds `n` deliveries of `total` bytes may take one
  // more. A read that ends with room left has returned everything there was.
  bool room(size_t n, uint64_t total) const { return n < count && (bytes == 0 || total < bytes); }
};

struct dlq_record {
  delivery_key key;
  std::string event_id;
  std::string type;
  std::string body;
  uint8_t priority = 0;
  uint32_t attempts = 0;
  int last_status = 0;    // last HTTP status, 0 when there was none
  std::string last_error; // e.g. "HTTP 404", "timeout", "connection refused"
  int64_t created_ms = 0;
  int64_t failed_ms = 0;
};

// A newly accepted event with its deliveries (possibly none).
struct new_event {
  event_record event;
  std::vector<delivery_record> deliveries;
};

// A client's event id, remembered with the time its event was accepted, so a
// repeat within the dedup window is recognised even after a restart.
struct remembered_id {
  std::string id;
  int64_t accepted_ms = 0; // unix ms, never negative
  uint16_t source = 0;     // the partition of its event (cluster mode); not stored
};

// A subscriber disabled at run time (its endpoint answered 410, or an
// operator disabled it), so it stays disabled across a restart. Only the
// disabled state is stored: re-enabling deletes the record. A config file's
// "enabled": false is not recorded here; the file says it at every start.
struct subscriber_status {
  std::string subscriber;
  bool disabled = false;
  std::string reason;   // why, for operators: e.g. "endpoint answered 410 Gone"
  int64_t since_ms = 0; // unix ms when it was disabled
};

// A subscriber added over the HTTP API: its object as JSON text, as given
// (secrets included: it is read back only to configure the subscriber),
// validated when it was given and again at every start. In a batch, a
// definition with `deleted` set removes the stored one of that name.
struct subscriber_definition {
  std::string name;
  std::string json;
  int64_t updated_ms = 0; // unix ms of the change
  bool deleted = false;
};

// The delivery log: for every event with deliveries, what it was and, per
// subscriber, each attempt and how the delivery ended, so an operator can
// answer "did they get it, and what did their endpoint say?" for
// log.retention_hours after the delivery finished.
struct logged_event {
  std::string id;
  std::string type;
  int64_t created_ms = 0;
  std::string body; // kept for replay
};

enum class attempt_outcome : uint8_t {
  retrying = 0, // failed; another attempt follows
  delivered = 1,
  dead_lettered = 2,
  disabled = 3, // 410 Gone (or disable_after_hours): kept, the subscriber disabled
  replay = 4,   // not an attempt: an operator asked to deliver it again
};

const char* to_string(attempt_outcome outcome);

struct logged_attempt {
  std::string event_id;
  std::string subscriber;
  int64_t at_ms = 0;
  uint32_t attempt = 0; // 1 for the first; 0 for a replay marker
  int status = 0;       // HTTP status; 0 when none came
  std::string error;    // "HTTP 503", "timeout", ...; empty when delivered
  double latency_ms = 0;
  attempt_outcome outcome = attempt_outcome::retrying;
};

// How much of the delivery log a commit prunes: entries of events accepted
// before `before_ms`, then the oldest while the log holds more than
// `max_bytes`, at most `max_deletions` events per commit.
struct log_pruning {
  int64_t before_ms = 0;
  uint64_t max_bytes = std::numeric_limits<uint64_t>::max();
  size_t max_deletions = 0; // 0: prune nothing
};

// One event's log: the event and every attempt, oldest first.
struct event_log {
  logged_event event;
  std::vector<logged_attempt> attempts;
};

// Which attempts a listing wants, newest first.
struct attempt_query {
  std::string subscriber;   // empty: every subscriber
  bool failed_only = false; // only attempts that did not deliver
  int64_t since_ms = 0;     // only attempts at or after
  size_t limit = 100;
};

// Which remembered ids a commit forgets, oldest first: those accepted before
// `before_ms`, then the oldest while more than `keep_at_most` remain. At most
// `max_deletions` per commit, so no commit grows without bound; a backlog is
// worked off over the following commits.
struct id_pruning {
  int64_t before_ms = 0;
  uint64_t keep_at_most = std::numeric_limits<uint64_t>::max();
  size_t max_deletions = 0; // 0: prune nothing
};

// Everything one write transaction applies, all or nothing.
struct write_batch {
  std::vector<new_event> events;
  std::vector<delivery_record> updates;  // attempts / next_attempt_ms changed
  std::vector<delivery_key> finished;    // delivered: removed
  std::vector<dlq_record> dead_lettered; // removed from pending, added to DLQ
  std::vector<delivery_key> dlq_deleted;
  std::vector<delivery_key> dlq_requeued; // DLQ entry back to pending, attempts reset
  std::vector<remembered_id> remembered;  // client ids of newly accepted events
  // Disabled: recorded (replacing an earlier record); enabled: deleted.
  // Applied in order, so the last change of one subscriber wins.
  std::vector<subscriber_status> status_changes;
  // API subscribers stored (replacing) or deleted, applied in order.
  std::vector<subscriber_definition> definitions;
  // The delivery log: events first logged (a repeat of an id keeps the
  // first entry) and attempts.
  std::vector<logged_event> logged_events;
  std::vector<logged_attempt> logged_attempts;
  // The monitor's statistics (text), replacing the last snapshot.
  std::optional<std::string> monitor_snapshot;
  id_pruning pruning;    // rides along with a commit; alone it writes nothing
  log_pruning log_prune; // likewise

  bool empty() const {
    return events.empty() && updates.empty() && finished.empty() && dead_lettered.empty() &&
           dlq_deleted.empty() && dlq_requeued.empty() && remembered.empty() && status_changes.empty() &&
           definitions.empty() && logged_events.empty() && logged_attempts.empty() && !monitor_snapshot;
  }
};

enum class write_status {
  ok,     // committed and synced to disk
  full,   // the map (or disk) is full: nothing was written
  failed, // any other error: nothing was written
};

// One change a write transaction made, as a store that mirrors its changes
// records it: which database and key (one tag byte, then the key), and the
// new value, or none for a deletion. Replayed in order on an empty store, the
// changes of every commit rebuild the store exactly (cluster mode mirrors
// them into a Kafka changelog topic).
struct mirrored_change {
  uint16_t source = 0; // which store of several (a partition) made it
  std::string key;
  std::optional<std::string> value; // none: deleted
};

struct write_result {
  write_status status = write_status::ok;
  std::string error;                      // empty when ok
  std::vector<pending_delivery> requeued; // the deliveries dlq_requeued created
  size_t dlq_removed = 0;                 // dlq_deleted entries that existed
  std::vector<mirrored_change> changes;   // what the commit changed, when the store mirrors
};

} // namespace volley
