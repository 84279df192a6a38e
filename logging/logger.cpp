#include "logging/logger.hpp"

#include "protocol/json_text.hpp"
#include "time/timestamp.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>

namespace volley {

namespace {

std::atomic<int> current_level{static_cast<int>(log_level::info)};
std::atomic<int> current_format{static_cast<int>(log_format::text)};
std::mutex output_mutex;

const char* level_name(log_level level) {
  switch (level) {
    case log_level::debug:
      return "debug";
    case log_level::info:
      return "info";
    case log_level::warn:
      return "warn";
    case log_level::error:
      return "error";
  }
  return "info";
}

// `{"time":"…","level":"…",` in the json format, `<time> <level> ` in text.
std::string line_start(log_level level) {
  auto time = format_rfc3339_ms(unix_ms_now());
  std::string line;
  if (current_log_format() == log_format::json) {
    line = "{\"time\":\"" + time + "\",\"level\":\"" + level_name(level) + "\",";
  } else {
    line = time;
    line += ' ';
    line += level_name(level);
    line += ' ';
  }
  return line;
}

void write_line(std::string& line) {
  line += '\n';
  // One write per line under a lock, so lines from threads never interleave.
  std::lock_guard<std::mutex> guard{output_mutex};
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

} // namespace

bool parse_log_level(std::string_view text, log_level& out) {
  for (auto level : {log_level::debug, log_level::info, log_level::warn, log_level::error})
    if (text == level_name(level)) {
      out = level;
      return true;
    }
  return false;
}

void set_log_level(log_level level) {
  current_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

bool log_enabled(log_level level) {
  return static_cast<int>(level) >= current_level.load(std::memory_order_relaxed);
}

void set_log_format(log_format format) {
  current_format.store(static_cast<int>(format), std::memory_order_relaxed);
}

log_format current_log_format() {
  return static_cast<log_format>(current_format.load(std::memory_order_relaxed));
}

void log_line(log_level level, std::string_view text) {
  if (!log_enabled(level))
    return;
  auto line = line_start(level);
  if (current_log_format() == log_format::json) {
    line += "\"message\":";
    append_json_string(line, text);
    line += '}';
  } else {
    line.append(text.data(), text.size());
  }
  write_line(line);
}

void log_object(log_level level, std::string_view json_object) {
  if (!log_enabled(level))
    return;
  auto line = line_start(level);
  if (current_log_format() == log_format::json && json_object.size() >= 2 && json_object.front() == '{') {
    auto members = json_object.substr(1); // "…}" or "}"
    if (members == "}")
      line.back() = '}'; // no members: drop the comma after level
    else
      line.append(members.data(), members.size());
  } else {
    line.append(json_object.data(), json_object.size());
  }
  write_line(line);
}

} // namespace volley
