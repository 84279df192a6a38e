#include "api/route_table.hpp"

#include "api/request_target.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>

namespace volley {

namespace {

bool valid_param_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

} // namespace

void route_table::add(std::string method, std::string_view pattern, api_handler handler,
                      route_access access) {
  const std::string where = "route " + method + " " + std::string(pattern) + ": ";
  auto fail = [&where](const std::string& why) { throw std::invalid_argument(where + why); };
  if (method.empty())
    fail("the method is empty");
  if (pattern.empty() || pattern.front() != '/')
    fail("a pattern must start with '/'");
  if (!handler)
    fail("the handler is empty");

  route r;
  r.method = std::move(method);
  r.handler = std::move(handler);
  r.access = access;
  std::set<std::string> names;
  for (auto text : path_segments(pattern)) {
    segment s;
    if (text.size() >= 2 && text.front() == '{' && text.back() == '}') {
      s.is_param = true;
      s.text = std::string(text.substr(1, text.size() - 2));
      if (!valid_param_name(s.text))
        fail("a parameter name is letters, digits and '_' only");
      if (!names.insert(s.text).second)
        fail("the parameter {" + s.text + "} appears twice");
    } else if (text.find_first_of("{}") != std::string_view::npos) {
      fail("a parameter must be a whole segment, as in /items/{id}");
    } else if (text.empty()) {
      fail("empty segment (two '/' in a row, or a trailing '/')");
    } else {
      s.text = std::string(text);
    }
    r.segments.push_back(std::move(s));
  }

  for (const auto& other : routes_) {
    if (other.method != r.method || other.segments.size() != r.segments.size())
      continue;
    bool same_shape = true;
    for (size_t i = 0; i < r.segments.size() && same_shape; ++i) {
      const auto& a = r.segments[i];
      const auto& b = other.segments[i];
      same_shape = a.is_param == b.is_param && (a.is_param || a.text == b.text);
    }
    if (same_shape)
      fail("a route of the same shape is already registered for this method");
  }
  routes_.push_back(std::move(r));
}

bool route_table::path_matches(const route& r, const std::vector<std::string>& segments) {
  if (r.segments.size() != segments.size())
    return false;
  for (size_t i = 0; i < segments.size(); ++i)
    if (!r.segments[i].is_param && r.segments[i].text != segments[i])
      return false;
  return true;
}

bool route_table::more_specific(const route& a, const route& b) {
  for (size_t i = 0; i < a.segments.size() && i < b.segments.size(); ++i)
    if (a.segments[i].is_param != b.segments[i].is_param)
      return !a.segments[i].is_param;
  return false;
}

route_match route_table::match(std::string_view method, const std::vector<std::string>& segments) const {
  route_match out;
  const route* best = nullptr;
  std::set<std::string> allowed;
  for (const auto& r : routes_) {
    if (!path_matches(r, segments))
      continue;
    allowed.insert(r.method);
    if (r.method == method && (!best || more_specific(r, *best)))
      best = &r;
  }
  if (best) {
    out.outcome = route_match::result::found;
    out.handler = &best->handler;
    out.access = best->access;
    for (size_t i = 0; i < segments.size(); ++i)
      if (best->segments[i].is_param)
        out.params.emplace(best->segments[i].text, segments[i]);
  } else if (!allowed.empty()) {
    out.outcome = route_match::result::method_not_allowed;
    out.allowed.assign(allowed.begin(), allowed.end());
  }
  return out;
}

} // namespace volley
