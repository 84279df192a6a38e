#pragma once
// Tests that hold thousands of sockets raise this process's open-file limit
// first (up to the hard limit; beyond it the test cannot run and says so).

#include <sys/resource.h>

namespace volley::test {

// Throws std::runtime_error naming the need when the hard limit is lower.
void raise_descriptor_limit(rlim_t descriptors);

} // namespace volley::test
