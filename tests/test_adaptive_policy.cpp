// The plain rules behind issue 13 that the wiring added: a 429/503 with
// Retry-After pauses the whole subscriber (attempt_policy), and the monitor
// logs a change of the concurrency limit at most once per interval
// (monitor_core). Time is passed in.
#define BOOST_TEST_MODULE adaptive_policy
#include <boost/test/unit_test.hpp>

#include "health/monitor_core.hpp"
#include "subscriber/attempt_policy.hpp"
#include "tests/support/attempt_answer.hpp"

#include <algorithm>
#include <string>
#include <vector>

using namespace volley;
using volley::test::answered;

namespace {

constexpr int64_t t0 = 1700000000000;

subscriber_config paused_cfg() {
  subscriber_config c;
  c.name = "billing";
  c.url = "http://127.0.0.1:9/hook";
  c.max_attempts = 10;
  c.max_in_flight = 8;
  c.backoff.base_ms = 100;
  c.backoff.max_ms = 10000;
  c.backoff.jitter = 0;
  return c;
}

delivery_record first_attempt() {
  delivery_record rec;
  rec.attempts = 1;
  return rec;
}

} // namespace

BOOST_AUTO_TEST_SUITE(endpoint_pause)

BOOST_AUTO_TEST_CASE(retry_after_on_429_or_503_holds_every_request_until_then) {
  for (int status : {429, 503}) {
    attempt_policy p{paused_cfg()};
    auto d = p.decide(first_attempt(), answered(status, "3"), t0, 0.5);
    BOOST_TEST((d.what == attempt_decision::action::retry));
    BOOST_TEST(d.retry_at_ms == t0 + 3000);
    BOOST_TEST(p.paused_until_ms() == t0 + 3000);
    // Nothing in flight, the breaker closed, the limit free: still wait.
    auto early = p.admit(0, t0 + 2999);
    BOOST_TEST((early.what == admission::answer::wait));
    BOOST_TEST(early.until_ms == t0 + 3000);
    BOOST_TEST((p.admit(0, t0 + 3000).what == admission::answer::go));
  }
}

BOOST_AUTO_TEST_CASE(other_statuses_time_only_their_own_delivery) {
  for (int status : {408, 425, 500, 502, 504}) {
    attempt_policy p{paused_cfg()};
    auto d = p.decide(first_attempt(), answered(status, "3"), t0, 0.5);
    BOOST_TEST(d.retry_at_ms == t0 + 3000, "HTTP " << status); // honoured for the delivery
    BOOST_TEST(p.paused_until_ms() == 0, "HTTP " << status);
    BOOST_TEST((p.admit(0, t0 + 1).what == admission::answer::go), "HTTP " << status);
  }
}

BOOST_AUTO_TEST_CASE(no_retry_after_no_pause) {
  attempt_policy p{paused_cfg()};
  p.decide(first_attempt(), answered(429), t0, 0.5);
  BOOST_TEST(p.paused_until_ms() == 0);
  BOOST_TEST((p.admit(0, t0 + 1).what == admission::answer::go));
}

BOOST_AUTO_TEST_CASE(the_pause_is_clamped_to_the_backoff_cap) {
  attempt_policy p{paused_cfg()}; // max_ms 10 s
  p.decide(first_attempt(), answered(503, "86400"), t0, 0.5);
  BOOST_TEST(p.paused_until_ms() == t0 + 10000);
}

