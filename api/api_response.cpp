#include "api/api_response.hpp"

#include "protocol/json_text.hpp"

namespace volley {

api_response api_response::json(int status, std::string body) {
  api_response response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

api_response api_response::error(int status, std::string_view message) {
  std::string body = "{\"error\":";
  append_json_string(body, message);
  body += "}";
  return json(status, std::move(body));
}

} // namespace volley
