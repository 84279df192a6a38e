#pragma once
// One record read back from a topic, as a node or a test sees it.

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <optional>
#include <string>

namespace volley {

struct kafka_record {
  int32_t partition = -1;
  int64_t offset = -1;
  std::string key;
  std::optional<std::string> value; // empty: a tombstone
  int64_t timestamp_ms = 0;         // the record's create time; 0 when it has none
};

// The record a consumed message (one without an error) carries.
kafka_record record_of(const rd_kafka_message_t& message);

} // namespace volley
