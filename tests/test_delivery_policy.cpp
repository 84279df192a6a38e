#define BOOST_TEST_MODULE delivery_policy
#include <boost/test/unit_test.hpp>

#include "delivery/auto_disable.hpp"
#include "delivery/backoff.hpp"
#include "delivery/circuit_breaker.hpp"
#include "delivery/jitter_random.hpp"
#include "delivery/outcome.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

using namespace volley;

namespace {

attempt_result status(int code) {
  attempt_result r;
  r.status = code;
  return r;
}

verdict verdict_of(int code) { return classify(status(code)).what; }

backoff_config backoff_cfg(uint64_t base_ms, uint64_t max_ms, double jitter) {
  backoff_config cfg;
  cfg.base_ms = base_ms;
  cfg.max_ms = max_ms;
  cfg.jitter = jitter;
  return cfg;
}

breaker_config breaker_cfg(uint32_t threshold, uint64_t cooldown_ms, uint64_t max_cooldown_ms) {
  breaker_config cfg;
  cfg.failure_threshold = threshold;
  cfg.cooldown_ms = cooldown_ms;
  cfg.max_cooldown_ms = max_cooldown_ms;
  return cfg;
}

// Opens on a failure rate only (the consecutive rule out of reach).
breaker_config rate_cfg(double percent, uint32_t min_requests, uint64_t window_ms) {
  auto cfg = breaker_cfg(1000, 1000, 8000);
  cfg.failure_rate_percent = percent;
  cfg.min_requests = min_requests;
  cfg.rate_window_ms = window_ms;
  return cfg;
}

// Fails the breaker `n` times at `now`; returns how many calls reported a change.
int fail_times(circuit_breaker& b, int n, int64_t now) {
  int changes = 0;
  for (int i = 0; i < n; ++i)
    changes += b.on_failure(now) ? 1 : 0;
  return changes;
}

// Optional delays as text, so failures print the value.
std::string show(std::optional<uint64_t> ms) { return ms ? std::to_string(*ms) : "nullopt"; }

// "Wed, 21 Oct 2015 07:28:00 GMT" in unix ms (checked with `date -u`).
constexpr int64_t oct21_2015_ms = 1445412480000;

} // namespace

BOOST_AUTO_TEST_SUITE(outcome_rules)

BOOST_AUTO_TEST_CASE(success_codes_are_delivered) {
  for (int code : {200, 201, 202, 204, 299}) {
    BOOST_TEST_INFO("status " << code);
    BOOST_TEST((verdict_of(code) == verdict::delivered));
  }
  BOOST_TEST(classify(status(200)).reason == "HTTP 200");
}

BOOST_AUTO_TEST_CASE(retryable_codes) {
  for (int code : {408, 425, 429, 500, 501, 502, 503, 504, 599}) {
    BOOST_TEST_INFO("status " << code);
    BOOST_TEST((verdict_of(code) == verdict::retry));
  }
  BOOST_TEST(classify(status(503)).reason == "HTTP 503");
}

BOOST_AUTO_TEST_CASE(gone_disables_instead_of_dropping) {
  BOOST_TEST((verdict_of(410) == verdict::gone));
  BOOST_TEST(classify(status(410)).reason == "HTTP 410");
}

BOOST_AUTO_TEST_CASE(other_3xx_and_4xx_go_to_the_dead_letter_queue) {
  for (int code : {300, 301, 302, 303, 304, 307, 308, 400, 401, 403, 404,
                   405, 409, 411, 413, 415, 422, 426, 431, 451, 499}) {
    BOOST_TEST_INFO("status " << code);
    BOOST_TEST((verdict_of(code) == verdict::dead_letter));
  }
  BOOST_TEST(classify(status(404)).reason == "HTTP 404");
}

BOOST_AUTO_TEST_CASE(timeout_is_retried) {
  attempt_result r;
  r.timed_out = true;
  r.error = "timeout";
  auto o = classify(r);
  BOOST_TEST((o.what == verdict::retry));
  BOOST_TEST(o.reason == "timeout");
}

BOOST_AUTO_TEST_CASE(connection_errors_are_retried) {
  attempt_result refused;
  refused.error = "Failed to connect to 127.0.0.1 port 1: Connection refused";
  auto o = classify(refused);
  BOOST_TEST((o.what == verdict::retry));
  BOOST_TEST(o.reason == refused.error);

  attempt_result reset;
  reset.error = "Recv failure: Connection reset by peer";
  BOOST_TEST((classify(reset).what == verdict::retry));

  attempt_result unknown; // no status, no text
  auto u = classify(unknown);
  BOOST_TEST((u.what == verdict::retry));
  BOOST_TEST(!u.reason.empty());
}

