#include "cluster/topic_partitions.hpp"

#include "cluster/kafka_ptr.hpp"

namespace volley {

partition_count count_partitions(rd_kafka_t* client, const std::string& topic,
                                 std::chrono::milliseconds timeout) {
  // Every topic's metadata, not the one topic's: asking for a missing topic
  // by name creates it where the brokers auto-create (the mock does).
  const rd_kafka_metadata_t* raw = nullptr;
  auto err = rd_kafka_metadata(client, 1, nullptr, &raw, static_cast<int>(timeout.count()));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return {0, "topic " + topic + ": no metadata from the brokers within " + std::to_string(timeout.count()) +
                 " ms (" + rd_kafka_err2str(err) + ")"};
  kafka_metadata metadata(raw);
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    const auto& found = metadata->topics[i];
    if (topic != found.topic)
      continue;
    if (found.err != RD_KAFKA_RESP_ERR_NO_ERROR)
      return {0, "topic " + topic + ": " + rd_kafka_err2str(found.err)};
    return {found.partition_cnt, {}};
  }
  return {0, "topic " + topic +
               " does not exist: create it, with as many partitions as the "
               "other cluster topic"};
}

} // namespace volley
