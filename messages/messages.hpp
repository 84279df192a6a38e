#pragma once
// Every message the actors exchange: atoms and payload types, declared once.
// The payload types are only ever sent between local actors, never over the
// network, so they are allowed without serializers.

#include "config/config.hpp"
#include "delivery/circuit_breaker.hpp"
#include "delivery/outcome.hpp"
#include "health/delivery_counts.hpp"
#include "protocol/ingress_line.hpp"
#include "storage/records.hpp"

#include <caf/all.hpp>

#include <array>
#include <memory>
#include <unordered_map>
#include <string>
#include <vector>

namespace volley {

// -- atoms (at most 10 characters) -------------------------------------------

using ingest_atom = caf::atom_constant<caf::atom("ingest")>;
using persist_atom = caf::atom_constant<caf::atom("persist")>;
using ack_atom = caf::atom_constant<caf::atom("ack")>;
using deliver_atom = caf::atom_constant<caf::atom("deliver")>;
using page_atom = caf::atom_constant<caf::atom("page")>;
using write_atom = caf::atom_constant<caf::atom("write")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using http_done_atom = caf::atom_constant<caf::atom("httpdone")>;
using wake_atom = caf::atom_constant<caf::atom("wake")>;
using report_atom = caf::atom_constant<caf::atom("report")>;
using gauges_atom = caf::atom_constant<caf::atom("gauges")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using register_atom = caf::atom_constant<caf::atom("register")>;
using op_atom = caf::atom_constant<caf::atom("op")>;
using start_atom = caf::atom_constant<caf::atom("start")>;
using drain_atom = caf::atom_constant<caf::atom("drain")>;
using enable_atom = caf::atom_constant<caf::atom("enable")>;
using update_atom = caf::atom_constant<caf::atom("update")>;
using forget_atom = caf::atom_constant<caf::atom("forget")>;
using close_atom = caf::atom_constant<caf::atom("close")>;
using test_atom = caf::atom_constant<caf::atom("test")>;
using reload_atom = caf::atom_constant<caf::atom("reload")>;
using restore_atom = caf::atom_constant<caf::atom("restore")>;

// -- payloads ------------------------------------------------------------------

// One accepted event, shared (immutable) by all of its deliveries, so fan-out
// to N subscribers never copies the body.
struct event_payload {
  uint64_t seq = 0;
  std::string id;
  std::string type;
  int64_t created_ms = 0;
  std::shared_ptr<const std::string> body;
};
using payload_ptr = std::shared_ptr<const event_payload>;

struct delivery {
  delivery_record record;
  payload_ptr payload;
};

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
struct delivery_target {
  std::string subscriber;
  uint8_t priority = 0;
};
struct routed_event {
  uint64_t slot = 0;
  bool client_id = false; // the id came from the client (else generated): deduplicated
  std::shared_ptr<event_payload> payload; // seq assigned by persistence
  std::vector<delivery_target> targets;
};
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

struct failure_record {
  int64_t at_ms = 0;
  std::string subscriber;
  std::string event_id;
  std::string type;
  uint32_t attempt = 0;
  int status = 0;
  std::string error;
};

// subscriber -> monitor, once a second (and at once on a state change)
struct subscriber_report {
  std::string name;
  delivery_counts counts; // since the previous report
  int64_t last_attempt_ms = 0;
  int64_t last_success_ms = 0;
  int64_t last_failure_ms = 0;
  std::string last_error;
  std::unordered_map<std::string, delivery_counts> by_type; // since the previous report
  std::vector<failure_record> failures; // a sample of the latest, since the previous report
  std::array<size_t, 4> ready_by_priority{};
  size_t waiting_retry = 0;
  size_t queued = 0; // in memory, waiting (retry timers included)
  bool backlog_on_disk = false;
  size_t in_flight = 0;
  breaker_state breaker = breaker_state::closed;
  uint32_t consecutive_failures = 0;
  bool enabled = true;
  std::string disabled_reason; // empty when enabled
};

// persistence -> monitor
struct storage_gauges {
  size_t pending = 0;
  size_t dlq = 0;
};

} // namespace volley

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::ingest_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::persist_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::ack_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::delivery_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::write_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::subscriber_report)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::storage_gauges)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::subscriber_config)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::attempt_result)
