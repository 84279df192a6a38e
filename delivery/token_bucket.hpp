#pragma once
// Per-subscriber rate limit: a token bucket refilled at `rate_per_s`, holding
// at most one second's worth. Rate 0 means unlimited. Time is passed in.

#include <cstdint>

namespace volley {

class token_bucket {
public:
  explicit token_bucket(double rate_per_s = 0);

  // Whether a request may start now; take() then spends the token.
  bool ready(int64_t now_ms);
  void take() { tokens_ -= 1; }

  // When the next token is there (now when one is).
  int64_t next_token_ms(int64_t now_ms) const;

  bool limited() const { return rate_per_ms_ > 0; }

private:
  void refill(int64_t now_ms);

  double rate_per_ms_;
  double capacity_;
  double tokens_;
  int64_t last_ms_ = 0;
};

} // namespace volley
