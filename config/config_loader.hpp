#pragma once
// Parses and validates a Volley config file. Errors name the key that is
// wrong ("subscribers[1].url: ...") so an operator can fix the file.

#include "config/config.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace volley {

struct config_error {
  std::string key;     // e.g. "subscribers[0].backoff.base_ms", "" for the document
  std::string message; // e.g. "must be a positive integer"
};

struct config_result {
  std::optional<config> value;        // set only when errors is empty
  std::vector<config_error> errors;   // every problem found, not just the first
};

// Parses JSON text (RapidJSON) into a validated config.
config_result parse_config(std::string_view json_text);

// Reads and parses a file; a missing or unreadable file is one error.
config_result load_config_file(const std::string& path);

// One line per error: "config error: <key>: <message>".
std::string format_config_errors(const std::vector<config_error>& errors);

} // namespace volley
