#include "signing/legacy_signature_header.hpp"

#include <algorithm>
#include <cctype>

namespace volley {

namespace {

// The headers request_for (signing/webhook_request) writes besides the
// legacy signature.
constexpr std::string_view fixed_headers[] = {
  "Content-Type", "User-Agent",          "webhook-id",   "webhook-timestamp", "webhook-signature",
  "X-Webhook-ID", "X-Webhook-Timestamp", "X-Event-Type", "Content-Length",    "Host"};

bool token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view{"!#$%&'*+-.^_`|~"}.find(c) != std::string_view::npos;
}

bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

} // namespace

std::optional<std::string> signature_header_problem(std::string_view name) {
  if (name.empty())
    return std::string{"must be an HTTP header name, got an empty string"};
  if (!std::all_of(name.begin(), name.end(), token_char))
    return "must be an HTTP header name (letters, digits and !#$%&'*+-.^_`|~), got \"" + std::string{name} +
           "\"; e.g. X-Hub-Signature-256";
  for (auto fixed : fixed_headers)
    if (same_name(name, fixed))
      return "must not be \"" + std::string{fixed} +
             "\": every delivery sets that header already; e.g. X-Webhook-Signature-256";
  return std::nullopt;
}

} // namespace volley
