#pragma once
// Cluster mode's ingest: takes the same ingest batches the router takes in a
// single node (from the TCP ingress and the HTTP API), writes each event to
// the events topic, and answers each line once the brokers hold it, or with
// the error (brokers unreachable past the produce timeout, queue full): never
// silence. The record's value is the event as an ingress line, its id
// included (generated when the client sent none); its key is the event's
// "key", else its id.

#include "cluster/event_producer.hpp"
#include "messages/messages.hpp"

#include <memory>

namespace volley {

struct kafka_ingest_state {
  static inline const char* name = "kafka_ingest";
};

caf::behavior kafka_ingest(caf::stateful_actor<kafka_ingest_state>* self,
                           std::shared_ptr<event_producer> producer);

} // namespace volley
