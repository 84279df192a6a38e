// The plain rules behind issue 13 that the wiring added: a 429/503 with
// Retry-After pauses the whole subscriber (attempt_policy), and the monitor
// logs a change of the concurrency limit at most once per interval
// (monitor_core). Time is passed in.
#define BOOST_TEST_MODULE adaptive_policy
#include <boost/test/unit_test.hpp>

#include "health/monitor_core.hpp"
#include "subscriber/attempt_policy.hpp"

#include <algorithm>
#include <string>
#include <vector>

using namespace volley;

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

attempt_result answered(int status, const std::string& retry_after = "") {
  attempt_result r;
  r.status = status;
  r.retry_after = retry_after;
  r.latency_ms = 1;
  return r;
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
