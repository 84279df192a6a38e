#include "protocol/fields.hpp"

#include "protocol/json_text.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace volley {

bool fields::has(std::string_view key) const {
  for (const auto& f : items_)
    if (f.key == key)
      return true;
  return false;
}

fields& fields::flag(std::string_view key) {
  items_.push_back({std::string{key}, "true", false, true});
  return *this;
}

fields& fields::text(std::string_view key, std::string_view value) {
  items_.push_back({std::string{key}, std::string{value}, true});
  return *this;
}

fields& fields::number(std::string_view key, double value, int decimals) {
  char buf[64];
  if (!std::isfinite(value))
    value = 0;
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, value);
  // Trim trailing zeros so rates read "99.75", "100", "2.1".
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0')
      s.pop_back();
    if (s.back() == '.')
      s.pop_back();
  }
  items_.push_back({std::string{key}, std::move(s), false});
  return *this;
}

fields& fields::integer(std::string_view key, int64_t value) {
  items_.push_back({std::string{key}, std::to_string(value), false});
  return *this;
}

fields& fields::boolean(std::string_view key, bool value) {
  items_.push_back({std::string{key}, value ? "true" : "false", false});
  return *this;
}

fields& fields::json(std::string_view key, std::string json_value) {
  items_.push_back({std::string{key}, std::move(json_value), false});
  return *this;
}

std::string fields::logfmt() const {
  std::string out;
  for (const auto& f : items_) {
    if (!out.empty())
      out += ' ';
    out += f.key;
    if (f.bare)
      continue;
    out += '=';
    // Quoted (and escaped) whenever a reader could mis-split the line.
    bool needs_quotes = f.value.empty() || std::any_of(f.value.begin(), f.value.end(), [](char c) {
                          return static_cast<unsigned char>(c) < 0x21 || c == '"' || c == '=' || c == '\\';
                        });
    if (needs_quotes)
      append_json_string(out, f.value);
    else
      out += f.value;
  }
  return out;
}

std::string fields::json_object() const {
  std::string out = "{";
  for (const auto& f : items_) {
    if (out.size() > 1)
      out += ',';
    append_json_string(out, f.key);
    out += ':';
    if (f.quoted_in_json)
      append_json_string(out, f.value);
    else
      out += f.value;
  }
  out += '}';
  return out;
}

} // namespace volley
