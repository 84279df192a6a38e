#include "tests/support/actor_fixture.hpp"

#include <boost/test/unit_test.hpp>

namespace volley::test {

void scripted_transport::submit(std::vector<http_request>&& batch) {
  for (auto& r : batch) {
    open_.push_back(std::move(r));
    ++started_;
  }
}

std::string scripted_transport::header(size_t i, const std::string& name) const {
  std::string out;
  request(i).headers.each([&](const char* line) {
    std::string l{line};
    if (l.rfind(name + ": ", 0) == 0)
      out = l.substr(name.size() + 2);
  });
  return out;
}

void scripted_transport::answer(attempt_result r) {
  BOOST_REQUIRE_MESSAGE(!open_.empty(), "no open request to answer");
  auto req = std::move(open_.front());
  open_.erase(open_.begin());
  req.on_done(std::move(r));
  if (req.signal)
    req.signal->raise();
}

void scripted_transport::answer_status(int status) {
  attempt_result r;
  r.status = status;
  r.latency_ms = 1;
  answer(std::move(r));
}

caf::actor_system_config& actor_fixture::configured() {
  cfg.set("scheduler.policy", caf::atom("testing"));
  cfg.set("logger.verbosity", caf::atom("quiet"));
  return cfg;
}

actor_fixture::actor_fixture()
  : sys(configured()), sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())) {
  auto origin = sched.clock().now();
  now = [this, origin] {
    auto passed = std::chrono::duration_cast<std::chrono::milliseconds>(sched.clock().now() - origin);
    return start_ms + passed.count();
  };
  // Its state comes as a spawn argument: CAF 0.17 dereferences a null
  // argument tuple for an actor spawned with none (UBSan reports it).
  probe = sys.spawn(
    [](caf::event_based_actor*, std::shared_ptr<probe_log> log) -> caf::behavior {
      return {
        [log](ack_atom, ack_batch& b) {
          for (auto& a : b.acks)
            log->acks.push_back(std::move(a));
        },
        [log](report_atom, subscriber_report& r) { log->reports.push_back(std::move(r)); },
        [](gauges_atom, const storage_gauges&) {},
      };
    },
    seen);
  actors_.push_back(probe);
}

actor_fixture::~actor_fixture() {
  for (auto& a : actors_)
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  run();
}

void actor_fixture::wire(const std::vector<subscriber_config>& subscribers, uint32_t memory_limit) {
  persistence_deps deps;
  deps.db = db;
  deps.subscribers = registry;
  deps.monitor = probe;
  deps.now = now;
  persistence = sys.spawn(volley::persistence, deps, writes);
  actors_.push_back(persistence);
  router = sys.spawn(volley::router, routing_table{subscribers, {}}, persistence);
  actors_.push_back(router);
  spawn_subscribers(subscribers, memory_limit, true);
  run();
}

void actor_fixture::wire_cluster(const std::vector<subscriber_config>& subscribers,
                                 std::shared_ptr<partitioned_store> partitions, change_log* log) {
  persistence_deps deps;
  deps.db = partitions;
  deps.partitions = partitions;
  deps.changelog = log;
  deps.subscribers = registry;
  deps.monitor = probe;
  deps.now = now;
  persistence = sys.spawn(volley::persistence, deps, writes);
  actors_.push_back(persistence);
  routes_ = routing_table{subscribers, {}};
  spawn_subscribers(subscribers, 1000, false);
  run();
}

void actor_fixture::spawn_subscribers(const std::vector<subscriber_config>& subscribers,
                                      uint32_t memory_limit, bool single_store) {
  for (const auto& s : subscribers) {
    subscriber_deps deps;
    deps.transport = &transport;
    deps.persistence = persistence;
    deps.monitor = probe;
    deps.memory_limit = memory_limit;
    deps.now = now;
    deps.seed = 7;
    deps.single_store = single_store;
    auto actor = sys.spawn(subscriber, s, deps);
    registry->add(s.name, actor);
    actors_.push_back(actor);
  }
}

void actor_fixture::consume(uint16_t partition, const std::vector<int64_t>& offsets,
                            const std::string& type) {
  persist_batch batch;
  batch.reply_to = probe;
  for (auto offset : offsets) {
    parsed_event ev;
    ev.type = type;
    ev.id = "p" + std::to_string(partition) + "-" + std::to_string(offset);
    auto routed = routes_.route(std::move(ev), next_slot_++, now());
    routed.origin = event_origin{partition, offset};
    batch.events.push_back(std::move(routed));
  }
  caf::anon_send(persistence, persist_atom::value, std::move(batch));
  run();
}

void actor_fixture::publish(const std::vector<std::string>& types) {
  ingest_batch batch;
  batch.reply_to = probe;
  for (const auto& type : types) {
    ingest_item item;
    item.slot = next_slot_++;
    item.event.type = type;
    item.received_ms = now();
    batch.items.push_back(std::move(item));
  }
  caf::anon_send(router, ingest_atom::value, std::move(batch));
  run();
}

std::string actor_fixture::ask(caf::actor target, const control_request& req) {
  auto answer = std::make_shared<std::string>();
  sys.spawn(
    [answer](caf::event_based_actor* self, caf::actor target, control_request req) {
      self->request(target, caf::infinite, control_atom::value, req)
        .then([=](std::string& line) { *answer = std::move(line); },
              [=](caf::error& err) { *answer = "error: " + self->system().render(err); });
    },
    target, req);
  run();
  return *answer;
}

void actor_fixture::run() { sched.run(); }

void actor_fixture::advance(std::chrono::milliseconds d) {
  sched.advance_time(d);
  run();
}

} // namespace volley::test
