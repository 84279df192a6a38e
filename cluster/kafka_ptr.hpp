#pragma once
// Owning pointers for librdkafka's objects, so every early return frees them.

#include <librdkafka/rdkafka.h>

#include <memory>

namespace volley {

struct kafka_deleter {
  // A group consumer should be closed first (rd_kafka_consumer_close) so it
  // leaves its group at once instead of after the session timeout. With
  // librdkafka 2.0.2, rd_kafka_destroy() never returns for a consumer that
  // ever paused a partition (upstream issues #4362, #4674): hold partitions
  // back as tests/test_kafka_mock.cpp shows instead of pausing them.
  void operator()(rd_kafka_t* handle) const { rd_kafka_destroy(handle); }
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
  void operator()(rd_kafka_topic_t* topic) const { rd_kafka_topic_destroy(topic); }
  void operator()(rd_kafka_message_t* message) const { rd_kafka_message_destroy(message); }
  void operator()(rd_kafka_topic_partition_list_t* list) const {
    rd_kafka_topic_partition_list_destroy(list);
  }
  void operator()(const rd_kafka_metadata_t* metadata) const { rd_kafka_metadata_destroy(metadata); }
  void operator()(rd_kafka_error_t* error) const { rd_kafka_error_destroy(error); }
};

using kafka_handle = std::unique_ptr<rd_kafka_t, kafka_deleter>;
using kafka_conf_ptr = std::unique_ptr<rd_kafka_conf_t, kafka_deleter>;
using kafka_topic = std::unique_ptr<rd_kafka_topic_t, kafka_deleter>;
using kafka_message = std::unique_ptr<rd_kafka_message_t, kafka_deleter>;
using kafka_partition_list = std::unique_ptr<rd_kafka_topic_partition_list_t, kafka_deleter>;
using kafka_metadata = std::unique_ptr<const rd_kafka_metadata_t, kafka_deleter>;
using kafka_error = std::unique_ptr<rd_kafka_error_t, kafka_deleter>;

} // namespace volley
