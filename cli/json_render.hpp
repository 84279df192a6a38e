#pragma once
// Renders a daemon reply (a JSON object) as indented "key: value" lines for
// people; scripts use --json and get the raw line instead.

#include <optional>
#include <string>
#include <string_view>

namespace volley::cli {

// nullopt when `json` is not a JSON object.
std::optional<std::string> render_readable(std::string_view json);

} // namespace volley::cli
