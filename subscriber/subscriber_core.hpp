#pragma once
// Everything one subscriber decides, without CAF: its queue and paging, the
// attempt policy (breaker, backoff, rate limit), the enable rules, the
// signed requests and the counts for the monitor. The subscriber actor feeds
// it inputs (commits, pages, results, timer ticks, operator requests) and
// then carries out what it asks for: requests to start, a timer to arm, a
// page to read, writes to persist, a report to send.
// Time and randomness are passed in, so tests drive it step by step.

#include "config/config.hpp"
#include "delivery/delivery.hpp"
#include "delivery/jitter_random.hpp"
#include "health/subscriber_report.hpp"
#include "http/http_request.hpp"
#include "signing/webhook_request.hpp"
#include "storage/records.hpp"
#include "subscriber/attempt_policy.hpp"
#include "subscriber/attempt_tally.hpp"
#include "subscriber/delivery_queue.hpp"
#include "subscriber/enable_state.hpp"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace volley {

// A request to start now, with the delivery it attempts.
struct outgoing_attempt {
  delivery attempt;
  http_request request; // on_done is for the caller to set
};

// Arm the subscriber's single timer; a tick with an older generation is stale.
struct timer_request {
  int64_t due_ms = 0;
  uint64_t generation = 0;
};

class subscriber_core {
public:
  // `single_store`: all of the node's deliveries live in one store; else (in
  // cluster mode) they come from the partitions the node owns, adopted and
  // dropped as they move. `budget`: the node's bytes for deliveries in
  // memory, shared with the other subscribers (none: only the count bounds).
  subscriber_core(subscriber_config cfg, uint32_t memory_limit, uint64_t slow_ms, uint64_t seed,
                  bool single_store = true, std::shared_ptr<memory_budget> budget = nullptr);

  const subscriber_config& config() const { return cfg_; }
  const std::string& name() const { return cfg_.name; }
  bool enabled() const { return enable_.enabled(); }

  // --- inputs ----------------------------------------------------------------
  // Disabled before this start (410 Gone or an operator): it stays so.
  void restore_disabled(const std::string& reason, int64_t since_ms);
  // Deliveries just committed, in commit order; past the memory cap they
  // stay on disk and come back through pages.
  void committed(std::vector<delivery>&& batch, int64_t now_ms);
  // Requeued from the dead-letter queue: taken whatever the cap.
  void requeued(std::vector<delivery>&& batch, int64_t now_ms);
  void paged(std::vector<delivery>&& page, bool complete, int64_t now_ms);
  void page_failed(const std::string& error, int64_t now_ms);
  void attempt_done(delivery&& d, attempt_result&& r, int64_t now_ms);
  // False for a stale tick (a later timer replaced it).
  bool timer_fired(uint64_t generation, int64_t now_ms);
  // New settings from a reload; queued and in-flight work stays.
  void reconfigure(subscriber_config next, int64_t now_ms);
  void set_memory_limit(uint32_t limit) { queue_.set_memory_limit(limit); }
  // Whether each attempt goes to the delivery log with the writes.
  void log_attempts(bool on) { log_attempts_ = on; }
  // An operator's enable or disable. Returns whether it is enabled now.
  bool operator_enable(bool on, int64_t now_ms);
  // A partition this node now owns: its deliveries are on disk, paged in.
  void adopt_partition(uint16_t partition) { queue_.adopt_source(partition); }
  // A partition that moved away: nothing of it starts any more, and results
  // of its deliveries still in flight change nothing here.
  void drop_partition(uint16_t partition) { queue_.drop_source(partition); }
  // Shutting down: no new requests; in-flight ones may still come back.
  void drain() { draining_ = true; }

  // --- what to carry out ------------------------------------------------------
  // The requests that may start now (in flight cap, rate limit, breaker).
  // At most `room` of them: what the HTTP engine takes now (see
  // engine_admission.hpp); out_of_room() says when that stopped it.
  std::vector<outgoing_attempt> start_requests(int64_t now_ms,
                                               size_t room = std::numeric_limits<size_t>::max());
  // The last start_requests left ready deliveries for want of engine room.
  bool out_of_room() const { return out_of_room_; }
  // ... and this many of them could start if there were room (at least 1
  // when out_of_room()): what to ask the engine for.
  size_t room_wanted() const { return room_wanted_; }
  // A timer to arm when the next due time is earlier than the armed one.
  std::optional<timer_request> timer_to_arm();
  std::optional<page_request> page_to_read(int64_t now_ms);
  bool has_writes() const { return !writes_.empty(); }
  write_batch take_writes();
  // A state change (breaker, enabled) the monitor should hear of now.
  bool report_due() const { return report_due_; }
  subscriber_report report();
  // The periodic report, or nullopt when nothing changed since the last one
  // (no attempt ended, the same gauges): an idle subscriber sends nothing.
  std::optional<subscriber_report> report_if_changed();
  bool draining() const { return draining_; }
  size_t in_flight() const { return queue_.in_flight(); }
  // A signed `volley.test` request, outside the queue.
  http_request test_request(int64_t now_ms) const;

  const delivery_queue& queue() const { return queue_; }
  const attempt_policy& policy() const { return policy_; }

private:
  void apply_enable_change(const enable_change& c);
  void dead_letter(delivery&& d, const attempt_result& r, const std::string& reason, int64_t now_ms);
  void log_breaker(breaker_change change, const std::string& last_error) const;

  subscriber_config cfg_;
  delivery_queue queue_;
  attempt_policy policy_;
  enable_state enable_;
  webhook_signer signer_;
  attempt_tally tally_;
  jitter_random rng_;

  write_batch writes_;
  std::string limit_cause_; // why the concurrency limit last changed
  bool log_attempts_ = false;
  bool report_due_ = false;
  bool out_of_room_ = false;
  size_t room_wanted_ = 0;
  subscriber_report reported_; // the gauges of the last report
  bool draining_ = false;
  // Not before this may another request start (rate limit, open breaker); 0: no wait.
  int64_t admission_wait_ms_ = 0;
  int64_t armed_ms_ = std::numeric_limits<int64_t>::max();
  uint64_t timer_generation_ = 0;
};

// How an operator turns a subscriber back on, for log lines.
std::string how_to_enable(const std::string& subscriber);

} // namespace volley
