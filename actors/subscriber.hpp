#pragma once
// One actor per subscriber. It owns the subscriber's in-memory queue (by
// priority, bounded: beyond queue.memory_limit deliveries stay on disk and are
// paged back in), its retry timers, its circuit breaker and its counters, and
// hands requests to the shared HTTP engine. A slow endpoint only ever fills
// its own actor's in-flight slots.

#include "config/config.hpp"
#include "delivery/backoff.hpp"
#include "delivery/circuit_breaker.hpp"
#include "delivery/token_bucket.hpp"
#include "http/http_engine.hpp"
#include "messages/messages.hpp"

#include <array>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

namespace volley {

// Completions handed over from the HTTP engine thread. Only the first one
// of a burst sends the actor a message; the actor then takes them all, so a
// busy subscriber handles many results per message.
class completion_queue {
public:
  // True when the queue was empty: the caller must notify the actor.
  bool push(delivery&& d, attempt_result&& r);
  std::vector<std::pair<delivery, attempt_result>> take();

private:
  std::mutex mutex_;
  std::vector<std::pair<delivery, attempt_result>> items_;
};

struct subscriber_deps {
  http_engine* engine = nullptr;
  caf::actor persistence;
  caf::actor monitor;
  uint32_t memory_limit = 100000;
  uint64_t slow_ms = 1000;
};

struct subscriber_state {
  static inline const char* name = "subscriber";

  subscriber_config cfg;
  std::vector<std::string> keys; // signing keys, from cfg.secrets
  subscriber_deps deps;
  circuit_breaker breaker{breaker_config{}};
  backoff_policy backoff{backoff_config{}};
  token_bucket limiter;
  std::mt19937_64 rng{std::random_device{}()};

  std::shared_ptr<completion_queue> completions = std::make_shared<completion_queue>();
  std::array<std::deque<delivery>, 4> ready; // index = priority
  std::multimap<int64_t, delivery> waiting;  // retry due (unix ms) -> delivery
  size_t in_flight = 0;
  bool enabled = true;
  // A run-time disable (410 Gone, an operator) is recorded on disk so it
  // outlasts a restart; a config file's "enabled": false is not.
  bool disable_recorded = false;
  std::string disabled_reason; // why it is disabled, for operators; empty when enabled

  // Paging: deliveries with seq above `watermark` may be on disk only.
  bool on_disk = true; // at start everything pending is on disk
  bool page_requested = false;
  uint64_t watermark = 0;

  // The single retry/cooldown timer: a tick with an old generation is stale.
  uint64_t wake_generation = 0;
  int64_t wake_at = std::numeric_limits<int64_t>::max();

  write_batch writes; // to persistence, sent once per burst
  bool writes_scheduled = false;
  subscriber_report report;

  // `test` ops waiting for their request: tag -> the operator's answer.
  uint64_t next_test_tag = 0;
  std::map<uint64_t, caf::response_promise> tests;

  bool draining = false;
  std::vector<caf::response_promise> drain_waiters;

  void configure(subscriber_config next);
  size_t in_memory() const;
  void accept(delivery&& d, int64_t now_ms);
  void pump(caf::event_based_actor* self);
  void maybe_page(caf::event_based_actor* self);
  void arm(caf::event_based_actor* self, int64_t due_ms);
  void wake(caf::event_based_actor* self);
  void on_results(caf::event_based_actor* self);
  void on_result(caf::event_based_actor* self, delivery&& d, attempt_result&& r, int64_t now_ms);
  void retry_later(caf::event_based_actor* self, delivery&& d, const attempt_result& r, int64_t now_ms);
  void dead_letter(delivery&& d, const attempt_result& r, const std::string& reason, int64_t now_ms);
  // Sets `enabled`; `record` also writes the change to disk with the next
  // writes, so it holds after a restart. The caller reports and schedules.
  void set_enabled(bool on, const std::string& reason, bool record, int64_t now_ms);
  void schedule_writes(caf::event_based_actor* self);
  void send_writes(caf::event_based_actor* self);
  http_request signed_request(const event_payload& p, int64_t now_ms) const;
  http_request make_request(caf::event_based_actor* self, delivery&& d, int64_t now_ms) const;
  void count_attempt(const delivery& d, const attempt_result& r, const outcome& out, int64_t now_ms);
  void send_report(caf::event_based_actor* self);
  void finish_drain();
};

caf::behavior subscriber(caf::stateful_actor<subscriber_state>* self, subscriber_config cfg,
                         subscriber_deps deps);

} // namespace volley
