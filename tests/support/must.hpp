#pragma once
// A store read the test needs to succeed: its value, or the test stops with
// the read's error.

#include "storage/read_result.hpp"

#include <boost/test/unit_test.hpp>

#include <utility>

namespace volley::test {

template <class T>
T must(read_result<T> r) {
  BOOST_REQUIRE_MESSAGE(static_cast<bool>(r), "store read failed: " << r.error());
  return std::move(*r);
}

} // namespace volley::test
