#include "delivery/outcome.hpp"

namespace volley {

outcome classify(const attempt_result& r) {
  if (r.status == 0) {
    if (r.address_refused)
      return {verdict::dead_letter, r.error.empty() ? "address refused by the SSRF guard" : r.error};
    if (r.timed_out)
      return {verdict::retry, "timeout"};
    return {verdict::retry, r.error.empty() ? "connection error" : r.error};
  }
  auto reason = "HTTP " + std::to_string(r.status);
  if (r.status >= 200 && r.status < 300)
    return {verdict::delivered, std::move(reason)};
  if (r.status == 408 || r.status == 425 || r.status == 429 || r.status >= 500)
    return {verdict::retry, std::move(reason)};
  if (r.status == 410)
    return {verdict::gone, std::move(reason)};
  // 1xx cannot end a request; treat it like the other unexpected answers.
  return {verdict::dead_letter, std::move(reason)};
}

bool honours_retry_after(int status) {
  // docs/ARCHITECTURE.md, outcome rules: every retryable answer may say when to come back.
  return status == 408 || status == 425 || status == 429 || status >= 500;
}

} // namespace volley
