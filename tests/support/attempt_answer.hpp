#pragma once
// An attempt's result as the HTTP engine reports it, for tests of the plain
// logic and the actors: a status, and a Retry-After when given.

#include "delivery/outcome.hpp"

#include <string>
#include <utility>

namespace volley::test {

inline attempt_result answered(int status, std::string retry_after = "") {
  attempt_result r;
  r.status = status;
  r.retry_after = std::move(retry_after);
  r.latency_ms = 1;
  return r;
}

} // namespace volley::test
