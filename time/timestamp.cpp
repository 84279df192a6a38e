#include "time/timestamp.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace volley {

int64_t unix_ms_now() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string format_rfc3339_ms(int64_t unix_ms) {
  time_t secs = static_cast<time_t>(unix_ms / 1000);
  int ms = static_cast<int>(unix_ms % 1000);
  if (ms < 0) {
    ms += 1000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  const int year = tm.tm_year + 1900;
  if (year < 0 || year > 9999) {
    char buf[80]; // room for any int the compiler can imagine
    std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", year, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    return buf;
  }
  // Every delivery body carries one: digits written directly, not through
  // snprintf's format parser.
  std::string out = "0000-00-00T00:00:00.000Z";
  auto put = [&](size_t end, int value, int width) {
    for (size_t i = end; width-- > 0; value /= 10)
      out[--i] = static_cast<char>('0' + value % 10);
  };
  put(4, year, 4);
  put(7, tm.tm_mon + 1, 2);
  put(10, tm.tm_mday, 2);
  put(13, tm.tm_hour, 2);
  put(16, tm.tm_min, 2);
  put(19, tm.tm_sec, 2);
  put(23, ms, 3);
  return out;
}

} // namespace volley
