#include "actors/event_consumer.hpp"

#include "cluster/topic_event.hpp"
#include "logging/logger.hpp"

#include <chrono>

namespace volley {

namespace {

constexpr uint64_t rejections_logged_in_full = 20; // then one line per 1,000

} // namespace

void event_consumer_state::reject(const kafka_record& r, const std::string& why) {
  ++rejected;
  if (rejected <= rejections_logged_in_full || rejected % 1000 == 0)
    log_warn("cluster: skipped the record at offset " + std::to_string(r.offset) + " of partition " +
             std::to_string(r.partition) + ": " + why + " (" + std::to_string(rejected) +
             " rejected since start)");
  deps.offsets->done(r.partition, r.offset);
}

void event_consumer_state::take(caf::event_based_actor* self, std::vector<kafka_record>&& records) {
  persist_batch batch;
  batch.reply_to = caf::actor_cast<caf::actor>(self);
  for (auto& r : records) {
    ++consumed;
    auto record = read_topic_event(r);
    if (!record.event) {
      reject(r, record.rejected);
      continue;
    }
    auto slot = next_slot++;
    auto created = r.timestamp_ms > 0 ? r.timestamp_ms : deps.now();
    auto routed = table.route(std::move(*record.event), slot, created);
    routed.client_id = record.client_id;
    routed.origin = event_origin{static_cast<uint16_t>(r.partition), r.offset};
    in_flight[slot] = {r.partition, r.offset};
    batch.events.push_back(std::move(routed));
  }
  if (!batch.events.empty())
    self->send(deps.persistence, persist_atom::value, std::move(batch));
}

void event_consumer_state::answered(const ack& a) {
  auto it = in_flight.find(a.slot);
  if (it == in_flight.end())
    return;
  auto [partition, offset] = it->second;
  in_flight.erase(it);
  if (a.line.rfind("{\"ok\":true", 0) == 0) {
    deps.offsets->done(partition, offset);
    return;
  }
  if (deps.offsets->failed(partition, offset))
    log_warn("cluster: partition " + std::to_string(partition) + " offset " + std::to_string(offset) +
             " not applied (" + a.line.substr(0, a.line.size() - 1) +
             "); the partition is read again from there");
}

caf::behavior event_consumer(caf::stateful_actor<event_consumer_state>* self, routing_table table,
                             event_consumer_deps deps) {
  self->state.table = std::move(table);
  self->state.deps = std::move(deps);
  self->delayed_send(self, std::chrono::seconds(1), tick_atom::value);
  return {
    [=](consumed_atom, std::vector<kafka_record>& records) { self->state.take(self, std::move(records)); },
    [=](ack_atom, ack_batch& answers) {
      for (auto& a : answers.acks)
        self->state.answered(a);
    },
    [=](routes_atom, routing_table& table) { self->state.table = std::move(table); },
    [=](resume_atom, uint16_t partition) {
      // Read again from the failed offset: persistence takes its events again.
      self->send(self->state.deps.persistence, resume_atom::value, partition);
    },
    [=](drain_atom) -> caf::result<bool> {
      // Everything handed over before this is with persistence: its commit
      // answers once it is on disk (its acks follow, once in the changelog).
      auto rp = self->make_response_promise<bool>();
      self->request(self->state.deps.persistence, caf::infinite, drain_atom::value)
        .then([rp](bool ok) mutable { rp.deliver(ok); },
              [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
    [=](release_atom, uint16_t partition) -> caf::result<bool> {
      auto rp = self->make_response_promise<bool>();
      self->request(self->state.deps.persistence, caf::infinite, release_atom::value, partition)
        .then([rp](bool ok) mutable { rp.deliver(ok); },
              [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
    [=](tick_atom) {
      auto& st = self->state;
      if (st.deps.monitor) {
        cluster_gauges g;
        g.node = st.deps.node;
        if (st.deps.consumer) {
          g.partitions = st.deps.consumer->assignment();
          g.lag = st.deps.consumer->lag();
        }
        g.consumed = st.consumed;
        g.rejected = st.rejected;
        self->send(st.deps.monitor, cluster_atom::value, std::move(g));
      }
      self->delayed_send(self, std::chrono::seconds(1), tick_atom::value);
    },
  };
}

} // namespace volley
