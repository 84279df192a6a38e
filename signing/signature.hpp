#pragma once
// Webhook signatures: Standard Webhooks (`webhook-signature: v1,<base64>`
// over "{id}.{timestamp}.{body}") and the legacy `X-Webhook-Signature:
// sha256=<hex>` over the body. Plain functions over OpenSSL, no CAF.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace volley {

// "whsec_<base64>" gives the decoded bytes; any other secret its raw bytes.
// Returns nullopt only for a "whsec_" secret whose base64 is invalid.
std::optional<std::string> signing_key_from_secret(std::string_view secret);

std::string hmac_sha256(std::string_view key, std::string_view message); // 32 raw bytes
std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);
std::string hex_encode(std::string_view bytes); // lowercase

// "v1,<base64>" for one key.
std::string standard_signature(std::string_view key, std::string_view id, int64_t timestamp,
                               std::string_view body);

// Space-separated "v1,..." entries, one per key (secret rotation).
std::string standard_signature_header(const std::vector<std::string>& keys, std::string_view id,
                                      int64_t timestamp, std::string_view body);

// "sha256=<hex>" for one key.
std::string legacy_signature(std::string_view key, std::string_view body);

// True when any space-separated "v1,..." entry of `header` matches any key.
// Constant-time comparison of the signature bytes.
bool verify_standard_signature(std::string_view header, const std::vector<std::string>& keys,
                               std::string_view id, int64_t timestamp, std::string_view body);

// True when "sha256=<hex>" matches the body under any key (constant time).
bool verify_legacy_signature(std::string_view header, const std::vector<std::string>& keys,
                             std::string_view body);

bool constant_time_equal(std::string_view a, std::string_view b);

} // namespace volley
