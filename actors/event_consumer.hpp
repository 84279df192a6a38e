#pragma once
// Cluster mode's consumer side, as an actor: takes the records the group
// consumer's thread hands over, checks each as the ingress checks a line (a
// record that fails is logged, counted as rejected and skipped: it never
// blocks its partition), routes the events and sends them to persistence.
// Persistence answers each once it is applied and in the changelog; the
// offset tracker then lets its offset be committed. A refused event makes
// its partition be read again from it.

#include "cluster/group_consumer.hpp"
#include "cluster/offset_tracker.hpp"
#include "messages/messages.hpp"
#include "routing/routing_table.hpp"
#include "time/clock.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace volley {

struct event_consumer_deps {
  caf::actor persistence;
  caf::actor monitor;
  std::shared_ptr<offset_tracker> offsets;
  std::string node; // for the monitor
  // Where partitions and lag are read from; set once the consumer exists.
  std::shared_ptr<const group_consumer> consumer;
  clock_fn now = wall_clock();
};

struct event_consumer_state {
  static inline const char* name = "event_consumer";

  event_consumer_deps deps;
  routing_table table;
  uint64_t next_slot = 0;
  std::map<uint64_t, std::pair<int32_t, int64_t>> in_flight; // slot -> (partition, offset)
  uint64_t consumed = 0;
  uint64_t rejected = 0;

  void take(caf::event_based_actor* self, std::vector<kafka_record>&& records);
  void reject(const kafka_record& r, const std::string& why);
  void answered(const ack& a);
};

caf::behavior event_consumer(caf::stateful_actor<event_consumer_state>* self, routing_table table,
                             event_consumer_deps deps);

} // namespace volley
