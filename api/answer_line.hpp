#pragma once
// The node's answer lines (protocol/ingress_line.hpp: {"ok":true,...} or
// {"ok":false,"error":...}, newline included) read back for an HTTP answer.
// Plain logic.

#include <string>
#include <string_view>

namespace volley {

// True when the line says "ok": true.
bool answer_ok(std::string_view line);
// The line's "error" text; the line itself when it carries none.
std::string answer_error(std::string_view line);
// The line as an HTTP body: its trailing newline removed.
std::string without_newline(std::string line);

} // namespace volley
