#include "http/transfer_placement.hpp"

#include <algorithm>
#include <functional>

namespace volley {

std::string_view origin_of(std::string_view url) {
  auto scheme = url.find("://");
  auto from = scheme == std::string_view::npos ? 0 : scheme + 3;
  auto end = url.find_first_of("/?#", from);
  return url.substr(0, end);
}

transfer_placement::transfer_placement(size_t per_multi, size_t max_multis)
  : per_multi_(std::max<size_t>(per_multi, 1)), max_multis_(std::max<size_t>(max_multis, 1)) {}

size_t transfer_placement::place(std::string_view origin) {
  auto& used = origins_[std::hash<std::string_view>{}(origin)];
  // Where this origin's connections are: the first with room.
  for (auto m : used)
    if (running_[m] < per_multi_) {
      ++running_[m];
      return m;
    }
  // Elsewhere: the least busy handle with room, or a new one. A walk over
  // the handles (per_multi transfers each), not over the transfers.
  size_t best = running_.size();
  for (size_t m = 0; m < running_.size(); ++m)
    if (running_[m] < per_multi_ && (best == running_.size() || running_[m] < running_[best]))
      best = m;
  // A new handle only when the open ones are half full: fewer handles
  // keep an origin's connections together.
  if ((best == running_.size() || running_[best] >= per_multi_ / 2) &&
      running_.size() < max_multis_)
    best = running_.size();
  if (best == running_.size() && running_.size() >= max_multis_) // misuse: all full
    best = static_cast<size_t>(std::min_element(running_.begin(), running_.end()) - running_.begin());
  if (best == running_.size())
    running_.push_back(0);
  ++running_[best];
  if (std::find(used.begin(), used.end(), best) == used.end())
    used.push_back(best);
  return best;
}

} // namespace volley
