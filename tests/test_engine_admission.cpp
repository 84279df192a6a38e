// The HTTP engine's admission: room up to its capacity, and waiters woken
// first come first served, each once the room covers what it asked for,
// with that room set aside for it.
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
  a.when_room(1, [&] { woken.push_back("first"); });
  a.when_room(1, [&] { woken.push_back("second"); });
  BOOST_TEST(woken.empty()); // no room yet
  a.ended();                 // room for one: the first to ask
  BOOST_TEST(woken == (std::vector<std::string>{"first"}), boost::test_tools::per_element());
  a.added(1); // the first used its room
  a.ended();
  BOOST_TEST(woken == (std::vector<std::string>{"first", "second"}), boost::test_tools::per_element());
  a.added(1);
  a.ended();
  BOOST_TEST(woken.size() == 2u); // each wake ran once
}

BOOST_AUTO_TEST_CASE(asking_when_there_is_room_wakes_at_once) {
  engine_admission a{2};
  int woken = 0;
  a.when_room(1, [&] { ++woken; });
  BOOST_TEST(woken == 1);
}

BOOST_AUTO_TEST_CASE(a_waiter_that_asks_again_from_its_wake_waits_for_the_next_end) {
  engine_admission a{1};
  a.added(1);
  int woken = 0;
  std::function<void()> wake = [&] {
    ++woken;
    a.added(1); // it used the room
    a.when_room(1, wake);
  };
  a.when_room(1, wake);
  a.ended();
  BOOST_TEST(woken == 1);
  a.ended();
  BOOST_TEST(woken == 2);
}

// The herd this replaced: one room woke as many waiters as there was room,
// one each, and all but the first found it taken.
BOOST_AUTO_TEST_CASE(waiters_are_woken_only_as_far_as_the_room_covers_what_they_want) {
  engine_admission a{64}; // at most 8 promised at once
  BOOST_TEST(a.most_promised() == 8u);
  a.added(64);
  std::vector<std::string> woken;
  a.when_room(5, [&] { woken.push_back("five"); });
  a.when_room(3, [&] { woken.push_back("three"); });
  a.when_room(100, [&] { woken.push_back("many"); }); // asks for most_promised()
  for (int i = 0; i < 4; ++i)
    a.ended();
  BOOST_TEST(woken.empty()); // four free: not the five the first wants
  a.ended();
  BOOST_TEST(woken == (std::vector<std::string>{"five"}), boost::test_tools::per_element());
  a.ended();
  a.ended();
  BOOST_TEST(woken.size() == 1u); // the five are promised: two free for the three
  a.ended();
  BOOST_TEST(woken == (std::vector<std::string>{"five", "three"}), boost::test_tools::per_element());
  for (int i = 0; i < 7; ++i)
    a.ended();
  BOOST_TEST(woken.size() == 2u);
  a.ended(); // eight more free
  BOOST_TEST(woken == (std::vector<std::string>{"five", "three", "many"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(callers_not_woken_find_no_room_while_others_wait_or_hold_a_promise) {
  engine_admission a{16}; // at most 2 promised at once
  a.added(16);
  int woken = 0;
  a.when_room(2, [&] { ++woken; });
  a.ended();
  BOOST_TEST(woken == 0);
  BOOST_TEST(a.room() == 0u); // one free, but someone waits for it
  BOOST_TEST(a.room_when_woken() == 1u);
  a.ended();
  BOOST_TEST(woken == 1);
  BOOST_TEST(a.room() == 0u); // the two free are promised
  a.ended();
  BOOST_TEST(a.room() == 1u); // the third is not
  a.added(2);                 // the woken caller took its two: its promise is kept
  BOOST_TEST(a.room() == 1u);
}

// A woken caller that sends nothing (it stopped, or its breaker opened)
// does not hold its room for ever.
BOOST_AUTO_TEST_CASE(a_promise_ends_with_requests_added_or_nothing_outstanding) {
  engine_admission a{16}; // at most 2 promised at once
  a.added(16);
  int woken = 0;
  a.when_room(2, [&] { ++woken; });
  a.ended();
  a.ended();
  BOOST_TEST(woken == 1); // two promised, never used
  BOOST_TEST(a.room() == 0u);
  a.added(1); // someone else's request ends one of them
  a.ended();
  BOOST_TEST(a.room() == 1u);
  while (a.outstanding() > 0)
    a.ended();
  BOOST_TEST(a.room() == 16u); // nothing outstanding: nothing promised
}
