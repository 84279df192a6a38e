#pragma once
// What an API handler answers: status, body, content type, extra headers.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace volley {

struct api_response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers; // e.g. Retry-After, Location

  static api_response json(int status, std::string body);
  // {"error": message}, the shape of every API error.
  static api_response error(int status, std::string_view message);
};

} // namespace volley
