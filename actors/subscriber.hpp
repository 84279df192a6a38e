#pragma once
// One actor per subscriber: a thin shell over subscriber_core. It feeds the
// core what arrives (committed deliveries, pages, HTTP results, timer
// ticks, operator requests) and carries out what the core asks for: start
// requests on the HTTP transport, arm its timer, read a page, send writes
// to persistence, report to the monitor. A slow endpoint only ever fills
// its own actor's in-flight slots.

#include "config/config.hpp"
#include "http/completion_queue.hpp"
#include "http/http_request.hpp"
#include "messages/messages.hpp"
#include "subscriber/subscriber_core.hpp"
#include "time/clock.hpp"

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace volley {

struct subscriber_deps {
  http_transport* transport = nullptr;
  caf::actor persistence;
  caf::actor monitor;
  uint32_t memory_limit = 100000;
  std::shared_ptr<memory_budget> budget; // the node's bytes for deliveries in memory
  uint64_t slow_ms = 1000;
  clock_fn now = wall_clock();
  uint64_t seed = 0; // backoff jitter
  // False in cluster mode: deliveries come from the partitions adopted.
  bool single_store = true;
  bool log_attempts = false; // the delivery log is on
  // Disabled before this start (410 Gone or an operator), as recorded.
  std::optional<subscriber_status> recorded_disable;
};

// A subscriber's HTTP results: on_done queues them on the engine thread,
// and raise() sends the actor one http_done when new ones wait, so a round
// of the engine's completions costs the actor one wake-up.
class completion_inbox : public result_signal {
public:
  using completion = std::pair<delivery, attempt_result>;

  void set_owner(caf::actor_addr owner) { owner_ = std::move(owner); }
  void add(completion&& c) {
    if (queue_.push(std::move(c)))
      wake_.store(true, std::memory_order_release);
  }
  std::vector<completion> take() { return queue_.take(); }
  void raise() override {
    if (wake_.exchange(false, std::memory_order_acq_rel))
      if (auto owner = caf::actor_cast<caf::actor>(owner_))
        caf::anon_send(owner, http_done_atom::value);
  }

private:
  completion_queue<completion> queue_;
  std::atomic<bool> wake_{false};
  caf::actor_addr owner_; // weak: the actor's state holds the inbox
};

struct subscriber_state {
  static inline const char* name = "subscriber";

  std::optional<subscriber_core> core;
  subscriber_deps deps;
  std::shared_ptr<completion_inbox> completions = std::make_shared<completion_inbox>();
  bool flush_scheduled = false;
  bool tick_armed = false; // the periodic report; idle subscribers let it lapse
  bool room_asked = false; // waiting for the HTTP engine to have room
  size_t room_wanted = 0;  // ... for this many requests
  // `test` ops waiting for their request: tag -> the operator's answer.
  uint64_t next_test_tag = 0;
  std::map<uint64_t, caf::response_promise> tests;
  std::vector<caf::response_promise> drain_waiters;

  // Does what the core asks for after an input; `woken`: by the engine,
  // with room set aside for room_wanted requests.
  void carry_out(caf::event_based_actor* self, bool woken = false);
  void send_writes(caf::event_based_actor* self);
  void send_report(caf::event_based_actor* self);
  caf::result<std::string> enable(caf::event_based_actor* self, bool on);
  caf::result<std::string> test(caf::event_based_actor* self);
};

caf::behavior subscriber(caf::stateful_actor<subscriber_state>* self, subscriber_config cfg,
                         subscriber_deps deps);

} // namespace volley
