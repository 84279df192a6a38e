#pragma once
// How many partitions a topic has, from the brokers' metadata. A node checks
// that events_topic and changelog_topic agree before it joins the group.

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <string>

namespace volley {

struct partition_count {
  int count = 0;
  std::string error; // empty when count holds
};

// Blocks up to `timeout`: call it off the actor scheduler. Never creates
// the topic, even where the brokers auto-create topics.
partition_count count_partitions(rd_kafka_t* client, const std::string& topic,
                                 std::chrono::milliseconds timeout);

} // namespace volley
