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
  std::optional<config> value;      // set only when errors is empty
  std::vector<config_error> errors; // every problem found, not just the first
};

// A subscriber's name keys its records on disk (LMDB keys are at most 511
// bytes) and appears in every log line about it.
constexpr size_t max_subscriber_name_bytes = 200;

struct subscriber_result {
  std::optional<subscriber_config> value; // set only when errors is empty
  std::vector<config_error> errors;
};

// One subscriber object as JSON text (the HTTP API's), validated exactly as
// an entry of the file's "subscribers" is and inheriting `defaults`: the same
// checks and messages, keys named under `path` ("url" for "", or
// "subscribers[0].url").
subscriber_result parse_subscriber_config(std::string_view json_text, const delivery_defaults& defaults,
                                          const std::string& path = "");

// Parses JSON text (RapidJSON) into a validated config.
config_result parse_config(std::string_view json_text);

// Reads and parses a file; a missing or unreadable file is one error.
config_result load_config_file(const std::string& path);

// One line per error: "config error: <key>: <message>".
std::string format_config_errors(const std::vector<config_error>& errors);

} // namespace volley
