#include "tests/support/descriptor_limit.hpp"

#include <boost/test/unit_test.hpp>

#include <stdexcept>
#include <string>

namespace volley::test {

void raise_descriptor_limit(rlim_t descriptors) {
  rlimit limit{};
  BOOST_REQUIRE(::getrlimit(RLIMIT_NOFILE, &limit) == 0);
  if (limit.rlim_cur >= descriptors)
    return;
  if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < descriptors)
    throw std::runtime_error("this test needs " + std::to_string(descriptors) +
                             " open files; the hard limit is " + std::to_string(limit.rlim_max));
  limit.rlim_cur = descriptors;
  BOOST_REQUIRE(::setrlimit(RLIMIT_NOFILE, &limit) == 0);
}

} // namespace volley::test
