#pragma once
// The "cluster" section of the config file (README.md, "Cluster mode"):
// where Kafka is and which group and topics this node works in.

#include <string>
#include <utility>
#include <vector>

namespace volley {

struct cluster_config {
  std::string brokers; // bootstrap servers, "host:port,host:port"
  std::string group = "volley";
  std::string events_topic = "volley.events";
  std::string changelog_topic = "volley.changelog";
  std::string node; // empty until defaulted: see default_node_name()
  // librdkafka properties passed through, in file order, applied after ours.
  std::vector<std::pair<std::string, std::string>> kafka;
};

// "hostname:pid": unique among the nodes running at one time, readable in
// logs and in the broker's view of the group (it becomes the client.id).
std::string default_node_name();

} // namespace volley
