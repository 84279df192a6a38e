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
  return record;
}

} // namespace volley
