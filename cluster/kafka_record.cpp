#include "cluster/kafka_record.hpp"

namespace volley {

kafka_record record_of(const rd_kafka_message_t& message) {
  kafka_record record;
  record.partition = message.partition;
  record.offset = message.offset;
  if (message.key != nullptr)
    record.key.assign(static_cast<const char*>(message.key), message.key_len);
  if (message.payload != nullptr)
    record.value.emplace(static_cast<const char*>(message.payload), message.len);
  rd_kafka_timestamp_type_t type;
  auto ts = rd_kafka_message_timestamp(&message, &type);
  record.timestamp_ms = ts >= 0 ? ts : 0;
  return record;
}

} // namespace volley
