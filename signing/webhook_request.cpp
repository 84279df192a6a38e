#include "signing/webhook_request.hpp"

#include "protocol/ingress_line.hpp"
#include "protocol/json_text.hpp"
#include "signing/signature.hpp"

namespace volley {

webhook_signer::webhook_signer(const subscriber_config& cfg)
  : url_(cfg.url), timeout_ms_(cfg.timeout_ms), tls_insecure_(cfg.tls_insecure),
    tls_ca_file_(cfg.tls_ca_file), legacy_header_(cfg.legacy_signature_header) {
  for (const auto& s : cfg.secrets)
    if (auto key = signing_key_from_secret(s)) // the config loader refused bad ones
      keys_.emplace_back(*key);
}

http_request webhook_signer::request_for(const event_payload& p, int64_t now_ms) const {
  auto ts = now_ms / 1000;
  auto ts_text = std::to_string(ts);
  http_request req;
  req.url = url_;
  req.body = p.body;
  req.timeout_ms = timeout_ms_;
  req.tls_insecure = tls_insecure_;
  req.tls_ca_file = tls_ca_file_;
  auto& h = req.headers;
  h.reserve(320 + 3 * p.id.size() + p.type.size() + 60 * keys_.size());
  h.add("Content-Type", "application/json");
  h.add("User-Agent", "volley/" VOLLEY_VERSION);
  h.add("webhook-id", p.id);
  h.add("webhook-timestamp", ts_text);
  h.add("X-Webhook-ID", p.id);
  h.add("X-Webhook-Timestamp", ts_text);
  h.add("X-Event-Type", p.type);
  if (!keys_.empty()) {
    h.add("webhook-signature", standard_signature_header(keys_, p.id, ts, *p.body));
    // The legacy form carries one signature: the first (current) secret's.
    h.add(legacy_header_, legacy_signature(keys_.front(), *p.body));
  }
  return req;
}

event_payload test_event(const std::string& subscriber, int64_t now_ms) {
  event_payload p;
  p.id = "test_" + generate_event_id().substr(4);
  p.type = "volley.test";
  p.created_ms = now_ms;
  std::string data = "{\"test\":true,\"subscriber\":";
  append_json_string(data, subscriber);
  data += '}';
  p.body = std::make_shared<const std::string>(delivery_body(p.id, p.type, now_ms, data));
  return p;
}

} // namespace volley
