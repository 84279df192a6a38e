#pragma once
// How often a text (a daemon's log, usually) holds a string: tests that a
// line is written once, not twice, count it.

#include <cstddef>
#include <string>

namespace volley::test {

inline size_t occurrences(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
    ++n;
  return n;
}

} // namespace volley::test
