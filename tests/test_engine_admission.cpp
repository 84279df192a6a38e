// The HTTP engine's admission: room up to its capacity, and waiters woken
// as requests end, as many as there is room, first come first served.
#define BOOST_TEST_MODULE engine_admission
#include <boost/test/unit_test.hpp>

#include "http/engine_admission.hpp"

#include <string>
#include <vector>

using namespace volley;

BOOST_AUTO_TEST_CASE(room_is_the_capacity_less_what_is_outstanding) {
  engine_admission a{4};
  BOOST_TEST(a.room() == 4u);
  a.added(3);
  BOOST_TEST(a.room() == 1u);
  a.added(2); // a batch may overshoot a little: callers asked before others added
  BOOST_TEST(a.room() == 0u);
  BOOST_TEST(a.outstanding() == 5u);
  a.ended();
  a.ended();
  BOOST_TEST(a.room() == 1u);
}

BOOST_AUTO_TEST_CASE(a_waiter_is_woken_once_when_a_request_ends) {
  engine_admission a{2};
  a.added(2);
  std::vector<std::string> woken;
  a.when_room([&] { woken.push_back("first"); });
  a.when_room([&] { woken.push_back("second"); });
  BOOST_TEST(woken.empty()); // no room yet
  a.ended();                 // room for one: the first to ask
  BOOST_TEST(woken == (std::vector<std::string>{"first"}), boost::test_tools::per_element());
  a.ended(); // room for two now, one waiter left
  BOOST_TEST(woken == (std::vector<std::string>{"first", "second"}), boost::test_tools::per_element());
  a.added(2);
  a.ended();
  BOOST_TEST(woken.size() == 2u); // each wake ran once
}

BOOST_AUTO_TEST_CASE(asking_when_there_is_room_wakes_at_once) {
  engine_admission a{2};
  int woken = 0;
  a.when_room([&] { ++woken; });
  BOOST_TEST(woken == 1);
}

BOOST_AUTO_TEST_CASE(a_waiter_that_asks_again_from_its_wake_waits_for_the_next_end) {
  engine_admission a{1};
  a.added(1);
  int woken = 0;
  std::function<void()> wake = [&] {
    ++woken;
    a.added(1); // it used the room
    a.when_room(wake);
  };
  a.when_room(wake);
  a.ended();
  BOOST_TEST(woken == 1);
  a.ended();
  BOOST_TEST(woken == 2);
}
