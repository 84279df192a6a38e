#pragma once
// Builds volleyd config files for tests: loopback only, a temp data dir,
// short backoff (unless a subscriber's `extra` sets one) and monitor intervals.

#include <string>
#include <vector>

namespace volley::test {

struct test_subscriber {
  std::string name;
  std::string url;
  std::vector<std::string> events;
  std::string secret;
  std::string extra; // more JSON members, e.g. "\"max_in_flight\": 4"
};

struct test_node {
  uint16_t port = 0;
  std::string data_dir;
  std::vector<test_subscriber> subscribers;
  std::string extra;         // more top-level JSON members
  std::string storage_extra; // more "storage" members, e.g. "\"batch_max\": 16"
  std::string monitor_extra; // more "monitor" members, e.g. "\"snapshot_interval_ms\": 200"
  bool api = false;          // serve the HTTP API, on any free port
  std::string api_extra;     // more "api" members, e.g. "\"token\": \"t\""
};

std::string node_config_json(const test_node& node);

} // namespace volley::test
