#pragma once
// A subscriber's settings as a JSON object, with the keys of the config
// file and the values in effect (defaults applied), for the HTTP API. Its
// secrets are left out: only how many there are is shown.

#include "config/config.hpp"

#include <string>

namespace volley {

// `source`: "config" (the file) or "api"; `updated_ms` (API subscribers):
// when it was last stored, 0 to leave it out.
std::string subscriber_json(const subscriber_config& s, const char* source, int64_t updated_ms = 0);

} // namespace volley
