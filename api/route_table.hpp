#pragma once
// Which handler serves a request: (method, path pattern) -> handler, where a
// pattern segment "{name}" matches any one path segment and binds it. Plain
// logic, no I/O: the server asks it, tests ask it directly.

#include "api/api_request.hpp"
#include "api/responder.hpp"

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace volley {

// Runs on a server thread (several at once when threads > 1): must not block
// and must be safe to call concurrently. Answers through the responder,
// now or later, from any thread.
using api_handler = std::function<void(const api_request&, responder)>;

// Who may call a route when api.token is set: `token` routes need the
// token; `open` ones do not (the dashboard's page and scripts, which hold no
// data: a browser cannot send a bearer token when it opens a page).
enum class route_access { token, open };

struct route_match {
  enum class result { found, no_such_path, method_not_allowed };
  result outcome = result::no_such_path;
  const api_handler* handler = nullptr;      // when found
  route_access access = route_access::token; // when found
  std::map<std::string, std::string> params; // when found: {name} -> segment
  std::vector<std::string> allowed;          // when method_not_allowed: sorted
};

class route_table {
public:
  // `pattern` is a path such as "/v1/subscribers/{name}/test". Throws
  // std::invalid_argument for a malformed pattern, or when the method
  // already has a route of the same shape (it could never be reached).
  void add(std::string method, std::string_view pattern, api_handler handler,
           route_access access = route_access::token);

  // `segments` are the request path's decoded segments (request_target).
  // A literal segment beats a {name} at the first place two patterns differ,
  // so "/v1/dlq/retry" wins over "/v1/dlq/{key}" for the same method.
  route_match match(std::string_view method, const std::vector<std::string>& segments) const;

private:
  struct segment {
    std::string text; // the literal, or the parameter's name
    bool is_param = false;
  };
  struct route {
    std::string method;
    std::vector<segment> segments;
    api_handler handler;
    route_access access = route_access::token;
  };

  static bool path_matches(const route& r, const std::vector<std::string>& segments);
  static bool more_specific(const route& a, const route& b);

  std::vector<route> routes_;
};

} // namespace volley
