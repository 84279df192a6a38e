#include "delivery/token_bucket.hpp"

#include <algorithm>
#include <cmath>

namespace volley {

token_bucket::token_bucket(double rate_per_s)
  : rate_per_ms_(rate_per_s / 1000.0), capacity_(std::max(1.0, rate_per_s)), tokens_(capacity_) {}

void token_bucket::refill(int64_t now_ms) {
  if (last_ms_ == 0 || now_ms < last_ms_) {
    last_ms_ = now_ms;
    return;
  }
  tokens_ = std::min(capacity_, tokens_ + static_cast<double>(now_ms - last_ms_) * rate_per_ms_);
  last_ms_ = now_ms;
}

bool token_bucket::ready(int64_t now_ms) {
  if (!limited())
    return true;
  refill(now_ms);
  return tokens_ >= 1.0;
}

int64_t token_bucket::next_token_ms(int64_t now_ms) const {
  if (!limited() || tokens_ >= 1.0)
    return now_ms;
  return now_ms + static_cast<int64_t>(std::ceil((1.0 - tokens_) / rate_per_ms_));
}

} // namespace volley