BOOST_AUTO_TEST_CASE(retry_after_is_honoured_on_every_retryable_status) {
  for (int status : {408, 425, 429, 500, 502, 503, 504})
    BOOST_TEST(honours_retry_after(status), "status " << status);
  BOOST_TEST(!honours_retry_after(410));
  BOOST_TEST(!honours_retry_after(200));
  BOOST_TEST(!honours_retry_after(404));
  BOOST_TEST(!honours_retry_after(0));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(backoff)

BOOST_AUTO_TEST_CASE(doubles_from_base_without_jitter) {
  backoff_policy p{backoff_cfg(1000, 3600000, 0.0)};
  BOOST_TEST(p.delay_ms(1, 0.3) == 1000u);
  BOOST_TEST(p.delay_ms(2, 0.3) == 2000u);
  BOOST_TEST(p.delay_ms(3, 0.3) == 4000u);
  BOOST_TEST(p.delay_ms(4, 0.3) == 8000u);
  BOOST_TEST(p.delay_ms(10, 0.3) == 512000u);
  BOOST_TEST(p.delay_ms(0, 0.3) == 1000u); // no attempt yet: treated as the first
}

BOOST_AUTO_TEST_CASE(middle_of_the_jitter_range_is_the_exact_delay) {
  backoff_policy p{backoff_cfg(5000, 3600000, 0.2)};
  BOOST_TEST(p.delay_ms(1, 0.5) == 5000u);
  BOOST_TEST(p.delay_ms(2, 0.5) == 10000u);
  BOOST_TEST(p.delay_ms(3, 0.5) == 20000u);
}

BOOST_AUTO_TEST_CASE(capped_at_max) {
  backoff_policy p{backoff_cfg(1000, 60000, 0.0)};
  BOOST_TEST(p.delay_ms(6, 0.5) == 32000u);
  BOOST_TEST(p.delay_ms(7, 0.5) == 60000u);
  BOOST_TEST(p.delay_ms(8, 0.5) == 60000u);
  BOOST_TEST(p.delay_ms(63, 0.5) == 60000u);
  BOOST_TEST(p.delay_ms(64, 0.5) == 60000u);
  BOOST_TEST(p.delay_ms(1000, 0.5) == 60000u);
  BOOST_TEST(p.delay_ms(std::numeric_limits<uint32_t>::max(), 0.5) == 60000u);
}

BOOST_AUTO_TEST_CASE(jitter_bounds) {
  backoff_policy p{backoff_cfg(1000, 3600000, 0.2)};
  BOOST_TEST(p.delay_ms(1, 0.0) == 800u);
  BOOST_TEST(p.delay_ms(1, 0.5) == 1000u);
  auto high = p.delay_ms(1, 0.999999);
  BOOST_TEST(high >= 1199u);
  BOOST_TEST(high <= 1200u);
  BOOST_TEST(p.delay_ms(3, 0.0) == 3200u);
  auto high3 = p.delay_ms(3, 0.999999);
  BOOST_TEST(high3 >= 4799u);
  BOOST_TEST(high3 <= 4800u);
}

BOOST_AUTO_TEST_CASE(jitter_never_leaves_its_band_and_grows_with_the_random_value) {
  backoff_policy p{backoff_cfg(1000, 3600000, 0.2)};
  for (uint32_t attempt = 1; attempt <= 8; ++attempt) {
    double exact = 1000.0 * static_cast<double>(1u << (attempt - 1));
    uint64_t previous = 0;
    for (int i = 0; i < 1000; ++i) {
      double r = i / 1000.0;
      auto d = p.delay_ms(attempt, r);
      BOOST_TEST_INFO("attempt " << attempt << " r " << r);
      BOOST_TEST(static_cast<double>(d) >= exact * 0.8 - 1);
      BOOST_TEST(static_cast<double>(d) <= exact * 1.2);
      BOOST_TEST(d >= previous);
      previous = d;
    }
  }
}

BOOST_AUTO_TEST_CASE(jitter_never_exceeds_max) {
  backoff_policy p{backoff_cfg(1000, 60000, 0.2)};
  BOOST_TEST(p.delay_ms(7, 0.0) == 48000u); // capped first, then jittered down
  BOOST_TEST(p.delay_ms(7, 0.999) == 60000u);
  BOOST_TEST(p.delay_ms(20, 0.75) == 60000u);
  for (int i = 0; i < 100; ++i)
    BOOST_TEST(p.delay_ms(6, i / 100.0) <= 60000u); // 32 s ± 20 % stays under 60 s
}

BOOST_AUTO_TEST_CASE(delay_is_at_least_one_ms) {
  backoff_policy p{backoff_cfg(1, 1000, 0.5)};
  BOOST_TEST(p.delay_ms(1, 0.0) >= 1u);
}

BOOST_AUTO_TEST_CASE(retry_after_seconds) {
  BOOST_TEST(show(parse_retry_after_ms("120", 0)) == "120000");
  BOOST_TEST(show(parse_retry_after_ms("0", 0)) == "0");
  BOOST_TEST(show(parse_retry_after_ms(" 5 ", 0)) == "5000");
  BOOST_TEST(show(parse_retry_after_ms("5\r", 0)) == "5000");
  // Independent of "now" for the seconds form.
  BOOST_TEST(show(parse_retry_after_ms("7", oct21_2015_ms)) == "7000");
  auto huge = parse_retry_after_ms("99999999999999999999999", 0);
  BOOST_REQUIRE(huge.has_value());
  BOOST_TEST(*huge >= uint64_t{999999999} * 1000);
}

BOOST_AUTO_TEST_CASE(retry_after_http_date_relative_to_now) {
  const std::string date = "Wed, 21 Oct 2015 07:28:00 GMT";
  BOOST_TEST(show(parse_retry_after_ms(date, oct21_2015_ms - 60000)) == "60000");
  BOOST_TEST(show(parse_retry_after_ms(date, oct21_2015_ms - 1500)) == "1500");
  BOOST_TEST(show(parse_retry_after_ms(date, oct21_2015_ms)) == "0");
  BOOST_TEST(show(parse_retry_after_ms(date, oct21_2015_ms + 3600000)) == "0");
  BOOST_TEST(show(parse_retry_after_ms("Thu, 01 Jan 2026 00:00:00 GMT", 1767225600000 - 30000)) == "30000");
  BOOST_TEST(show(parse_retry_after_ms("  " + date + "  ", oct21_2015_ms - 1000)) == "1000");
  // The obsolete forms name the same instant.
  BOOST_TEST(show(parse_retry_after_ms("Wednesday, 21-Oct-15 07:28:00 GMT", oct21_2015_ms - 2000)) == "2000");
  BOOST_TEST(show(parse_retry_after_ms("Wed Oct 21 07:28:00 2015", oct21_2015_ms - 3000)) == "3000");
}

BOOST_AUTO_TEST_CASE(invalid_retry_after_is_nullopt) {
  for (const char* bad :
       {"", "   ", "abc", "-5", "1.5", "5s", "+5", "0x10", "Wed, 21 Oct 2015 07:28:00",
        "Wed, 21 Oct 2015 07:28:00 GMT junk", "Wed, 32 Oct 2015 07:28:00 GMT", "2015-10-21T07:28:00Z"}) {
    BOOST_TEST(!parse_retry_after_ms(bad, oct21_2015_ms).has_value(), "accepted \"" << bad << "\"");
  }
}

BOOST_AUTO_TEST_CASE(retry_after_is_clamped_to_delay_and_max) {
  backoff_policy p{backoff_cfg(1000, 60000, 0.2)};
  BOOST_TEST(p.with_retry_after(2000, std::nullopt) == 2000u);
  BOOST_TEST(p.with_retry_after(2000, uint64_t{10000}) == 10000u);
  BOOST_TEST(p.with_retry_after(2000, uint64_t{500}) == 2000u); // never sooner than backoff
  BOOST_TEST(p.with_retry_after(2000, uint64_t{0}) == 2000u);
  BOOST_TEST(p.with_retry_after(2000, uint64_t{60000}) == 60000u);
  BOOST_TEST(p.with_retry_after(2000, uint64_t{3600000}) == 60000u); // never past max
  BOOST_TEST(p.with_retry_after(2000, uint64_t{999999999000}) == 60000u);
  BOOST_TEST(p.with_retry_after(90000, uint64_t{1000}) == 60000u);
}

BOOST_AUTO_TEST_CASE(parsed_retry_after_through_the_policy) {
  backoff_policy p{backoff_cfg(1000, 60000, 0.0)};
  auto delay = p.delay_ms(1, 0.5);
  BOOST_TEST(p.with_retry_after(delay, parse_retry_after_ms("30", 0)) == 30000u);
  BOOST_TEST(p.with_retry_after(delay, parse_retry_after_ms("garbage", 0)) == 1000u);
  BOOST_TEST(p.with_retry_after(delay, parse_retry_after_ms("86400", 0)) == 60000u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(breaker)

BOOST_AUTO_TEST_CASE(starts_closed_and_lets_requests_through) {
  circuit_breaker b{breaker_cfg(3, 1000, 8000)};
  BOOST_TEST((b.state() == breaker_state::closed));
  for (int i = 0; i < 100; ++i)
    BOOST_TEST(b.try_acquire(i));
  BOOST_TEST(b.consecutive_failures() == 0u);
  BOOST_TEST(std::string{to_string(breaker_state::closed)} == "closed");
  BOOST_TEST(std::string{to_string(breaker_state::open)} == "open");
  BOOST_TEST(std::string{to_string(breaker_state::half_open)} == "half_open");
}

BOOST_AUTO_TEST_CASE(opens_after_threshold_consecutive_failures) {
  circuit_breaker b{breaker_cfg(3, 1000, 8000)};
  BOOST_TEST(!b.on_failure(100));
  BOOST_TEST(!b.on_failure(200));
  BOOST_TEST((b.state() == breaker_state::closed));
  BOOST_TEST(b.consecutive_failures() == 2u);
  BOOST_TEST(b.on_failure(300)); // the transition is reported
  BOOST_TEST((b.state() == breaker_state::open));
  BOOST_TEST(b.open_until_ms() == 1300);
  BOOST_TEST(b.consecutive_failures() == 3u);
}

BOOST_AUTO_TEST_CASE(default_threshold_is_five) {
  circuit_breaker b{breaker_config{}};
  BOOST_TEST(fail_times(b, 4, 0) == 0);
  BOOST_TEST((b.state() == breaker_state::closed));
  BOOST_TEST(b.on_failure(0));
  BOOST_TEST((b.state() == breaker_state::open));
}

BOOST_AUTO_TEST_CASE(no_requests_while_open) {
  circuit_breaker b{breaker_cfg(2, 1000, 8000)};
  fail_times(b, 2, 5000);
  BOOST_REQUIRE((b.state() == breaker_state::open));
  for (int64_t t = 5000; t < 6000; t += 50)
    BOOST_TEST(!b.try_acquire(t));
  BOOST_TEST(!b.try_acquire(5999));
  BOOST_TEST((b.state() == breaker_state::open));
}

BOOST_AUTO_TEST_CASE(exactly_one_probe_after_cooldown) {
  circuit_breaker b{breaker_cfg(2, 1000, 8000)};
  fail_times(b, 2, 5000);
  BOOST_TEST(b.try_acquire(6000));
  BOOST_TEST((b.state() == breaker_state::half_open));
  BOOST_TEST(!b.try_acquire(6000));
  BOOST_TEST(!b.try_acquire(6001));
  BOOST_TEST(!b.try_acquire(100000));
  BOOST_TEST((b.state() == breaker_state::half_open));
}

BOOST_AUTO_TEST_CASE(probe_success_closes) {
  circuit_breaker b{breaker_cfg(2, 1000, 8000)};
  fail_times(b, 2, 5000);
  BOOST_REQUIRE(b.try_acquire(6500));
  BOOST_TEST(b.on_success(6600)); // half_open -> closed is reported
  BOOST_TEST((b.state() == breaker_state::closed));
  BOOST_TEST(b.consecutive_failures() == 0u);
  BOOST_TEST(b.try_acquire(6500));
  BOOST_TEST(b.try_acquire(6500)); // closed: no probe limit any more
}

BOOST_AUTO_TEST_CASE(probe_failure_reopens_with_doubled_cooldown_up_to_the_cap) {
  circuit_breaker b{breaker_cfg(1, 1000, 5000)};
  BOOST_TEST(b.on_failure(0));
  BOOST_TEST(b.cooldown_ms() == 1000u);
  BOOST_TEST(b.open_until_ms() == 1000);

  int64_t now = 1000;
  const uint64_t expected[] = {2000, 4000, 5000, 5000, 5000};
  for (auto cooldown : expected) {
    BOOST_TEST(b.try_acquire(now)); // the probe
    BOOST_TEST((b.state() == breaker_state::half_open));
    BOOST_TEST(b.on_failure(now + 10)); // half_open -> open is reported
    BOOST_TEST((b.state() == breaker_state::open));
    BOOST_TEST(b.cooldown_ms() == cooldown);
    BOOST_TEST(b.open_until_ms() == now + 10 + static_cast<int64_t>(cooldown));
    BOOST_TEST(!b.try_acquire(b.open_until_ms() - 1));
    now = b.open_until_ms();
  }
}

BOOST_AUTO_TEST_CASE(success_after_reopening_resets_the_cooldown) {
  circuit_breaker b{breaker_cfg(1, 1000, 60000)};
  b.on_failure(0);
  BOOST_REQUIRE(b.try_acquire(1000));
  b.on_failure(1000); // cooldown 2000
  BOOST_REQUIRE(b.try_acquire(3000));
  b.on_failure(3000); // cooldown 4000
  BOOST_REQUIRE(b.cooldown_ms() == 4000u);
  BOOST_REQUIRE(b.try_acquire(7000));
  BOOST_TEST(b.on_success(7100));
  BOOST_TEST(b.cooldown_ms() == 1000u);
  BOOST_TEST(b.on_failure(8000)); // opens again with the initial cooldown
  BOOST_TEST(b.open_until_ms() == 9000);
}

BOOST_AUTO_TEST_CASE(success_resets_the_consecutive_count) {
  circuit_breaker b{breaker_cfg(3, 1000, 8000)};
  BOOST_TEST(fail_times(b, 2, 0) == 0);
  BOOST_TEST(!b.on_success(0)); // closed stays closed: no transition
  BOOST_TEST(b.consecutive_failures() == 0u);
  BOOST_TEST(fail_times(b, 2, 0) == 0);
  BOOST_TEST((b.state() == breaker_state::closed));
  BOOST_TEST(b.on_failure(0));
  BOOST_TEST((b.state() == breaker_state::open));
}

BOOST_AUTO_TEST_CASE(late_failure_while_open_changes_nothing) {
  circuit_breaker b{breaker_cfg(2, 1000, 8000)};
  fail_times(b, 2, 0);
  BOOST_REQUIRE((b.state() == breaker_state::open));
  BOOST_TEST(!b.on_failure(500)); // a request that started before it opened
  BOOST_TEST((b.state() == breaker_state::open));
  BOOST_TEST(b.open_until_ms() == 1000);
  BOOST_TEST(b.cooldown_ms() == 1000u);
}

// 64 in flight at 60 % failures: the breaker opens on the rate while 40 % of
// the flight is still to succeed. Those successes must not close it.
BOOST_AUTO_TEST_CASE(late_successes_while_open_change_nothing) {
  circuit_breaker b{breaker_config{}};
  for (int i = 0; i < 40 && b.state() == breaker_state::closed; ++i)
    i % 5 < 3 ? b.on_failure(i) : b.on_success(i);
  BOOST_REQUIRE((b.state() == breaker_state::open));
  auto until = b.open_until_ms();
  auto failures = b.consecutive_failures();
  for (int i = 0; i < 30; ++i)
    BOOST_TEST(!b.on_success(100 + i));
  BOOST_TEST((b.state() == breaker_state::open));
  BOOST_TEST(b.open_until_ms() == until);
  BOOST_TEST(b.consecutive_failures() == failures);
  BOOST_TEST((b.admit(until - 1) == breaker_admission::refused));
  BOOST_TEST((b.admit(until) == breaker_admission::probe));
}

// The old behaviour, kept exactly: a success contradicts "none succeed".
BOOST_AUTO_TEST_CASE(without_the_rate_rule_a_late_success_closes_it) {
  auto cfg = breaker_cfg(2, 1000, 8000);
  cfg.failure_rate_percent = 0;
  circuit_breaker b{cfg};
  BOOST_TEST(fail_times(b, 2, 0) == 1);
  BOOST_TEST(b.on_success(10));
  BOOST_TEST((b.state() == breaker_state::closed));
}

BOOST_AUTO_TEST_CASE(cooldown_cap_below_cooldown_keeps_the_cooldown) {
  circuit_breaker b{breaker_cfg(1, 2000, 500)};
  b.on_failure(0);
  BOOST_REQUIRE(b.try_acquire(2000));
  b.on_failure(2000);
  BOOST_TEST(b.cooldown_ms() == 2000u);
  BOOST_TEST(b.open_until_ms() == 4000);
}

BOOST_AUTO_TEST_CASE(full_cycle_reports_every_transition_once) {
  circuit_breaker b{breaker_cfg(2, 100, 1000)};
  int changes = 0;
  changes += fail_times(b, 2, 0);       // closed -> open
  changes += b.try_acquire(50) ? 1 : 0; // refused
  BOOST_REQUIRE(b.try_acquire(100));    // open -> half_open (the probe)
  changes += b.on_failure(100) ? 1 : 0; // half_open -> open
  BOOST_REQUIRE(b.try_acquire(300));
  changes += b.on_success(350) ? 1 : 0; // half_open -> closed
  changes += b.on_success(360) ? 1 : 0; // closed: nothing
  BOOST_TEST(changes == 3);
  BOOST_TEST((b.state() == breaker_state::closed));
}

BOOST_AUTO_TEST_CASE(rate_rule_defaults) {
  breaker_config cfg;
  BOOST_TEST(cfg.failure_rate_percent == 50.0);
  BOOST_TEST(cfg.min_requests == 20u);
  BOOST_TEST(cfg.rate_window_ms == 30000u);
  BOOST_TEST(cfg.failure_threshold == 5u);
}

// The operator's case: 30 % of requests fail (503), 64 in flight, about 100
// attempts a second, so 3,000 in a 30 s window. Runs of 5 failures happen
// every few hundred attempts; at volume they must not open the breaker.
BOOST_AUTO_TEST_CASE(never_opens_on_a_30_percent_failure_pattern_at_volume) {
  for (uint64_t seed : {1, 2, 3, 4, 5}) {
    circuit_breaker b{breaker_config{}};
    std::mt19937_64 rng{seed};
    std::bernoulli_distribution fails{0.3};
    int64_t t = 0;
    // Volume first: from a standing start the first 19 attempts are at low
    // volume, where 5 failures in a row do open it (tested below).
    for (int i = 0; i < 20; ++i, t += 10)
      b.on_success(t);
    int changes = 0, refused = 0;
    uint32_t longest_run = 0;
    for (int i = 0; i < 100000; ++i, t += 10) {
      refused += b.admit(t) == breaker_admission::request ? 0 : 1;
      changes += (fails(rng) ? b.on_failure(t) : b.on_success(t)) ? 1 : 0;
      longest_run = std::max(longest_run, b.consecutive_failures());
    }
    BOOST_TEST_INFO("seed " << seed);
    BOOST_TEST(changes == 0);
    BOOST_TEST_INFO("seed " << seed);
    BOOST_TEST(refused == 0);
    BOOST_TEST_INFO("seed " << seed); // the old rule would have opened
    BOOST_TEST(longest_run >= 5u);
    BOOST_TEST((b.state() == breaker_state::closed));
  }
}

// After a healthy stretch at 100 attempts a second (3,000 in the window, 300
// per slot) the endpoint fails every request. At 50 % the breaker opens once
// the failures equal the successes left in the window: within half a window's
// attempts plus one slot, N = 1,800 (here 1,500, 15 s).
BOOST_AUTO_TEST_CASE(opens_within_half_a_window_on_total_failure_at_volume) {
  circuit_breaker b{breaker_config{}};
  int64_t t = 0;
  for (; t < 60000; t += 10)
    BOOST_REQUIRE(!b.on_success(t));
  int failures = 0;
  while (b.state() == breaker_state::closed && failures < 10000) {
    b.on_failure(t);
    ++failures;
    t += 10;
  }
  BOOST_TEST((b.state() == breaker_state::open));
  BOOST_TEST(failures <= 1800);
  BOOST_TEST(failures > 1000); // the rate rule, not 5 in a row
  BOOST_TEST_MESSAGE("opened after " << failures << " failures at volume");
}

BOOST_AUTO_TEST_CASE(total_failure_from_a_standing_start_opens_at_the_threshold) {
  circuit_breaker b{breaker_config{}};
  BOOST_TEST(fail_times(b, 4, 0) == 0);
  BOOST_TEST(b.on_failure(10)); // 5 attempts in the window: low volume
  BOOST_TEST((b.state() == breaker_state::open));
}

BOOST_AUTO_TEST_CASE(consecutive_failures_do_not_open_at_volume) {
  circuit_breaker b{breaker_config{}};
  for (int64_t t = 0; t < 100; ++t)
    b.on_success(t);
  BOOST_TEST(fail_times(b, 50, 200) == 0); // 50 of 150: a third
  BOOST_TEST(b.consecutive_failures() == 50u);
  BOOST_TEST((b.state() == breaker_state::closed));
  BOOST_TEST(fail_times(b, 50, 300) == 1); // 100 of 200: half
  BOOST_TEST((b.state() == breaker_state::open));
}

// One attempt every 10 s: at most 3 in the 30 s window, never 20.
BOOST_AUTO_TEST_CASE(consecutive_failures_open_at_low_volume) {
  circuit_breaker b{breaker_config{}};
  int64_t t = 0;
  auto next = [&] { return t += 10000; };
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 4; ++i)
      BOOST_TEST(!b.on_failure(next()));
    BOOST_TEST(!b.on_success(next())); // a success in between: start over
  }
  BOOST_TEST(fail_times(b, 4, next()) == 0);
  BOOST_TEST(b.on_failure(next()));
  BOOST_TEST((b.state() == breaker_state::open));
  BOOST_TEST(b.open_until_ms() == t + 30000);
}

BOOST_AUTO_TEST_CASE(rate_zero_is_the_old_rule_consecutive_failures_at_any_volume) {
  auto cfg = breaker_cfg(5, 1000, 8000);
  cfg.failure_rate_percent = 0;
  circuit_breaker steady{cfg};
  for (int64_t t = 0; t < 2000; t += 2) { // 50 % failures, never two in a row
    BOOST_TEST(!steady.on_failure(t));
    BOOST_TEST(!steady.on_success(t + 1));
  }
  BOOST_TEST((steady.state() == breaker_state::closed));

  circuit_breaker busy{cfg};
  for (int64_t t = 0; t < 1000; ++t)
    busy.on_success(t); // volume does not matter
  BOOST_TEST(fail_times(busy, 4, 1000) == 0);
  BOOST_TEST(busy.on_failure(1000));
  BOOST_TEST((busy.state() == breaker_state::open));
}

BOOST_AUTO_TEST_CASE(admit_tells_when_the_probe_goes_out) {
  circuit_breaker b{breaker_cfg(2, 1000, 8000)};
  BOOST_TEST((b.admit(0) == breaker_admission::request));
  fail_times(b, 2, 0);
  BOOST_TEST((b.admit(999) == breaker_admission::refused));
  BOOST_TEST((b.admit(1000) == breaker_admission::probe));
  BOOST_TEST((b.state() == breaker_state::half_open));
  BOOST_TEST((b.admit(1000) == breaker_admission::refused)); // one probe only
  BOOST_TEST(!b.try_acquire(1001));
  BOOST_TEST(b.on_failure(1100)); // open again, cooldown 2000
  BOOST_TEST((b.admit(3099) == breaker_admission::refused));
  BOOST_TEST((b.admit(3100) == breaker_admission::probe));
  BOOST_TEST(b.on_success(3200));
  BOOST_TEST((b.admit(3200) == breaker_admission::request));
  BOOST_TEST((b.admit(3200) == breaker_admission::request));
}

BOOST_AUTO_TEST_CASE(opened_at_volume_then_probe_failure_doubles_and_success_closes) {
  circuit_breaker b{breaker_config{}};
  int64_t t = 0;
  for (int i = 0; i < 20; ++i, t += 10) // 50 % at volume
    i % 2 ? b.on_failure(t) : b.on_success(t);
  BOOST_REQUIRE((b.state() == breaker_state::open));
  BOOST_TEST(b.cooldown_ms() == 30000u);
  t = b.open_until_ms();
  BOOST_TEST((b.admit(t) == breaker_admission::probe));
  BOOST_TEST(b.on_failure(t + 50));
  BOOST_TEST(b.cooldown_ms() == 60000u);
  BOOST_TEST(b.open_until_ms() == t + 50 + 60000);
  t = b.open_until_ms();
  BOOST_TEST((b.admit(t) == breaker_admission::probe));
  BOOST_TEST(b.on_success(t + 50));
  BOOST_TEST((b.state() == breaker_state::closed));
  BOOST_TEST(b.cooldown_ms() == 30000u);
}

BOOST_AUTO_TEST_CASE(failure_rate_opens_once_min_requests_are_reached) {
  auto cfg = rate_cfg(50, 10, 10000);
  circuit_breaker b{cfg};
  // s f s f ... : 50 % failures, never two in a row.
  for (int i = 0; i < 4; ++i) {
    BOOST_TEST(!b.on_success(i * 100));
    BOOST_TEST(!b.on_failure(i * 100 + 50));
  }
  BOOST_TEST(!b.on_success(800)); // 9 attempts: below min_requests
  BOOST_TEST((b.state() == breaker_state::closed));
  BOOST_TEST(b.on_failure(900)); // 10 attempts, 5 failed: 50 %
  BOOST_TEST((b.state() == breaker_state::open));
  BOOST_TEST(b.open_until_ms() == 1900);
}

BOOST_AUTO_TEST_CASE(failure_rate_below_the_limit_stays_closed) {
  circuit_breaker b{rate_cfg(50, 10, 10000)};
  // 4 failures in 10 attempts, then keep the rate at 40 %.
  for (int round = 0; round < 20; ++round) {
    int64_t t = round * 100;
    for (int i = 0; i < 3; ++i)
      BOOST_TEST(!b.on_success(t + i));
    if (round % 2 == 0) {
      BOOST_TEST(!b.on_failure(t + 5));
    } else {
      BOOST_TEST(!b.on_failure(t + 5));
      BOOST_TEST(!b.on_success(t + 6));
    }
  }
  BOOST_TEST((b.state() == breaker_state::closed));
}

BOOST_AUTO_TEST_CASE(failure_rate_forgets_attempts_outside_the_window) {
  circuit_breaker b{rate_cfg(50, 20, 10000)};
  for (int i = 0; i < 9; ++i) {
    BOOST_TEST(!b.on_success(i));
    BOOST_TEST(!b.on_failure(i));
  }
  // Counted together these would be 20 attempts, 10 failed; but the first
  // 18 are over 10 s old now.
  BOOST_TEST(!b.on_success(20000));
  BOOST_TEST(!b.on_failure(20000));
  BOOST_TEST((b.state() == breaker_state::closed));
}

BOOST_AUTO_TEST_CASE(failure_rate_window_restarts_after_the_breaker_opened) {
  circuit_breaker b{rate_cfg(50, 4, 10000)};
  b.on_success(0);
  b.on_failure(1);
  b.on_success(2);
  BOOST_REQUIRE(b.on_failure(3)); // 2 of 4
  BOOST_REQUIRE(b.try_acquire(1003));
  BOOST_TEST(b.on_success(1004)); // probe closes it
  // The failures that opened it do not count again.
  BOOST_TEST(!b.on_failure(1005));
  BOOST_TEST((b.state() == breaker_state::closed));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(auto_disable_after_hours)

constexpr int64_t hour_ms = 3600 * 1000;
const std::string reason_72h = "no successful delivery for 72 h (disable_after_hours)";

BOOST_AUTO_TEST_CASE(off_at_zero_hours) {
  auto_disable d{0};
  for (int64_t h = 0; h <= 1000; ++h)
    d.on_failure(h * hour_ms);
  BOOST_TEST(!d.should_disable().has_value());
}

BOOST_AUTO_TEST_CASE(disables_after_hours_of_failed_attempts) {
  auto_disable d{72};
  int64_t start = 1700000000000;
  BOOST_TEST(!d.should_disable().has_value()); // no attempts at all
  for (int64_t h = 0; h < 72; ++h) {
    d.on_failure(start + h * hour_ms);
    BOOST_TEST(!d.should_disable().has_value(), "after " << h << " h");
  }
  d.on_failure(start + 72 * hour_ms - 1);
  BOOST_TEST(!d.should_disable().has_value());
  d.on_failure(start + 72 * hour_ms);
  BOOST_TEST(d.should_disable().value_or("") == reason_72h);
  BOOST_TEST(d.failing_since_ms().value_or(0) == start);
}

BOOST_AUTO_TEST_CASE(a_success_starts_the_count_again) {
  auto_disable d{72};
  for (int64_t h = 0; h < 72; ++h)
    d.on_failure(h * hour_ms);
  d.on_success();
  BOOST_TEST(!d.failing_since_ms().has_value());
  d.on_failure(72 * hour_ms);
  d.on_failure(143 * hour_ms);
  BOOST_TEST(!d.should_disable().has_value());
  d.on_failure(144 * hour_ms);
  BOOST_TEST(d.should_disable().value_or("") == reason_72h);
  d.on_success(); // a success before the caller acted: not due any more
  BOOST_TEST(!d.should_disable().has_value());
}

// Hours without attempts are not hours of failure: the period runs from the
// first failure after the last success.
BOOST_AUTO_TEST_CASE(silence_is_not_failure) {
  auto_disable d{72};
  d.on_success();
  d.on_failure(100 * hour_ms); // the first attempt in 100 h
  BOOST_TEST(!d.should_disable().has_value());
  d.on_failure(171 * hour_ms);
  BOOST_TEST(!d.should_disable().has_value());
  d.on_failure(172 * hour_ms);
  BOOST_TEST(d.should_disable().value_or("") == reason_72h);
}

BOOST_AUTO_TEST_CASE(reason_names_the_hours_and_the_key) {
  auto_disable d{1};
  d.on_failure(0);
  d.on_failure(hour_ms);
  BOOST_TEST(d.should_disable().value_or("") == "no successful delivery for 1 h (disable_after_hours)");
}

BOOST_AUTO_TEST_SUITE_END()

// Backoff jitter's source: the same seed gives the same jitter (a test can
// replay it), different seeds differ, and draws spread over [0, 1).
BOOST_AUTO_TEST_CASE(jitter_random_is_seeded_and_spread) {
  std::uniform_real_distribution<double> unit{0.0, 1.0};
  volley::jitter_random a{42}, b{42}, c{43};
  std::vector<double> draws;
  bool differ = false;
  for (int i = 0; i < 10000; ++i) {
    auto x = unit(a);
    BOOST_REQUIRE(x == unit(b));
    differ = differ || x != unit(c);
    draws.push_back(x);
  }
  BOOST_TEST(differ);
  std::array<int, 10> deciles{};
  for (auto x : draws) {
    BOOST_REQUIRE(x >= 0.0);
    BOOST_REQUIRE(x < 1.0);
    ++deciles[static_cast<size_t>(x * 10)];
  }
  for (auto n : deciles) // 1,000 expected in each tenth
    BOOST_TEST((n > 850 && n < 1150), "a tenth of [0, 1) drew " << n << " of 10,000");
}
