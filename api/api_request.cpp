#include "api/api_request.hpp"

#include <algorithm>
#include <cctype>

namespace volley {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::optional<std::string_view> lookup(const std::map<std::string, std::string>& values,
                                       std::string_view name) {
  auto it = values.find(std::string(name));
  if (it == values.end())
    return std::nullopt;
  return std::string_view(it->second);
}

} // namespace

std::optional<std::string_view> api_request::header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (iequals(key, name))
      return std::string_view(value);
  return std::nullopt;
}

std::optional<std::string_view> api_request::param(std::string_view name) const {
  return lookup(path_params, name);
}

std::optional<std::string_view> api_request::query_value(std::string_view name) const {
  return lookup(query, name);
}

} // namespace volley
