#pragma once
// Every message the actors exchange: atoms and payload types, declared once.
// The payload types only ever travel between local actors, never over the
// network, so they are allowed without serializers.
//
// Who sends what to whom (─► one way, ⇄ request and its answer):
//
//   ingress ─ingest(ingest_batch)─► router ─persist(persist_batch)─► persistence
//   persistence ─ack(ack_batch)─► ingress                once the batch is on disk
//   persistence ─deliver(delivery_batch)─► subscriber   deliveries just committed
//   persistence ─requeue(delivery_batch)─► subscriber   dead-letter entries retried
//   subscriber ⇄ page(name, after_seq, limit, max_bytes) → delivery_page ⇄ persistence
//   subscriber ─write(write_batch)─► persistence        results, group-committed
//   subscriber ⇄ commit(write_batch) → bool ⇄ persistence   answered once on disk
//   subscriber ─report(subscriber_report)─► monitor     once a second, or on a change
//   persistence ─gauges(storage_gauges)─► monitor       once a second
//   persistence ⇄ snapshot → string ⇄ monitor          statistics to disk, every snapshot_interval_ms
//   ingress ⇄ control(control_request) → string ⇄ the op's owner (control_plane.hpp):
//             monitor | store_reader | persistence | subscriber | node
//   node ─reconfig(subscriber_config)─► subscriber;  node ─routes(routing_table)─► router
//   node ─forget(name)─► monitor;  node ⇄ disabled → vector<subscriber_status> ⇄ persistence
//   node ⇄ start → port ⇄ ingress;  node ⇄ drain → bool ⇄ ingress, subscribers, persistence;
//   node ⇄ close → bool ⇄ ingress
//   ingress ─invalid(count)─► monitor                   event lines refused as malformed
//   monitor ⇄ metrics → metrics_snapshot ⇄ api bridge
//   monitor ⇄ series(series_window) → stats_series ⇄ api bridge
//   HTTP API thread ─ingest(api_ingest) | control(api_control) | metrics(api_metrics)
//                    | series(api_series) | define(api_define) | invalid(count)─► api bridge,
//                    which forwards:
//     api bridge ─ingest(ingest_batch)─► router;  persistence ─ack(ack_batch)─► api bridge
//     api bridge ⇄ control(control_request) → string ⇄ the op's owner, as the ingress does
//     api bridge ⇄ define(subscriber_change) → subscriber_answer ⇄ node
//     and calls the API's callback with the answer
//   HTTP engine thread ─httpdone─► subscriber           results wait in its completion queue
//   HTTP engine thread ─room─► subscriber               the engine takes requests again
//   HTTP engine thread ─testdone(tag, attempt_result)─► subscriber
//   timers, each actor to itself: subscriber wake(generation), flush, tick;
//   persistence flush(generation), tick; monitor tick; ingress connection tick
//
// Cluster mode adds (a partition is moved by the consumer's rebalance):
//   rebalance ⇄ adopt(p) → bool ⇄ persistence        an empty store for partition p
//   rebalance ⇄ restore(p, changes) → bool ⇄ persistence   the changelog, replayed
//   rebalance ⇄ ready(p) → applied offset ⇄ persistence
//     persistence ─adopt(p)─► subscribers;  ─restore(subscriber_status)─► a subscriber
//   rebalance ⇄ release(p) → bool ⇄ persistence
//     persistence ─drop(p)─► subscribers
//   consumer thread ─consumed(records)─► event consumer ─persist(persist_batch)─► persistence
//   persistence ─ack(ack_batch)─► event consumer        applied and in the changelog
//   event consumer ─resume(p)─► persistence            a failed partition consumed again
//   event consumer ─cluster(cluster_gauges)─► monitor  node, partitions, lag, once a second
//   ingress ─ingest(ingest_batch)─► kafka_ingest ─► events topic; acks from its poll thread
//   changelog thread ─mirrored(token)─► persistence     a commit's changes are in Kafka

#include "api/node_gateway.hpp"
#include "cluster/kafka_record.hpp"
#include "config/config.hpp"
#include "control/control_request.hpp"
#include "control/subscriber_change.hpp"
#include "delivery/delivery.hpp"
#include "delivery/outcome.hpp"
#include "health/metrics_snapshot.hpp"
#include "health/monitor_core.hpp"
#include "health/subscriber_report.hpp"
#include "protocol/ingress_line.hpp"
#include "routing/routing_table.hpp"
#include "storage/records.hpp"

#include <caf/all.hpp>

#include <string>
#include <vector>

