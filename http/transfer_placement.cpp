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

transfer_placement::transfer_placement(size_t per_multi, size_t max_multis, size_t max_idle_origins)
  : per_multi_(std::max<size_t>(per_multi, 1)), running_(std::max<size_t>(max_multis, 1), 0),
    homed_(running_.size(), 0), max_idle_(max_idle_origins) {}

// The nth home of an origin: after its first, the others follow at a
// stride (from its hash) that visits every handle before any twice.
size_t transfer_placement::home(uint64_t key, const origin_homes& o, size_t nth) const {
  auto n = running_.size();
  auto stride = n > 1 ? 1 + (key >> 32) % (n - 1) : 1;
  while (std::gcd(stride, n) != 1) // co-prime with n: a full cycle
    ++stride;
  return (o.first + nth * stride) % n;
}

// The handle fewest origins call home, the least busy of those; looked for
// from the one the origin's hash names, so a lone origin's home does not
// depend on what came before it.
size_t transfer_placement::least_homed(uint64_t key) const {
  auto n = running_.size();
  size_t best = key % n;
  for (size_t i = 1; i < n; ++i) {
    auto m = (key + i) % n;
    if (homed_[m] < homed_[best] || (homed_[m] == homed_[best] && running_[m] < running_[best]))
      best = m;
  }
  return best;
}

bool transfer_placement::idle(const origin_homes& o) {
  return std::all_of(o.counts.begin(), o.counts.end(), [](size_t n) { return n == 0; });
}

transfer_placement::spot transfer_placement::place(std::string_view origin) {
  auto key = std::hash<std::string_view>{}(origin);
  auto [it, first_seen] = origins_.try_emplace(key);
  auto& o = it->second;
  if (first_seen) {
    o.first = least_homed(key);
    ++homed_[o.first];
  } else if (idle(o)) {
    idle_.erase(o.idle_at);
  }
  auto& counts = o.counts;
  size_t nth = 0;
  while (nth < counts.size() && counts[nth] >= per_home())
    ++nth;
  // Every handle full with this origin alone (it runs more than the
  // engine's whole share): its least busy home.
  if (nth >= running_.size())
    nth = static_cast<size_t>(std::min_element(counts.begin(), counts.end()) - counts.begin());
  if (nth == counts.size())
    counts.push_back(0);
  ++counts[nth];
  auto multi = home(key, o, nth);
  ++running_[multi];
  return {multi, key, nth};
}

void transfer_placement::release(const spot& s) {
  --running_[s.multi];
  auto it = origins_.find(s.origin);
  if (it == origins_.end() || s.home >= it->second.counts.size())
    return;
  auto& o = it->second;
  --o.counts[s.home];
  if (!idle(o))
    return;
  o.idle_at = idle_.insert(idle_.end(), s.origin);
  while (idle_.size() > max_idle_) {
    auto oldest = origins_.find(idle_.front());
    --homed_[oldest->second.first];
    origins_.erase(oldest);
    idle_.pop_front();
  }
}

} // namespace volley
