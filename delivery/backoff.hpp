#pragma once
// Exponential backoff: base_ms * 2^(attempt-1), jittered, capped at max_ms.
// Randomness is passed in, so tests are deterministic.

#include "config/config.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace volley {

class backoff_policy {
public:
  explicit backoff_policy(backoff_config cfg) : cfg_(cfg) {}

  // Delay after the `attempts_made`-th failed attempt (1 for the first).
  // `random01` in [0, 1) picks the jitter.
  uint64_t delay_ms(uint32_t attempts_made, double random01) const;

  // The delay to wait when the server sent Retry-After: its value clamped to
  // [computed_delay, max_ms]; the computed delay when it is absent or invalid.
  uint64_t with_retry_after(uint64_t computed_delay, std::optional<uint64_t> retry_after_ms) const;

  const backoff_config& config() const { return cfg_; }

private:
  backoff_config cfg_;
};

// Parses Retry-After: delta-seconds or an HTTP-date (IMF-fixdate), relative
// to `now_unix_ms`. nullopt when it is neither.
std::optional<uint64_t> parse_retry_after_ms(std::string_view value, int64_t now_unix_ms);

} // namespace volley
