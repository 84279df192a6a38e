#pragma once
// `volley stats` for people: the answer to {"op":"stats"} as three tables —
// the node and each subscriber over the health window, the same over every
// window (1m, 1h, 24h, --hours, since start), and the event types.

#include <optional>
#include <string>
#include <string_view>

namespace volley::cli {

// `reply` is an {"ok":true,...} stats answer; nullopt when it has no "node"
// object (the caller then prints it generically).
std::optional<std::string> render_stats_tables(std::string_view reply);

} // namespace volley::cli
