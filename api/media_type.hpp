#pragma once
// The media type of a Content-Type header: "application/json" for
// "Application/JSON; charset=utf-8", "" when there is none. Plain logic.

#include <string>
#include <string_view>

namespace volley {

std::string media_type(std::string_view content_type);

} // namespace volley
