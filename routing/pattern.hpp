#pragma once
// Event-type patterns: `*` matches any run of characters (also none).

#include <string_view>

namespace volley {

bool pattern_matches(std::string_view pattern, std::string_view type);

} // namespace volley
