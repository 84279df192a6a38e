#pragma once
// An ordered list of key/value fields rendered as logfmt (`k=v k2="a b"`) or
// as one JSON object: the monitor's log lines and the stats answers share it.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace volley {

class fields {
public:
  // A bare word in logfmt (`monitor node ...`), `"key":true` in JSON.
  fields& flag(std::string_view key);
  fields& text(std::string_view key, std::string_view value);
  fields& number(std::string_view key, double value, int decimals = 2);
  fields& integer(std::string_view key, int64_t value);
  fields& boolean(std::string_view key, bool value);
  // A pre-rendered JSON value (object/array); logfmt shows it as text.
  fields& json(std::string_view key, std::string json_value);

  bool has(std::string_view key) const;

  std::string logfmt() const;
  std::string json_object() const;

private:
  struct field {
    std::string key;
    std::string value;
    bool quoted_in_json; // strings: quoted in JSON
    bool bare = false;   // flag()
  };
  std::vector<field> items_;
};

} // namespace volley
