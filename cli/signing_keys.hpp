#pragma once
// What `verify` and `receive` check a signature with: --secret options
// turned into HMAC keys (whsec_ secrets are base64-decoded), and the
// --tolerance of the timestamp.

#include <cstdint>
#include <string>
#include <vector>

namespace volley::cli {

class parsed_options;

// The keys of every --secret, in order; empty when none was given. Throws
// usage_error for an empty secret or a whsec_ secret that is not base64.
std::vector<std::string> signing_keys_from_options(const parsed_options& options);

// --tolerance SECONDS (0..10 years), default_timestamp_tolerance_s without it.
int64_t timestamp_tolerance_from_options(const parsed_options& options);

} // namespace volley::cli
