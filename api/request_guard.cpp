#include "api/request_guard.hpp"

#include <algorithm>
#include <cctype>

namespace volley {

namespace {

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// The Origin of a page served from this Host: the API's own dashboard.
bool same_origin(std::string_view origin, std::optional<std::string_view> host) {
  if (!host || host->empty())
    return false;
  const auto o = lowercase(origin);
  const auto h = lowercase(*host);
  return o == "http://" + h || o == "https://" + h;
}

// An IP literal (v4 digits and dots, or [v6]) or localhost, port aside.
bool local_or_literal(std::string_view host) {
  if (!host.empty() && host.front() == '[')
    return host.find(']') != std::string_view::npos;
  host = host.substr(0, host.find(':'));
  const auto lower = lowercase(host);
  if (lower == "localhost" || lower == "localhost.")
    return true;
  return !lower.empty() && lower.find_first_not_of("0123456789.") == std::string::npos;
}

} // namespace

std::optional<api_response> refuse_browser_request(const api_request& request, bool token_set) {
  auto host = request.header("host");
  if (auto origin = request.header("origin"); origin && !same_origin(*origin, host))
    return api_response::error(403, "requests from other web pages (an Origin header that is not "
                                    "this API's own) are refused: call the API from a program "
                                    "such as curl, or use the dashboard it serves at /");
  if (!token_set && host && !local_or_literal(*host))
    return api_response::error(403, "Host \"" + std::string(host->substr(0, 100)) +
                                      "\" refused: without api.token the API answers only "
                                      "requests addressed to an IP address or localhost; set "
                                      "api.token to reach it by a host name");
  return std::nullopt;
}

} // namespace volley
