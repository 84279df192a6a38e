// Issue 13's rules run through the actors as the node wires them, on CAF's
// test_coordinator: virtual time makes an hour of failures (for
// disable_after_hours) and a Retry-After pause pass without waiting, and
// the test answers every request itself.
#define BOOST_TEST_MODULE adaptive_actors
#include <boost/test/unit_test.hpp>

#include "tests/support/actor_fixture.hpp"
#include "tests/support/attempt_answer.hpp"
#include "tests/support/must.hpp"

#include <string>
#include <vector>

using namespace volley;
using namespace volley::test;
using namespace std::chrono_literals;

namespace {

constexpr int64_t hour_ms = 3600 * 1000;

subscriber_config failing_for_hours(const std::string& name) {
  subscriber_config c;
  c.name = name;
  c.url = "http://127.0.0.1:9/" + name;
  c.max_attempts = 100000; // the delivery outlives the hour instead of being dead-lettered
  c.max_in_flight = 4;
  c.backoff.base_ms = 1000;
  c.backoff.max_ms = 60000;
  c.backoff.jitter = 0;
  // Open, the breaker probes at most a minute apart: a failed attempt at
  // least every minute.
  c.breaker.cooldown_ms = 30000;
  c.breaker.max_cooldown_ms = 60000;
  c.disable_after_hours = 1;
  return c;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(adaptive, actor_fixture)

// Attempts fail for an hour with no success: the subscriber is disabled on
// record, as a 410 would disable it, and its delivery stays queued.
BOOST_AUTO_TEST_CASE(an_hour_of_failed_attempts_disables_the_subscriber_on_record) {
  wire({failing_for_hours("flaky")});
  publish({"order.created"});
  auto first_failure = now();
  int64_t disabled_at = 0;
  while (now() - first_failure < 2 * hour_ms) {
    while (transport.open() > 0)
      transport.answer_status(503);
    run();
    const auto* r = seen->last_report("flaky");
    if (r != nullptr && !r->enabled) {
      disabled_at = now();
      break;
    }
    BOOST_REQUIRE_MESSAGE(now() - first_failure < hour_ms + 60000,
                          "still enabled " << (now() - first_failure) / 1000 << " s after the first failure");
    advance(1s);
  }
  BOOST_REQUIRE_MESSAGE(disabled_at != 0, "not disabled after two hours of failures");
  // Not before an hour of failures; at the first failed attempt after it
  // (attempts come at most a minute apart: backoff cap, breaker cooldown).
  BOOST_TEST(disabled_at - first_failure >= hour_ms);
  BOOST_TEST(disabled_at - first_failure <= hour_ms + 60000);
  const auto* r = seen->last_report("flaky");
  BOOST_TEST(r->disabled_reason == "no successful delivery for 1 h (disable_after_hours)");

  advance(0ms); // the subscriber's writes go out behind its results
  auto recorded = must(db->disabled_subscribers());
  BOOST_REQUIRE_EQUAL(recorded.size(), 1u);
  BOOST_TEST(recorded[0].subscriber == "flaky");
  BOOST_TEST(recorded[0].reason == "no successful delivery for 1 h (disable_after_hours)");
  BOOST_TEST(must(db->count_pending("flaky")) == 1u); // kept, not dropped

  // Disabled, it sends nothing more.
  auto started = transport.started();
  advance(std::chrono::milliseconds(hour_ms));
  BOOST_TEST(transport.started() == started);
  BOOST_TEST(transport.open() == 0u);
}

// One success resets the clock: the hour runs again from the next failure.
BOOST_AUTO_TEST_CASE(a_success_in_between_starts_the_hour_again) {
  wire({failing_for_hours("flaky")});
  publish({"a.event", "b.event"});
  auto first_failure = now();
  int64_t success_at = 0, disabled_at = 0;
  while (now() - first_failure < 3 * hour_ms) {
    while (transport.open() > 0) {
      // b.event is answered 200 once half an hour has passed.
      bool ok = transport.header(0, "X-Event-Type") == "b.event" && now() - first_failure >= hour_ms / 2;
      if (ok && success_at == 0)
        success_at = now();
      transport.answer_status(ok ? 200 : 503);
    }
    run();
    const auto* r = seen->last_report("flaky");
    if (r != nullptr && !r->enabled) {
      disabled_at = now();
      break;
    }
    advance(1s);
  }
  BOOST_REQUIRE(success_at != 0);
  BOOST_REQUIRE_MESSAGE(disabled_at != 0, "not disabled");
  BOOST_TEST(disabled_at - success_at >= hour_ms); // not an hour after the first failure
  BOOST_TEST(disabled_at - success_at <= hour_ms + 60000 + 60000);
}

// Retry-After on a 429 holds every request of the subscriber, in flight
// slots free or not, until exactly that time.
BOOST_AUTO_TEST_CASE(retry_after_pauses_every_delivery_of_the_subscriber) {
  auto c = failing_for_hours("busy");
  c.disable_after_hours = 0;
  wire({c});
  publish({"e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8"});
  BOOST_REQUIRE_EQUAL(transport.open(), 4u); // the limit starts at 4
  transport.answer(answered(429, "2"));
  transport.answer_status(200);
  transport.answer_status(200);
  transport.answer_status(200);
  run();
  BOOST_TEST(transport.open() == 0u); // three slots free, five deliveries ready: none goes
  advance(1999ms);
  BOOST_TEST(transport.open() == 0u);
  advance(1ms);
  BOOST_TEST(transport.open() > 0u);
  while (transport.open() > 0) {
    transport.answer_status(200);
    run();
  }
  advance(0ms);
  BOOST_TEST(must(db->count_pending_total()) == 0u);
  BOOST_TEST(transport.started() == 9u); // eight deliveries, one retried
}

BOOST_AUTO_TEST_SUITE_END()
