#include "api/request_guard.hpp"

#include <algorithm>
#include <cctype>

namespace volley {

namespace {

// An IP literal (v4 digits and dots, or [v6]) or localhost, port aside.
bool local_or_literal(std::string_view host) {
  if (!host.empty() && host.front() == '[')
    return host.find(']') != std::string_view::npos;
  host = host.substr(0, host.find(':'));
  std::string lower(host);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "localhost" || lower == "localhost.")
    return true;
  return !lower.empty() && lower.find_first_not_of("0123456789.") == std::string::npos;
}

} // namespace

std::optional<api_response> refuse_browser_request(const api_request& request, bool token_set) {
  if (request.header("origin"))
    return api_response::error(403, "requests from web pages (with an Origin header) are refused: "
                                    "call the API from a program such as curl");
  auto host = request.header("host");
  if (!token_set && host && !local_or_literal(*host))
    return api_response::error(403, "Host \"" + std::string(host->substr(0, 100)) +
                                        "\" refused: without api.token the API answers only "
                                        "requests addressed to an IP address or localhost; set "
                                        "api.token to reach it by a host name");
  return std::nullopt;
}

} // namespace volley
