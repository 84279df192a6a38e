#include "routing/pattern.hpp"

namespace volley {

bool pattern_matches(std::string_view pattern, std::string_view type) {
  // Greedy glob with backtracking to the last `*`: linear in practice, no regex.
  size_t p = 0, t = 0;
  size_t star = std::string_view::npos, resume = 0;
  while (t < type.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && pattern[p] == type[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*')
    ++p;
  return p == pattern.size();
}

} // namespace volley
