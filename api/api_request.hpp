#pragma once
// One HTTP request as an API handler sees it: routed, decoded, complete.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace volley {

struct api_request {
  std::string method;                             // as sent: "GET", "POST", ...
  std::string target;                             // the raw request target, e.g. "/v1/stats?hours=2"
  std::string path;                               // the target's path, still percent-encoded
  std::map<std::string, std::string> path_params; // {name} segments, decoded
  std::map<std::string, std::string> query;       // decoded; a repeated key keeps its first value
  std::vector<std::pair<std::string, std::string>> headers; // names lowercased, in order
  std::string body;
  std::string peer; // "address:port" of the client, for logs

  // The first header with this name (any case), or nullopt.
  std::optional<std::string_view> header(std::string_view name) const;
  // A path parameter or query value, or nullopt when absent.
  std::optional<std::string_view> param(std::string_view name) const;
  std::optional<std::string_view> query_value(std::string_view name) const;
};

} // namespace volley
