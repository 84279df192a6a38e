#pragma once
// Reading the daemon's one-line JSON answers: {"ok":true,...} or
// {"ok":false,"error":"..."}.

#include <string>
#include <string_view>

namespace volley::cli {

// True only for a JSON object whose "ok" member is true.
bool reply_is_ok(std::string_view line);

// The "error" member of a refusal, "" when there is none.
std::string reply_error(std::string_view line);

} // namespace volley::cli
