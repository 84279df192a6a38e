#include "api/media_type.hpp"

#include <cctype>

namespace volley {

std::string media_type(std::string_view content_type) {
  auto type = content_type.substr(0, content_type.find(';'));
  auto first = type.find_first_not_of(" \t");
  if (first == std::string_view::npos)
    return "";
  type = type.substr(first, type.find_last_not_of(" \t") - first + 1);
  std::string out;
  for (char c : type)
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

} // namespace volley
