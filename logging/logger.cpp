#include "logging/logger.hpp"

#include "time/timestamp.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>

namespace volley {

namespace {

std::atomic<int> current_level{static_cast<int>(log_level::info)};
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

void log_line(log_level level, std::string_view text) {
  if (!log_enabled(level))
    return;
  std::string line = format_rfc3339_ms(unix_ms_now());
  line += ' ';
  line += level_name(level);
  line += ' ';
  line.append(text.data(), text.size());
  line += '\n';
  // One write per line under a lock, so lines from threads never interleave.
  std::lock_guard<std::mutex> guard{output_mutex};
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

} // namespace volley
