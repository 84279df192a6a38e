#pragma once
// The outcome rules (docs/ARCHITECTURE.md): what one HTTP attempt means for its delivery.

#include <string>

namespace volley {

struct attempt_result {
  int status = 0; // HTTP status; 0 when no response arrived
  bool timed_out = false;
  std::string error; // transport error text when status == 0
  // The SSRF guard refused the resolved address: nothing was sent. A
  // configuration error (allow_private_networks, the URL), not a transient one.
  bool address_refused = false;
  // No socket could be opened here (the open-file limit, most often):
  // nothing was sent, and the endpoint is not to blame. Retried without
  // counting an attempt.
  bool no_socket = false;
  std::string retry_after; // the Retry-After header value, if any
  double latency_ms = 0;

  // The request never left this node: it says nothing about the endpoint.
  bool nothing_sent() const { return address_refused || no_socket; }
};

enum class verdict {
  delivered,   // 2xx
  retry,       // 408, 425, 429, 5xx, timeout, connection error
  gone,        // 410: disable the subscriber, keep its deliveries
  dead_letter, // any other 3xx/4xx, an address the SSRF guard refuses: not retryable
};

struct outcome {
  verdict what;
  std::string reason; // "HTTP 503", "timeout", "connection refused: ..."
};

outcome classify(const attempt_result& result);

// Whether a Retry-After header on this status is honoured: every retryable
// status (408, 425, 429, 5xx).
bool honours_retry_after(int status);

} // namespace volley
