#pragma once
// Turns --secret options into HMAC keys (whsec_ secrets are base64-decoded).

#include <string>
#include <vector>

namespace volley::cli {

class parsed_options;

// The keys of every --secret, in order; empty when none was given. Throws
// usage_error for an empty secret or a whsec_ secret that is not base64.
std::vector<std::string> signing_keys_from_options(const parsed_options& options);

} // namespace volley::cli
