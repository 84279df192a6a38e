#pragma once
// The librdkafka configuration of each Kafka client a node runs. Volley's
// settings come first, then the operator's "cluster.kafka" pass-through
// properties, so those can tune anything except the few properties Volley's
// guarantees rest on (see kafka_settings.cpp).

#include "cluster/cluster_config.hpp"
#include "cluster/kafka_ptr.hpp"

#include <librdkafka/rdkafka.h>

#include <string>
#include <vector>

namespace volley {

enum class kafka_role {
  events_producer,    // ingress → events_topic; answers the client on the broker's ack
  changelog_producer, // state changes → changelog_topic
  group_consumer,     // events_topic in consumer group `group`
  restore_reader,     // reads changelog partitions back, no group
};

const char* to_string(kafka_role role);

// What rd_kafka_new() is to make for the role.
rd_kafka_type_t kafka_client_type(kafka_role role);

struct kafka_setting_error {
  std::string key;     // "cluster.kafka.<property>", or "cluster.<key>" / "cluster.kafka"
  std::string message; // librdkafka's words where it refused
};

// "cluster.kafka.linger.ms: <message>"
std::string to_string(const kafka_setting_error& error);

struct kafka_conf_result {
  kafka_conf_ptr conf; // set only when errors is empty
  std::vector<kafka_setting_error> errors;
};

// The configuration for one client. The caller adds its callbacks (delivery
// report, rebalance, log) and hands it to rd_kafka_new(), which takes
// ownership only when it succeeds.
kafka_conf_result make_kafka_conf(kafka_role role, const cluster_config& cluster);

// Every problem librdkafka finds with the settings, for --check-config: each
// pass-through property alone, then each client's whole configuration as
// rd_kafka_new() judges it. Connects to nothing (the trial clients get no
// brokers).
std::vector<kafka_setting_error> validate_kafka_settings(const cluster_config& cluster);

} // namespace volley
