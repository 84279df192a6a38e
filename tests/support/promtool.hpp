#pragma once
// Prometheus' own checker of a scrape: `promtool check metrics` (Debian's
// prometheus package), run on a text exposition.

#include <string>

namespace volley::test {

struct promtool_result {
  int exit_code = -1;
  std::string output; // stdout and stderr together: parse errors and lint problems
};

promtool_result promtool_check(const std::string& exposition);

} // namespace volley::test
