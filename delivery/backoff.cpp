#include "delivery/backoff.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>
#include <string>

namespace volley {

uint64_t backoff_policy::delay_ms(uint32_t attempts_made, double random01) const {
  auto exponent = std::min<uint32_t>(attempts_made == 0 ? 0 : attempts_made - 1, 62);
  double raw = static_cast<double>(cfg_.base_ms) * std::ldexp(1.0, static_cast<int>(exponent));
  double capped = std::min(raw, static_cast<double>(cfg_.max_ms));
  double jittered = capped * (1.0 + cfg_.jitter * (2.0 * random01 - 1.0));
  jittered = std::clamp(jittered, 1.0, static_cast<double>(cfg_.max_ms));
  return static_cast<uint64_t>(jittered);
}

uint64_t backoff_policy::with_retry_after(uint64_t computed_delay,
                                          std::optional<uint64_t> retry_after_ms) const {
  if (!retry_after_ms)
    return computed_delay;
  return std::clamp<uint64_t>(*retry_after_ms, std::min(computed_delay, cfg_.max_ms), cfg_.max_ms);
}

std::optional<uint64_t> parse_retry_after_ms(std::string_view value, int64_t now_unix_ms) {
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front())))
    value.remove_prefix(1);
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back())))
    value.remove_suffix(1);
  if (value.empty())
    return std::nullopt;
  if (std::all_of(value.begin(), value.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    if (value.size() > 9) // over ~30 years: the caller clamps to max_ms anyway
      return uint64_t{999999999} * 1000;
    return std::stoull(std::string{value}) * 1000;
  }
  // IMF-fixdate, then the obsolete RFC 850 and asctime forms recipients
  // must still accept (RFC 9110, 5.6.7).
  std::string text{value};
  std::tm tm{};
  bool parsed = false;
  for (const char* format :
       {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"}) {
    tm = std::tm{};
    const char* end = strptime(text.c_str(), format, &tm);
    if (end != nullptr && *end == '\0') {
      parsed = true;
      break;
    }
  }
  if (!parsed)
    return std::nullopt;
  int64_t at_ms = static_cast<int64_t>(timegm(&tm)) * 1000;
  return at_ms <= now_unix_ms ? 0 : static_cast<uint64_t>(at_ms - now_unix_ms);
}

} // namespace volley
