#pragma once
// The request target of an HTTP request, taken apart: path segments and
// query parameters, percent-decoded. Plain logic, no I/O.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace volley {

struct request_target {
  std::string path;                         // as sent, still percent-encoded
  std::vector<std::string> segments;        // the path split on '/', each decoded
  std::map<std::string, std::string> query; // decoded; a repeated key keeps its first value
};

// Parses an origin-form target ("/a/b?x=1") or an absolute-form one
// ("http://host/a/b?x=1"). On failure returns nullopt and says why in `error`.
std::optional<request_target> parse_request_target(std::string_view target, std::string& error);

// "/a/b%2Fc" -> {"a", "b%2Fc"}; "/" -> {}; "/a/" -> {"a", ""}. Not decoded.
std::vector<std::string_view> path_segments(std::string_view path);

// Decodes %XX escapes; with `plus_is_space` (query strings) '+' is a space.
// nullopt when a '%' is not followed by two hex digits.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

} // namespace volley
