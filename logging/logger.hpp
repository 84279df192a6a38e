#pragma once
// Volley's log: one line per record on stderr, "<RFC 3339 UTC> <level> <text>",
// or in the json format one JSON object per line, {"time":…,"level":…,…},
// for log shippers and `jq`. CAF's own log macros are compiled out in
// Debian's build, so this is ours.

#include <string_view>

namespace volley {

enum class log_level { debug = 0, info = 1, warn = 2, error = 3 };

// Parses "debug" | "info" | "warn" | "error"; false when unknown.
bool parse_log_level(std::string_view text, log_level& out);

enum class log_format { text, json };

void set_log_level(log_level level);
bool log_enabled(log_level level);
// Set once at start (config monitor.format), before other threads log.
void set_log_format(log_format format);
log_format current_log_format();

// json format: {"time":…,"level":…,"message":"<text>"}.
void log_line(log_level level, std::string_view text);
// A record that is already a JSON object (`{"k":v,…}`, the monitor's lines):
// in the json format its members follow time and level in the line's
// object; in the text format it is written as it is.
void log_object(log_level level, std::string_view json_object);

inline void log_debug(std::string_view text) {
  if (log_enabled(log_level::debug))
    log_line(log_level::debug, text);
}
inline void log_info(std::string_view text) { log_line(log_level::info, text); }
inline void log_warn(std::string_view text) { log_line(log_level::warn, text); }
inline void log_error(std::string_view text) { log_line(log_level::error, text); }

} // namespace volley
