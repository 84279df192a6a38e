#include "routing/filter_index.hpp"

#include "routing/pattern.hpp"

#include <algorithm>

namespace volley {

void filter_index::add(size_t id, const std::vector<std::string>& patterns) {
  targets_ = std::max(targets_, id + 1);
  if (patterns.empty()) {
    match_all_.push_back(id);
    return;
  }
  for (const auto& p : patterns) {
    auto star = p.find('*');
    if (star == std::string::npos) {
      exact_[p].push_back(id);
      continue;
    }
    by_prefix_[p.substr(0, star)].push_back({p, id});
    if (std::find(prefix_lengths_.begin(), prefix_lengths_.end(), star) == prefix_lengths_.end()) {
      prefix_lengths_.push_back(star);
      std::sort(prefix_lengths_.begin(), prefix_lengths_.end());
    }
  }
}

void filter_index::match(std::string_view type, std::vector<size_t>& out) const {
  auto first = out.size();
  out.insert(out.end(), match_all_.begin(), match_all_.end());
  if (!exact_.empty())
    if (auto i = exact_.find(std::string{type}); i != exact_.end())
      out.insert(out.end(), i->second.begin(), i->second.end());
  for (auto len : prefix_lengths_) {
    if (len > type.size())
      break;
    auto i = by_prefix_.find(std::string{type.substr(0, len)});
    if (i == by_prefix_.end())
      continue;
    for (const auto& w : i->second)
      if (pattern_matches(w.pattern, type))
        out.push_back(w.id);
  }
  std::sort(out.begin() + first, out.end());
  out.erase(std::unique(out.begin() + first, out.end()), out.end());
}

} // namespace volley
