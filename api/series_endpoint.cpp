#include "api/series_endpoint.hpp"

#include "protocol/fields.hpp"
#include "time/timestamp.hpp"

namespace volley {

namespace {

std::string point_json(const series_point& p) {
  fields f;
  f.text("start", format_rfc3339_ms(p.start_ms))
    .integer("attempts", static_cast<int64_t>(p.attempts))
    .integer("successes", static_cast<int64_t>(p.successes))
    .integer("failures", static_cast<int64_t>(p.failures))
    .integer("delivered", static_cast<int64_t>(p.delivered))
    .integer("dead_lettered", static_cast<int64_t>(p.dead_lettered));
  if (auto rate = p.success_rate())
    f.number("success_rate", *rate);
  else
    f.json("success_rate", "null");
  if (p.timed > 0)
    f.number("p50_ms", p.p50_ms).number("p99_ms", p.p99_ms);
  else
    f.json("p50_ms", "null").json("p99_ms", "null");
  return f.json_object();
}

std::string points_json(const std::vector<series_point>& points) {
  std::string out = "[";
  for (const auto& p : points)
    out += (out.size() > 1 ? "," : "") + point_json(p);
  return out + "]";
}

} // namespace

series_query read_series_query(const api_request& request) {
  series_query out;
  for (const auto& [name, value] : request.query)
    if (name != "window") {
      out.refused = api_response::error(400, "unknown query parameter \"" + name +
                                               "\" for /v1/stats/series (it takes: window)");
      return out;
    }
  if (auto text = request.query_value("window")) {
    auto window = parse_series_window(*text);
    if (!window) {
      out.refused =
        api_response::error(400, "query parameter \"window\" must be one of " + known_series_windows() +
                                   ", got \"" + std::string(text->substr(0, 100)) + "\"");
      return out;
    }
    out.window = *window;
  }
  return out;
}

std::string series_json(const stats_series& series) {
  fields node;
  node.json("points", points_json(series.node));
  std::string subscribers = "[";
  for (const auto& s : series.subscribers) {
    fields f;
    f.text("subscriber", s.name).json("points", points_json(s.points));
    subscribers += (subscribers.size() > 1 ? "," : "") + f.json_object();
  }
  fields out;
  out.boolean("ok", true)
    .text("window", to_string(series.window))
    .integer("window_s", static_cast<int64_t>(series.window_ms / 1000))
    .integer("slot_s", static_cast<int64_t>(series.slot_ms / 1000))
    .text("now", format_rfc3339_ms(series.now_ms))
    .json("node", node.json_object())
    .json("subscribers", subscribers + "]");
  return out.json_object();
}

} // namespace volley
