#include "api/request_target.hpp"

#include <charconv>

namespace volley {

namespace {

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// "http://host:port/path?q" -> "/path?q"; "http://host" -> "/".
std::string_view strip_scheme_and_authority(std::string_view target) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (!starts_with(target, scheme))
      continue;
    auto rest = target.substr(scheme.size());
    auto start = rest.find_first_of("/?");
    if (start == std::string_view::npos)
      return "/";
    return rest.substr(start);
  }
  return target;
}

} // namespace

std::vector<std::string_view> path_segments(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.size() <= 1)
    return out;
  std::string_view rest = path.substr(1);
  for (;;) {
    auto slash = rest.find('/');
    out.push_back(rest.substr(0, slash));
    if (slash == std::string_view::npos)
      return out;
    rest = rest.substr(slash + 1);
  }
}

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      // Exactly two hex digits (from_chars alone would take "4z" as 4).
      const char* digits = text.data() + i + 1;
      unsigned value = 0;
      if (i + 2 >= text.size() || std::from_chars(digits, digits + 2, value, 16).ptr != digits + 2)
        return std::nullopt;
      out += static_cast<char>(value);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<request_target> parse_request_target(std::string_view target, std::string& error) {
  auto origin = strip_scheme_and_authority(target);
  if (!starts_with(origin, "/") && !starts_with(origin, "?")) {
    error = "the request target must be a path starting with '/'";
    return std::nullopt;
  }
  // A fragment never belongs to a request; drop it as a browser would.
  origin = origin.substr(0, origin.find('#'));
  auto question = origin.find('?');
  request_target out;
  out.path = std::string(origin.substr(0, question));
  if (out.path.empty())
    out.path = "/";

  for (auto raw : path_segments(out.path)) {
    auto decoded = percent_decode(raw, false);
    if (!decoded) {
      error = "malformed percent-encoding in the path (a '%' must be followed by two hex digits)";
      return std::nullopt;
    }
    out.segments.push_back(std::move(*decoded));
  }

  if (question == std::string_view::npos)
    return out;
  std::string_view query = origin.substr(question + 1);
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty())
      continue;
    auto eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq), true);
    auto value =
      percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true);
    if (!key || !value) {
      error = "malformed percent-encoding in the query string (a '%' must be followed by two hex digits)";
      return std::nullopt;
    }
    out.query.emplace(std::move(*key), std::move(*value)); // emplace keeps the first value
  }
  return out;
}

} // namespace volley
