#pragma once
// New signing secrets, in the form subscribers' configs and receivers take:
// "whsec_" + base64 of 32 random bytes (the key length of HMAC-SHA256).

#include <cstddef>
#include <string>
#include <string_view>

namespace volley {

constexpr size_t webhook_secret_bytes = 32;

// "whsec_<base64 of key>": what signing_key_from_secret() decodes back to `key`.
std::string whsec_secret(std::string_view key);

// A fresh secret from OpenSSL's RAND_bytes; throws std::runtime_error when
// the generator cannot give enough randomness.
std::string random_webhook_secret();

} // namespace volley
