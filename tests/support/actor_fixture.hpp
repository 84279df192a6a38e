#pragma once
// One fixture for deterministic actor tests: CAF's test_coordinator runs
// every actor on the test's own thread, one message at a time, and its
// virtual clock drives both delayed messages and the time the actors read,
// so retry timers and breaker cooldowns pass without real waiting. The
// store is a memory_store; HTTP goes to a scripted transport the test
// answers request by request; acks and monitor reports land in a probe.

#include "actors/persistence.hpp"
#include "actors/router.hpp"
#include "actors/subscriber.hpp"
#include "actors/subscriber_registry.hpp"
#include "http/http_request.hpp"
#include "messages/messages.hpp"
#include "storage/change_log.hpp"
#include "storage/memory_store.hpp"
#include "storage/partitioned_store.hpp"

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace volley::test {

// Requests the actors started, each answered when the test says so.
class scripted_transport : public http_transport {
public:
  void submit(std::vector<http_request>&& batch) override;

  // Requests started and not answered yet, oldest first.
  size_t open() const { return open_.size(); }
  const http_request& request(size_t i) const { return open_.at(i); }
  std::string header(size_t i, const std::string& name) const;
  // Answers the oldest open request.
  void answer(attempt_result r);
  void answer_status(int status);
  size_t started() const { return started_; }

private:
  std::vector<http_request> open_;
  size_t started_ = 0;
};

// Collects what the actors send outside: acks, reports, gauges.
struct probe_log {
  std::vector<ack> acks;
  std::vector<subscriber_report> reports;

  // The latest report of subscriber `name`; nullptr before its first.
  const subscriber_report* last_report(const std::string& name) const {
    for (auto it = reports.rbegin(); it != reports.rend(); ++it)
      if (it->name == name)
        return &*it;
    return nullptr;
  }
};

class actor_fixture {
public:
  actor_fixture();
  ~actor_fixture();

  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::scheduler::test_coordinator& sched;
  const int64_t start_ms = 1700000000000;
  clock_fn now; // start_ms plus the virtual time passed
  std::shared_ptr<memory_store> db = std::make_shared<memory_store>();
  std::shared_ptr<subscriber_registry> registry = std::make_shared<subscriber_registry>();
  scripted_transport transport;
  std::shared_ptr<probe_log> seen = std::make_shared<probe_log>();
  caf::actor probe, persistence, router;
  persistence_options writes; // as persistence is spawned by wire()

  // Router -> persistence -> subscribers, as the node wires them.
  void wire(const std::vector<subscriber_config>& subscribers, uint32_t memory_limit = 1000);
  // The same in cluster mode: one store per partition, changes to `log`.
  void wire_cluster(const std::vector<subscriber_config>& subscribers,
                    std::shared_ptr<partitioned_store> partitions, change_log* log);
  // Events of the given types through the router, answered to the probe.
  void publish(const std::vector<std::string>& types);
  // Events as consumed from partition `partition` at these offsets, routed,
  // straight to persistence, answered to the probe.
  void consume(uint16_t partition, const std::vector<int64_t>& offsets, const std::string& type);
  // A request to persistence; its answer once every job has run.
  template <class T, class... Ts>
  T ask_persistence(Ts... xs) {
    auto answer = std::make_shared<T>();
    // With an argument: see the probe in actor_fixture.cpp.
    sys.spawn(
      [=](caf::event_based_actor* self, caf::actor target) {
        self->request(target, caf::infinite, xs...).then([=](T& x) { *answer = std::move(x); });
      },
      persistence);
    run();
    return *answer;
  }
  // A control request to `target`; its answer once every job has run.
  std::string ask(caf::actor target, const control_request& req);

  // Runs every job that is ready (no time passes).
  void run();
  // Lets virtual time pass, firing what falls due, and runs the jobs.
  void advance(std::chrono::milliseconds d);

private:
  caf::actor_system_config& configured();
  void spawn_subscribers(const std::vector<subscriber_config>& subscribers, uint32_t memory_limit,
                         bool single_store);
  routing_table routes_;
  std::vector<caf::actor> actors_;
  uint64_t next_slot_ = 0;
};

} // namespace volley::test
