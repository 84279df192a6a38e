#pragma once
// What a record of the events topic is to a node: an event to route (the
// same JSON object as an ingress event line), or the reason it is skipped.
// A record that carries no id gets one made of its partition and offset, so
// consuming it again (after a rebalance) gives the same event the same id.

#include "cluster/kafka_record.hpp"
#include "protocol/ingress_line.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace volley {

struct topic_event {
  std::optional<parsed_event> event; // nullopt: skipped, see `rejected`
  bool client_id = false;            // the id came with the record (deduplicated)
  std::string rejected;
};

topic_event read_topic_event(const kafka_record& r);

// "evt_p<partition>_o<offset>": the id of a record that carries none.
std::string kafka_event_id(int32_t partition, int64_t offset);

} // namespace volley