namespace volley {

// -- atoms (at most 10 characters), one per meaning and direction -------------

using ingest_atom = caf::atom_constant<caf::atom("ingest")>;
using persist_atom = caf::atom_constant<caf::atom("persist")>;
using ack_atom = caf::atom_constant<caf::atom("ack")>;
using deliver_atom = caf::atom_constant<caf::atom("deliver")>;
using requeue_atom = caf::atom_constant<caf::atom("requeue")>;
using page_atom = caf::atom_constant<caf::atom("page")>;
using write_atom = caf::atom_constant<caf::atom("write")>;
using commit_atom = caf::atom_constant<caf::atom("commit")>;
using report_atom = caf::atom_constant<caf::atom("report")>;
using gauges_atom = caf::atom_constant<caf::atom("gauges")>;
using control_atom = caf::atom_constant<caf::atom("control")>;
using reconfig_atom = caf::atom_constant<caf::atom("reconfig")>;
using routes_atom = caf::atom_constant<caf::atom("routes")>;
using forget_atom = caf::atom_constant<caf::atom("forget")>;
using disabled_atom = caf::atom_constant<caf::atom("disabled")>;
using start_atom = caf::atom_constant<caf::atom("start")>;
using drain_atom = caf::atom_constant<caf::atom("drain")>;
using close_atom = caf::atom_constant<caf::atom("close")>;
using http_done_atom = caf::atom_constant<caf::atom("httpdone")>;
using test_done_atom = caf::atom_constant<caf::atom("testdone")>;
using room_atom = caf::atom_constant<caf::atom("room")>;
using wake_atom = caf::atom_constant<caf::atom("wake")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
// cluster mode (see "Cluster mode" above)
using adopt_atom = caf::atom_constant<caf::atom("adopt")>;
using restore_atom = caf::atom_constant<caf::atom("restore")>;
using ready_atom = caf::atom_constant<caf::atom("ready")>;
using release_atom = caf::atom_constant<caf::atom("release")>;
using drop_atom = caf::atom_constant<caf::atom("drop")>;
using resume_atom = caf::atom_constant<caf::atom("resume")>;
using mirrored_atom = caf::atom_constant<caf::atom("mirrored")>;
using consumed_atom = caf::atom_constant<caf::atom("consumed")>;
using cluster_atom = caf::atom_constant<caf::atom("cluster")>;
using snapshot_atom = caf::atom_constant<caf::atom("snapshot")>;
using invalid_atom = caf::atom_constant<caf::atom("invalid")>;
using metrics_atom = caf::atom_constant<caf::atom("metrics")>;
using series_atom = caf::atom_constant<caf::atom("series")>;
using define_atom = caf::atom_constant<caf::atom("define")>;

// -- payloads ------------------------------------------------------------------

// ingress -> router: the events of one read, each with its answer slot.
struct ingest_item {
  uint64_t slot = 0;
  parsed_event event;
  int64_t received_ms = 0;
};
struct ingest_batch {
  caf::actor reply_to;
  std::vector<ingest_item> items;
};

// router -> persistence
struct persist_batch {
  caf::actor reply_to;
  std::vector<routed_event> events;
};

// persistence -> ingress
struct ack {
  uint64_t slot = 0;
  std::string line; // the full answer line, newline included
};
struct ack_batch {
  std::vector<ack> acks;
};

// persistence -> subscriber
struct delivery_batch {
  std::vector<delivery> deliveries;
};

// persistence -> subscriber, the answer to `page`
struct delivery_page {
  std::vector<delivery> deliveries;
  bool complete = false; // the store held no more than these
};

// HTTP API thread -> api bridge: one request each, answered by calling
// `done` (api/node_gateway.hpp).
struct api_ingest {
  std::vector<parsed_event> events;
  events_done done;
};
struct api_control {
  control_request request;
  control_done done;
};
struct api_metrics {
  metrics_done done;
};
struct api_series {
  series_window window = series_window::hour;
  series_done done;
};
struct api_define {
  subscriber_change change;
  subscribers_done done;
};

} // namespace volley

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::api_ingest)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::api_control)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::api_metrics)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::api_series)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::api_define)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::subscriber_change)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::subscriber_answer)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::metrics_snapshot)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::series_window)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::stats_series)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::ingest_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::persist_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::ack_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::delivery_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::delivery_page)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::write_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::subscriber_report)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::storage_gauges)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::subscriber_config)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::attempt_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::control_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::routing_table)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<volley::subscriber_status>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::subscriber_status)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<volley::mirrored_change>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<volley::kafka_record>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::cluster_gauges)
