#pragma once
// The signed HTTP request of one delivery attempt, as the delivery
// contract (docs/ARCHITECTURE.md) has it: the event's body (the same bytes on every attempt), the
// Standard Webhooks headers (one v1 signature per secret), the legacy
// headers (the first secret's signature, under the subscriber's
// legacy_signature_header) and the event type.

#include "config/config.hpp"
#include "delivery/delivery.hpp"
#include "http/http_request.hpp"
#include "signing/signature.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace volley {

class webhook_signer {
public:
  explicit webhook_signer(const subscriber_config& cfg);

  // The request for an attempt made at `now_ms` (its webhook-timestamp).
  http_request request_for(const event_payload& event, int64_t now_ms) const;

private:
  std::string url_;
  uint64_t timeout_ms_ = 0;
  bool tls_insecure_ = false;
  std::string tls_ca_file_;
  std::vector<hmac_key> keys_; // from the secrets, current first
  std::string legacy_header_;
};

// The `volley.test` event an operator's `test` op sends to a subscriber.
event_payload test_event(const std::string& subscriber, int64_t now_ms);

} // namespace volley
