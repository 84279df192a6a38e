#pragma once
// Small JSON writing helpers for the hot path (acks, delivery bodies), where
// building a DOM per line would cost more than the work itself.

#include <string>
#include <string_view>

namespace volley {

// Appends `text` as a quoted JSON string, escaping what JSON requires.
void append_json_string(std::string& out, std::string_view text);

} // namespace volley
