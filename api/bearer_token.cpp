#include "api/bearer_token.hpp"

#include "signing/signature.hpp"

#include <algorithm>
#include <cctype>

namespace volley {

namespace {

// The key need not be secret: the MAC only maps tokens of any length to
// equal-size digests, which constant_time_equal then compares.
constexpr std::string_view digest_key = "volley api bearer token";

} // namespace

bearer_token::bearer_token(std::string_view token)
  : required_(!token.empty()), digest_(hmac_sha256(digest_key, token)) {}

bool bearer_token::accepts(std::optional<std::string_view> authorization) const {
  if (!required_)
    return true;
  if (!authorization)
    return false;
  constexpr std::string_view scheme = "bearer";
  auto value = *authorization;
  if (value.size() <= scheme.size() || value[scheme.size()] != ' ')
    return false;
  for (size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(value[i])) != scheme[i])
      return false;
  auto given = value.substr(scheme.size());
  given.remove_prefix(std::min(given.find_first_not_of(' '), given.size()));
  return constant_time_equal(hmac_sha256(digest_key, given), digest_);
}

} // namespace volley
