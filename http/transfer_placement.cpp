#include "http/transfer_placement.hpp"

#include <algorithm>
#include <functional>
#include <numeric>

namespace volley {

std::string_view origin_of(std::string_view url) {
  auto scheme = url.find("://");
  auto from = scheme == std::string_view::npos ? 0 : scheme + 3;
  auto end = url.find_first_of("/?#", from);
  return url.substr(0, end);
}

transfer_placement::transfer_placement(size_t per_multi, size_t max_multis)
  : per_multi_(std::max<size_t>(per_multi, 1)), running_(std::max<size_t>(max_multis, 1), 0) {}

// The nth home of an origin: its hash picks the first, the others follow
// at a stride that visits every handle before any twice.
size_t transfer_placement::home(uint64_t key, size_t nth) const {
  auto n = running_.size();
  auto stride = n > 1 ? 1 + (key >> 32) % (n - 1) : 1;
  while (std::gcd(stride, n) != 1) // co-prime with n: a full cycle
    ++stride;
  return (key % n + nth * stride) % n;
}

transfer_placement::spot transfer_placement::place(std::string_view origin) {
  auto key = std::hash<std::string_view>{}(origin);
  auto& homes = origins_[key];
  size_t nth = 0;
  while (nth < homes.size() && homes[nth] >= per_home())
    ++nth;
  // Every handle full with this origin alone (it runs more than the
  // engine's whole share): its least busy home.
  if (nth >= running_.size())
    nth = static_cast<size_t>(std::min_element(homes.begin(), homes.end()) - homes.begin());
  if (nth == homes.size())
    homes.push_back(0);
  ++homes[nth];
  auto multi = home(key, nth);
  ++running_[multi];
  return {multi, key, nth};
}

void transfer_placement::release(const spot& s) {
  --running_[s.multi];
  if (auto it = origins_.find(s.origin); it != origins_.end() && s.home < it->second.size())
    --it->second[s.home];
}

} // namespace volley
