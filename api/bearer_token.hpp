#pragma once
// The API's shared secret: "Authorization: Bearer <token>" on every request
// when a token is configured (api.token). Plain logic, no I/O.

#include <optional>
#include <string>
#include <string_view>

namespace volley {

class bearer_token {
public:
  // An empty token means no authentication.
  explicit bearer_token(std::string_view token);

  bool required() const { return required_; }

  // True when no token is required, or `authorization` (the header's value,
  // nullopt when absent) is "Bearer <token>", the scheme in any case. Takes
  // the same time whatever part of the token a guess gets right, and does
  // not reveal the token's length either.
  bool accepts(std::optional<std::string_view> authorization) const;

private:
  bool required_;
  std::string digest_; // MAC of the token: comparing fixed-size digests hides its length
};

} // namespace volley
