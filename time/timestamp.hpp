#pragma once
// Wall-clock time as Volley writes it: unix milliseconds and RFC 3339 UTC.

#include <cstdint>
#include <string>

namespace volley {

int64_t unix_ms_now();

// "2026-11-23T13:40:00.123Z"
std::string format_rfc3339_ms(int64_t unix_ms);

} // namespace volley
