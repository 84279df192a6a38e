#pragma once
// The rule for a subscriber's `legacy_signature_header`: an HTTP header name
// (RFC 9110 token) that is not one of the headers every delivery already
// carries. Used by the config loader and the API's subscriber validation.

#include <optional>
#include <string>
#include <string_view>

namespace volley {

// Why `name` cannot carry the legacy signature, if it cannot.
std::optional<std::string> signature_header_problem(std::string_view name);

} // namespace volley
