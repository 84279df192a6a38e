#include "signing/webhook_secret.hpp"

#include "signing/signature.hpp"

#include <openssl/err.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace volley {

std::string whsec_secret(std::string_view key) { return "whsec_" + base64_encode(key); }

std::string random_webhook_secret() {
  std::string key(webhook_secret_bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), static_cast<int>(key.size())) != 1)
    throw std::runtime_error(
      "OpenSSL could not generate random bytes for a secret (RAND_bytes: " + std::to_string(ERR_get_error()) +
      "); check that the system's entropy source works");
  return whsec_secret(key);
}

} // namespace volley
