#include "cluster/kafka_settings.hpp"

#include "cluster/kafka_property_scope.hpp"

#include <algorithm>

namespace volley {
namespace {

// Properties the operator may not pass through: each one is either taken
// from another cluster key or a guarantee of cluster mode rests on it
// (docs/ARCHITECTURE.md, "Cluster mode").
struct reserved_property {
  const char* name;
  const char* reason;
};

constexpr reserved_property reserved_properties[] = {
  {"bootstrap.servers", "set by Volley from cluster.brokers; put the brokers there"},
  {"metadata.broker.list", "set by Volley from cluster.brokers; put the brokers there"},
  {"group.id", "set by Volley from cluster.group; put the group there"},
  {"enable.auto.commit",
   "set by Volley: an offset is committed only once the event's deliveries are durable"},
  {"enable.auto.offset.store",
   "set by Volley: an offset is committed only once the event's deliveries are durable"},
  {"enable.idempotence",
   "set by Volley: producers are idempotent so retries never duplicate or reorder records"},
  {"acks", "set by Volley to all: an event is acknowledged only once every replica has it"},
  {"request.required.acks", "set by Volley to all: an event is acknowledged only once every replica has it"},
  {"partition.assignment.strategy",
   "set by Volley to cooperative-sticky: every node must list the same assignor, and "
   "partitions are handed over incrementally"},
  {"transactional.id", "Volley's producers are not transactional; remove it"},
};

const char* reserved_reason(const std::string& name) {
  for (const auto& reserved : reserved_properties)
    if (name == reserved.name)
      return reserved.reason;
  return nullptr;
}

// One of Volley's own settings; `from_key` names the cluster key its value
// came from, or is null for a fixed value.
struct own_setting {
  const char* name;
  std::string value;
  const char* from_key;
};

std::vector<own_setting> own_settings(kafka_role role, const cluster_config& cluster, bool with_brokers) {
  std::string node = cluster.node.empty() ? default_node_name() : cluster.node;
  std::vector<own_setting> settings;
  if (with_brokers)
    settings.push_back({"bootstrap.servers", cluster.brokers, "cluster.brokers"});
  settings.push_back({"client.id", node + "/" + to_string(role), "cluster.node"});
  if (kafka_client_type(role) == RD_KAFKA_PRODUCER) {
    settings.push_back({"enable.idempotence", "true", nullptr});
    settings.push_back({"acks", "all", nullptr});
    settings.push_back({"linger.ms", "5", nullptr});
    // Events: the ingress answers {"ok":false} when this runs out, so a
    // client never waits on a broker that is gone. Changelog: never give a
    // state change up; one failed and produced again could land after a
    // later change of the same key and compaction would keep the stale one.
    // The event's offset stays uncommitted meanwhile (at-least-once).
    settings.push_back({"message.timeout.ms", role == kafka_role::events_producer ? "30000" : "0", nullptr});
    return settings;
  }
  // Offsets are committed by hand, once an event's deliveries are durable.
  settings.push_back({"enable.auto.commit", "false", nullptr});
  settings.push_back({"enable.auto.offset.store", "false", nullptr});
  settings.push_back({"auto.offset.reset", "earliest", nullptr});
  if (role == kafka_role::group_consumer) {
    settings.push_back({"group.id", cluster.group, "cluster.group"});
    settings.push_back({"partition.assignment.strategy", "cooperative-sticky", nullptr});
  } else {
    // Tells the reader where a partition ends even when compaction left a
    // gap below the high watermark.
    settings.push_back({"enable.partition.eof", "true", nullptr});
  }
  return settings;
}

bool applies_to(kafka_role role, const std::string& property) {
  switch (scope_of_kafka_property(property)) {
    case kafka_property_scope::consumer:
      return kafka_client_type(role) == RD_KAFKA_CONSUMER;
    case kafka_property_scope::producer:
      return kafka_client_type(role) == RD_KAFKA_PRODUCER;
    case kafka_property_scope::any:
      break;
  }
  return true;
}

// librdkafka's messages sometimes end in a newline.
std::string message_of(const char* errstr) {
  std::string message = errstr;
  while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
    message.pop_back();
  return message;
}

std::string pass_through_key(const std::string& property) { return "cluster.kafka." + property; }

kafka_conf_result build_conf(kafka_role role, const cluster_config& cluster, bool with_brokers) {
  kafka_conf_result result;
  kafka_conf_ptr conf(rd_kafka_conf_new());
  char errstr[512];
  for (const auto& setting : own_settings(role, cluster, with_brokers)) {
    if (rd_kafka_conf_set(conf.get(), setting.name, setting.value.c_str(), errstr, sizeof(errstr)) ==
        RD_KAFKA_CONF_OK)
      continue;
    if (setting.from_key != nullptr)
      result.errors.push_back({setting.from_key, message_of(errstr)});
    else
      result.errors.push_back({"cluster", "this librdkafka refuses Volley's " + std::string(setting.name) +
                                            "=" + setting.value + " (" + message_of(errstr) +
                                            "); install librdkafka 2.0 or newer"});
  }
  for (const auto& [property, value] : cluster.kafka) {
    if (const char* reason = reserved_reason(property)) {
      result.errors.push_back({pass_through_key(property), reason});
      continue;
    }
    if (!applies_to(role, property))
      continue;
    // The changelog never gives a change up (see own_settings): a timeout
    // meant for the events producer must not reach it.
    if (role == kafka_role::changelog_producer &&
        (property == "message.timeout.ms" || property == "delivery.timeout.ms"))
      continue;
    if (rd_kafka_conf_set(conf.get(), property.c_str(), value.c_str(), errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK)
      result.errors.push_back({pass_through_key(property), message_of(errstr)});
  }
  if (result.errors.empty())
    result.conf = std::move(conf);
  return result;
}

// Trial clients have no brokers; their "no bootstrap.servers" warning is noise.
void discard_log(const rd_kafka_t*, int, const char*, const char*) {}

void add_unique(std::vector<kafka_setting_error>& into, std::vector<kafka_setting_error> errors) {
  for (auto& error : errors) {
    bool known = std::any_of(into.begin(), into.end(), [&](const kafka_setting_error& e) {
      return e.key == error.key && e.message == error.message;
    });
    if (!known)
      into.push_back(std::move(error));
  }
}

} // namespace

const char* to_string(kafka_role role) {
  switch (role) {
    case kafka_role::events_producer:
      return "events-producer";
    case kafka_role::changelog_producer:
      return "changelog-producer";
    case kafka_role::group_consumer:
      return "group-consumer";
    case kafka_role::restore_reader:
      return "restore-reader";
  }
  return "unknown";
}

rd_kafka_type_t kafka_client_type(kafka_role role) {
  return role == kafka_role::group_consumer || role == kafka_role::restore_reader ? RD_KAFKA_CONSUMER
                                                                                  : RD_KAFKA_PRODUCER;
}

std::string to_string(const kafka_setting_error& error) { return error.key + ": " + error.message; }

kafka_conf_result make_kafka_conf(kafka_role role, const cluster_config& cluster) {
  return build_conf(role, cluster, true);
}

std::vector<kafka_setting_error> validate_kafka_settings(const cluster_config& cluster) {
  constexpr kafka_role roles[] = {kafka_role::events_producer, kafka_role::changelog_producer,
                                  kafka_role::group_consumer, kafka_role::restore_reader};
  std::vector<kafka_setting_error> errors;
  // Each property against a blank configuration first, so a consumer-only
  // property with a bad value is refused even though producers skip it.
  for (const auto& [property, value] : cluster.kafka) {
    if (reserved_reason(property) != nullptr)
      continue; // build_conf reports it
    kafka_conf_ptr scratch(rd_kafka_conf_new());
    char errstr[512];
    if (rd_kafka_conf_set(scratch.get(), property.c_str(), value.c_str(), errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK)
      add_unique(errors, {{pass_through_key(property), message_of(errstr)}});
  }
  for (auto role : roles)
    add_unique(errors, build_conf(role, cluster, false).errors);
  if (!errors.empty())
    return errors;
  // Combinations only rd_kafka_new() judges, e.g. max.in.flight > 5 with an
  // idempotent producer, or an SSL key file that cannot be read.
  for (auto role : roles) {
    auto built = build_conf(role, cluster, false);
    rd_kafka_conf_set_log_cb(built.conf.get(), discard_log);
    char errstr[512] = {};
    rd_kafka_t* trial = rd_kafka_new(kafka_client_type(role), built.conf.get(), errstr, sizeof(errstr));
    if (trial == nullptr) {
      add_unique(errors, {{"cluster.kafka", std::string("librdkafka refuses these settings for the ") +
                                              to_string(role) + ": " + message_of(errstr)}});
      continue;
    }
    built.conf.release(); // the trial client owns it now
    rd_kafka_destroy(trial);
  }
  return errors;
}

} // namespace volley
