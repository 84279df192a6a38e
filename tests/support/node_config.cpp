#include "tests/support/node_config.hpp"

namespace volley::test {

std::string node_config_json(const test_node& node) {
  std::string out = "{\n  \"ingress\": {\"host\": \"127.0.0.1\", \"port\": " + std::to_string(node.port) +
                    "},\n  \"storage\": {\"path\": \"" + node.data_dir + "\", \"map_size_mb\": 512" +
                    (node.storage_extra.empty() ? "" : ", " + node.storage_extra) +
                    "},\n  \"monitor\": {\"interval_ms\": 1000" +
                    (node.monitor_extra.empty() ? "" : ", " + node.monitor_extra) +
                    "},\n"
                    "  \"allow_private_networks\": true,\n";
  if (node.api)
    out += "  \"api\": {\"port\": 0" + (node.api_extra.empty() ? "" : ", " + node.api_extra) + "},\n";
  if (!node.extra.empty())
    out += "  " + node.extra + ",\n";
  out += "  \"subscribers\": [";
  bool first = true;
  for (const auto& s : node.subscribers) {
    out += first ? "\n" : ",\n";
    first = false;
    out += "    {\"name\": \"" + s.name + "\", \"url\": \"" + s.url + "\", \"events\": [";
    for (size_t i = 0; i < s.events.size(); ++i)
      out += (i ? ", \"" : "\"") + s.events[i] + "\"";
    out += "]";
    if (!s.secret.empty())
      out += ", \"secret\": \"" + s.secret + "\"";
    // Quick retries unless the test sets its own (a repeated key is refused).
    if (s.extra.find("\"backoff\"") == std::string::npos)
      out += ", \"backoff\": {\"base_ms\": 50, \"max_ms\": 500}";
    if (!s.extra.empty())
      out += ", " + s.extra;
    out += "}";
  }
  out += "\n  ]\n}\n";
  return out;
}

} // namespace volley::test