BOOST_AUTO_TEST_CASE(a_shorter_retry_after_does_not_end_a_longer_pause) {
  attempt_policy p{paused_cfg()};
  p.decide(first_attempt(), answered(429, "5"), t0, 0.5);
  p.decide(first_attempt(), answered(429, "1"), t0 + 100, 0.5);
  BOOST_TEST(p.paused_until_ms() == t0 + 5000);
  p.decide(first_attempt(), answered(503, "6"), t0 + 200, 0.5);
  BOOST_TEST(p.paused_until_ms() == t0 + 6200);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(limit_line)

struct monitor_log {
  std::vector<std::string> lines;
  monitor_core make() {
    monitor_config cfg;
    cfg.window_s = 60;
    return monitor_core{cfg, {"billing"}, [this](const std::string& l) { lines.push_back(l); }};
  }
  std::vector<std::string> with(const std::string& needle) const {
    std::vector<std::string> out;
    std::copy_if(lines.begin(), lines.end(), std::back_inserter(out),
                 [&](const std::string& l) { return l.find(needle) != std::string::npos; });
    return out;
  }
};

void report_limit(monitor_core& m, uint32_t limit, const std::string& cause, int64_t at_ms) {
  subscriber_report r;
  r.name = "billing";
  r.limit = limit;
  r.max_in_flight = 64;
  r.limit_cause = cause;
  m.add_report(r, at_ms);
}

BOOST_AUTO_TEST_CASE(one_line_per_interval_however_often_it_moved) {
  monitor_log out;
  auto m = out.make();
  report_limit(m, 4, "", t0);
  m.log_all(t0); // the first interval shows the limit on the periodic line only
  BOOST_TEST(out.with("event=limit").empty());
  BOOST_TEST(out.with("monitor subscriber=billing status=").at(0).find(" limit=4 ") != std::string::npos);

  report_limit(m, 8, "slow_start", t0 + 100);
  report_limit(m, 16, "slow_start", t0 + 200);
  report_limit(m, 8, "overload", t0 + 300);
  BOOST_TEST(out.with("event=limit").empty()); // not as it happens
  m.log_all(t0 + 1000);
  auto lines = out.with("event=limit");
  BOOST_REQUIRE_EQUAL(lines.size(), 1u);
  BOOST_TEST(lines[0] ==
             "monitor subscriber=billing event=limit limit=8 was=4 max_in_flight=64 cause=overload");

  report_limit(m, 9, "increase", t0 + 1100);
  report_limit(m, 8, "overload", t0 + 1200); // back to what the log shows
  m.log_all(t0 + 2000);
  BOOST_TEST(out.with("event=limit").size() == 1u);

  report_limit(m, 9, "increase", t0 + 2100);
  m.log_all(t0 + 3000);
  lines = out.with("event=limit");
  BOOST_REQUIRE_EQUAL(lines.size(), 2u);
  BOOST_TEST(lines[1] ==
             "monitor subscriber=billing event=limit limit=9 was=8 max_in_flight=64 cause=increase");
}

BOOST_AUTO_TEST_CASE(the_line_comes_before_the_periodic_line_of_its_interval) {
  monitor_log out;
  auto m = out.make();
  report_limit(m, 4, "", t0);
  m.log_all(t0);
  report_limit(m, 2, "overload", t0 + 10);
  m.log_all(t0 + 1000);
  auto at = std::find_if(out.lines.begin(), out.lines.end(),
                         [](const std::string& l) { return l.find("event=limit") != std::string::npos; });
  BOOST_REQUIRE(at != out.lines.end());
  BOOST_REQUIRE(at + 1 != out.lines.end());
  BOOST_TEST((at + 1)->find("monitor subscriber=billing status=") == 0u);
  BOOST_TEST((at + 1)->find(" limit=2 ") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

// A slow start overshoots an endpoint's capacity and the requests beyond it
// come back 429 together, before the successes still being served. Counted
// as consecutive failures they opened the breaker at below min_requests
// attempts: the endpoint got nothing for a whole cooldown although it was
// serving 8 at a time (test_adaptive_delivery saw it on every run).
BOOST_AUTO_TEST_SUITE(too_many_requests)

subscriber_config capped_cfg(bool adaptive) {
  auto c = paused_cfg();
  c.concurrency.adaptive = adaptive;
  return c; // breaker: the defaults (5 in a row, 50 % of at least 20)
}

void slow_start_overshoot(attempt_policy& p, int64_t at) {
  for (int i = 0; i < 12; ++i)
    p.decide(first_attempt(), answered(200), at, 0.5);
  for (int i = 0; i < 7; ++i)
    p.decide(first_attempt(), answered(429), at, 0.5);
}

BOOST_AUTO_TEST_CASE(a_burst_of_429s_after_successes_does_not_open_the_breaker) {
  attempt_policy p{capped_cfg(true)};
  slow_start_overshoot(p, t0);
  BOOST_TEST((p.breaker().state() == breaker_state::closed));
  BOOST_TEST(p.breaker().consecutive_failures() == 0u);
  BOOST_TEST(p.limit().limit() < 8u); // the limit answered it instead
}

BOOST_AUTO_TEST_CASE(without_the_adaptive_limit_429s_are_failures_as_before) {
  attempt_policy p{capped_cfg(false)};
  slow_start_overshoot(p, t0);
  BOOST_TEST((p.breaker().state() == breaker_state::open));
}

BOOST_AUTO_TEST_CASE(at_volume_429s_still_count_in_the_failure_rate) {
  attempt_policy p{capped_cfg(true)};
  for (int i = 0; i < 10; ++i)
    p.decide(first_attempt(), answered(200), t0, 0.5);
  for (int i = 0; i < 9; ++i)
    p.decide(first_attempt(), answered(429), t0, 0.5);
  BOOST_TEST((p.breaker().state() == breaker_state::closed)); // 19 attempts: below volume
  auto d = p.decide(first_attempt(), answered(429), t0, 0.5); // 10 of 20
  BOOST_TEST((d.breaker == breaker_change::opened));
}

BOOST_AUTO_TEST_CASE(other_failures_still_open_it_in_a_row) {
  attempt_policy p{capped_cfg(true)};
  p.decide(first_attempt(), answered(200), t0, 0.5);
  for (int i = 0; i < 4; ++i)
    p.decide(first_attempt(), answered(503), t0, 0.5);
  p.decide(first_attempt(), answered(429), t0, 0.5); // neither breaks the run nor extends it
  BOOST_TEST((p.breaker().state() == breaker_state::closed));
  BOOST_TEST((p.decide(first_attempt(), answered(500), t0, 0.5).breaker == breaker_change::opened));
}

// An endpoint that refuses everything is not overshooting anything: with no
// success in the window its 429s open the breaker as before, so waiting
// deliveries keep their attempts instead of burning them on refusals.
BOOST_AUTO_TEST_CASE(with_nothing_succeeded_429s_open_it_in_a_row) {
  attempt_policy p{capped_cfg(true)};
  for (int i = 0; i < 4; ++i)
    p.decide(first_attempt(), answered(429), t0, 0.5);
  BOOST_TEST((p.breaker().state() == breaker_state::closed));
  BOOST_TEST((p.decide(first_attempt(), answered(429), t0, 0.5).breaker == breaker_change::opened));
}

BOOST_AUTO_TEST_CASE(a_success_that_left_the_window_no_longer_counts) {
  attempt_policy p{capped_cfg(true)}; // rate window 30 s
  p.decide(first_attempt(), answered(200), t0, 0.5);
  for (int i = 0; i < 4; ++i)
    p.decide(first_attempt(), answered(429), t0 + 31000, 0.5);
  BOOST_TEST((p.decide(first_attempt(), answered(429), t0 + 31000, 0.5).breaker == breaker_change::opened));
}

BOOST_AUTO_TEST_CASE(a_probe_answered_429_opens_it_again) {
  attempt_policy p{capped_cfg(true)};
  for (int i = 0; i < 5; ++i)
    p.decide(first_attempt(), answered(503), t0, 0.5);
  BOOST_REQUIRE((p.breaker().state() == breaker_state::open));
  auto cooldown = static_cast<int64_t>(p.breaker().cooldown_ms());
  auto probe = p.admit(0, t0 + cooldown);
  BOOST_REQUIRE(probe.probe);
  auto d = p.decide(first_attempt(), answered(429), t0 + cooldown, 0.5);
  BOOST_TEST((d.breaker == breaker_change::opened));
  BOOST_TEST(p.breaker().cooldown_ms() == 2u * static_cast<uint64_t>(cooldown));
}

BOOST_AUTO_TEST_CASE(while_open_a_late_429_changes_nothing) {
  circuit_breaker b{breaker_config{}};
  for (int i = 0; i < 5; ++i)
    b.on_failure(t0);
  BOOST_REQUIRE((b.state() == breaker_state::open));
  BOOST_TEST(!b.on_refusal(t0 + 1));
  BOOST_TEST((b.state() == breaker_state::open));
  BOOST_TEST(b.open_until_ms() == t0 + 30000);
}

BOOST_AUTO_TEST_SUITE_END()
