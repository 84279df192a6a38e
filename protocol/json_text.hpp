#pragma once
// Small JSON writing helpers for the hot path (acks, delivery bodies), where
// building a DOM per line would cost more than the work itself.

#include <string>
#include <string_view>
#include <vector>

namespace volley {

// Appends `text` as a quoted JSON string, escaping what JSON requires.
void append_json_string(std::string& out, std::string_view text);

// ["a","b"]: a JSON array of strings.
std::string json_string_array(const std::vector<std::string>& items);

// [1,2,3]: a JSON array of integers (counts by priority and the like).
template <class Container>
std::string json_integer_array(const Container& items) {
  std::string out = "[";
  for (const auto& n : items) {
    if (out.size() > 1)
      out += ',';
    out += std::to_string(n);
  }
  return out + "]";
}

// Well-formed UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF.
bool valid_utf8(std::string_view text);

} // namespace volley
