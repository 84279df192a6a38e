#define BOOST_TEST_MODULE concurrency_limit
#include <boost/test/unit_test.hpp>

#include "delivery/concurrency_limit.hpp"

#include <algorithm>
#include <random>
#include <vector>

using namespace volley;

namespace {

concurrency_config limit_cfg(uint32_t initial, double decrease_factor = 0.5, double latency_ratio = 3.0) {
  concurrency_config cfg;
  cfg.initial = initial;
  cfg.decrease_factor = decrease_factor;
  cfg.latency_ratio = latency_ratio;
  return cfg;
}

// Feeds `n` results alike; returns the limits it changed to, in order.
std::vector<uint32_t> feed(concurrency_limit& l, int n, load_signal signal, double latency_ms = 50) {
  std::vector<uint32_t> limits;
  for (int i = 0; i < n; ++i)
    if (auto change = l.on_result(signal, latency_ms))
      limits.push_back(change->to);
  return limits;
}

using limits = std::vector<uint32_t>;

attempt_result answer(int status) {
  attempt_result r;
  r.status = status;
  return r;
}

} // namespace

BOOST_AUTO_TEST_SUITE(signals)

BOOST_AUTO_TEST_CASE(capacity_signals_by_outcome) {
  for (int status : {200, 201, 204, 299})
    BOOST_TEST((load_signal_of(answer(status)) == load_signal::success), "status " << status);
  for (int status : {429, 503, 504})
    BOOST_TEST((load_signal_of(answer(status)) == load_signal::overload), "status " << status);
  // Errors of the receiver, and answers about the request itself.
  for (int status : {500, 501, 502, 505, 599, 408, 425, 301, 400, 404, 410, 422})
    BOOST_TEST((load_signal_of(answer(status)) == load_signal::neutral), "status " << status);

  attempt_result timeout;
  timeout.timed_out = true;
  timeout.error = "timeout";
  BOOST_TEST((load_signal_of(timeout) == load_signal::overload));
  attempt_result refused;
  refused.error = "Failed to connect to 127.0.0.1 port 1: Connection refused";
  BOOST_TEST((load_signal_of(refused) == load_signal::overload));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(limit)

BOOST_AUTO_TEST_CASE(starts_at_initial_capped_by_the_ceiling) {
  BOOST_TEST(concurrency_limit(limit_cfg(4), 64).limit() == 4u);
  BOOST_TEST(concurrency_limit(limit_cfg(4), 2).limit() == 2u);
  BOOST_TEST(concurrency_limit(limit_cfg(1), 64).limit() == 1u);
  BOOST_TEST(concurrency_limit(limit_cfg(0), 64).limit() == 1u);
  BOOST_TEST(concurrency_limit(limit_cfg(4), 0).limit() == 1u);
  concurrency_limit l{limit_cfg(4), 64};
  BOOST_TEST(l.in_slow_start());
  BOOST_TEST(l.may_start(3));
  BOOST_TEST(!l.may_start(4));
}

BOOST_AUTO_TEST_CASE(not_adaptive_is_fixed_at_max_in_flight) {
  auto cfg = limit_cfg(4);
  cfg.adaptive = false;
  concurrency_limit l{cfg, 64};
  BOOST_TEST(l.limit() == 64u);
  BOOST_TEST(feed(l, 100, load_signal::overload).empty());
  BOOST_TEST(feed(l, 100, load_signal::success, 5000).empty());
  BOOST_TEST(l.limit() == 64u);
}

BOOST_AUTO_TEST_CASE(slow_start_doubles_per_window_of_successes) {
  concurrency_limit l{limit_cfg(4), 64};
  BOOST_TEST(feed(l, 3, load_signal::success).empty());
  auto change = l.on_result(load_signal::success, 50); // the 4th: a window of 4
  BOOST_REQUIRE(change.has_value());
  BOOST_TEST(change->from == 4u);
  BOOST_TEST(change->to == 8u);
  BOOST_TEST((change->cause == limit_cause::slow_start));
  BOOST_TEST(std::string{to_string(change->cause)} == "slow_start");
  // Windows of 8, 16 and 32, then the ceiling.
  BOOST_TEST(feed(l, 8 + 16 + 32, load_signal::success) == (limits{16, 32, 64}),
             boost::test_tools::per_element());
  BOOST_TEST(feed(l, 1000, load_signal::success).empty());
  BOOST_TEST(l.limit() == 64u);
  BOOST_TEST(l.in_slow_start());
}

BOOST_AUTO_TEST_CASE(slow_start_stops_at_a_ceiling_that_is_not_a_power_of_two) {
  concurrency_limit l{limit_cfg(4), 20};
  BOOST_TEST(feed(l, 4 + 8 + 16 + 100, load_signal::success) == (limits{8, 16, 20}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(overload_halves_then_growth_is_additive) {
  concurrency_limit l{limit_cfg(16), 64};
  auto change = l.on_result(load_signal::overload, 10000);
  BOOST_REQUIRE(change.has_value());
  BOOST_TEST(change->from == 16u);
  BOOST_TEST(change->to == 8u);
  BOOST_TEST((change->cause == limit_cause::overload));
  BOOST_TEST(!l.in_slow_start());
  // +1 per window: 8 successes to 9, 9 more to 10, 10 more to 11.
  BOOST_TEST(feed(l, 7, load_signal::success).empty());
  BOOST_TEST(feed(l, 1 + 9 + 10, load_signal::success) == (limits{9, 10, 11}),
             boost::test_tools::per_element());
  auto increase = feed(l, 11, load_signal::success);
  BOOST_REQUIRE(increase.size() == 1u);
  BOOST_TEST(increase[0] == 12u);
}

BOOST_AUTO_TEST_CASE(decrease_factor_and_the_floor_of_one) {
  concurrency_limit half{limit_cfg(3), 64};
  BOOST_TEST(feed(half, 1, load_signal::overload) == (limits{1}), boost::test_tools::per_element());
  // Already at the floor: nothing changes, nothing to log.
  BOOST_TEST(feed(half, 1000, load_signal::overload).empty());
  BOOST_TEST(half.limit() == 1u);
  BOOST_TEST(half.may_start(0)); // fewer requests, never none

  concurrency_limit gentle{limit_cfg(10, 0.9), 64};
  BOOST_TEST(feed(gentle, 1, load_signal::overload) == (limits{9}), boost::test_tools::per_element());
  concurrency_limit gentle_at_two{limit_cfg(2, 0.9), 64};
  BOOST_TEST(feed(gentle_at_two, 1, load_signal::overload) == (limits{1}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(one_decrease_per_window_of_completions) {
  concurrency_limit l{limit_cfg(64), 64};
  // The whole flight of 64 fails: one decrease, not six.
  BOOST_TEST(feed(l, 64, load_signal::overload) == (limits{32}), boost::test_tools::per_element());
  // The window is the old limit's 64 completions: the first failure after it
  // (the 66th) is about the new limit.
  BOOST_TEST(feed(l, 1, load_signal::overload).empty());
  BOOST_TEST(feed(l, 1, load_signal::overload) == (limits{16}), boost::test_tools::per_element());
  // Successes and neutral answers count as completions too (32 here).
  BOOST_TEST(feed(l, 15, load_signal::success).empty());
  BOOST_TEST(feed(l, 16, load_signal::neutral).empty());
  BOOST_TEST(feed(l, 1, load_signal::overload).empty());
  BOOST_TEST(feed(l, 1, load_signal::overload) == (limits{8}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(neutral_answers_neither_grow_nor_shrink) {
  concurrency_limit l{limit_cfg(4), 64};
  BOOST_TEST(feed(l, 3, load_signal::success).empty());
  BOOST_TEST(feed(l, 1000, load_signal::neutral, 100000).empty());
  BOOST_TEST(l.limit() == 4u);
  BOOST_TEST(feed(l, 1, load_signal::success) == (limits{8}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(recovers_back_to_the_ceiling) {
  concurrency_limit l{limit_cfg(64), 64};
  BOOST_TEST(feed(l, 1, load_signal::overload) == (limits{32}), boost::test_tools::per_element());
  // From 32 to 64 one step per window: 32 + 33 + ... + 63 successes.
  int needed = 0;
  for (int k = 32; k < 64; ++k)
    needed += k;
  auto steps = feed(l, needed - 1, load_signal::success);
  BOOST_TEST(steps.size() == 31u);
  BOOST_TEST(l.limit() == 63u);
  BOOST_TEST(feed(l, 1, load_signal::success) == (limits{64}), boost::test_tools::per_element());
  BOOST_TEST(feed(l, 10000, load_signal::success).empty());
  BOOST_TEST(l.limit() == 64u);
}

BOOST_AUTO_TEST_CASE(stays_between_one_and_the_ceiling_whatever_happens) {
  std::mt19937_64 rng{20240611};
  std::uniform_int_distribution<int> kind{0, 9};
  std::lognormal_distribution<double> latency{4.0, 1.0}; // median ~55 ms, long tail
  for (uint32_t ceiling : {1u, 2u, 7u, 64u, 1000u}) {
    concurrency_limit l{limit_cfg(4, 0.7), ceiling};
    uint32_t lowest = l.limit(), highest = l.limit();
    bool consistent = true;
    for (int i = 0; i < 100000; ++i) {
      auto k = kind(rng);
      auto signal = k < 7 ? load_signal::success : k < 9 ? load_signal::neutral : load_signal::overload;
      auto before = l.limit();
      auto change = l.on_result(signal, latency(rng));
      if (change)
        consistent =
          consistent && change->from == before && change->to == l.limit() && change->from != change->to;
      else
        consistent = consistent && before == l.limit();
      lowest = std::min(lowest, l.limit());
      highest = std::max(highest, l.limit());
    }
    BOOST_TEST_INFO("ceiling " << ceiling);
    BOOST_TEST(lowest >= 1u);
    BOOST_TEST_INFO("ceiling " << ceiling);
    BOOST_TEST(highest <= ceiling);
    BOOST_TEST_INFO("ceiling " << ceiling);
    BOOST_TEST(consistent); // every change reported, from and to as they happened
  }
}

// An endpoint that can work on `capacity` requests at once and answers 503
// beyond that: each round sends `limit` requests at once. The limit must
// settle around the capacity (AIMD's saw-tooth between about half of it and
// one over it), not at 1 and not at the ceiling.
BOOST_AUTO_TEST_CASE(settles_around_an_overloaded_endpoints_capacity) {
  constexpr uint32_t capacity = 20;
  concurrency_limit l{limit_cfg(4), 64};
  std::mt19937_64 rng{7};
  uint32_t lowest = 64, highest = 0;
  double sum = 0;
  int rounds_counted = 0;
  for (int round = 0; round < 2000; ++round) {
    std::vector<load_signal> flight(l.limit(), load_signal::success);
    for (size_t i = capacity; i < flight.size(); ++i)
      flight[i] = load_signal::overload;
    std::shuffle(flight.begin(), flight.end(), rng);
    for (auto signal : flight)
      l.on_result(signal, 80);
    if (round >= 100) { // after slow start found the capacity
      lowest = std::min(lowest, l.limit());
      highest = std::max(highest, l.limit());
      sum += l.limit();
      ++rounds_counted;
    }
  }
  BOOST_TEST(!l.in_slow_start());
  BOOST_TEST(lowest >= capacity / 2);
  BOOST_TEST(highest <= capacity + 1);
  BOOST_TEST(sum / rounds_counted >= 0.6 * capacity);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(latency)

BOOST_AUTO_TEST_CASE(baseline_is_known_after_a_full_sample) {
  concurrency_limit l{limit_cfg(64), 64};
  feed(l, concurrency_limit::latency_samples - 1, load_signal::success, 100);
  BOOST_TEST(l.baseline_ms() == 0.0);
  feed(l, 1, load_signal::success, 100);
  BOOST_TEST(l.baseline_ms() == 100.0);
}

BOOST_AUTO_TEST_CASE(a_rise_above_baseline_times_ratio_decreases) {
  concurrency_limit l{limit_cfg(64), 64};
  BOOST_TEST(feed(l, 16, load_signal::success, 100).empty());
  // 2.5 × the baseline: slower, not congested at ratio 3.
  BOOST_TEST(feed(l, 200, load_signal::success, 250).empty());
  concurrency_limit fresh{limit_cfg(64), 64};
  feed(fresh, 16, load_signal::success, 100);
  // 5 × the baseline: once more than half of the last 16 are that slow (the 9th).
  BOOST_TEST(feed(fresh, 8, load_signal::success, 500).empty());
  auto change = fresh.on_result(load_signal::success, 500);
  BOOST_REQUIRE(change.has_value());
  BOOST_TEST(change->from == 64u);
  BOOST_TEST(change->to == 32u);
  BOOST_TEST((change->cause == limit_cause::latency));
  BOOST_TEST(change->latency_ms == 500.0);
  BOOST_TEST(change->baseline_ms >= 100.0);
  BOOST_TEST(change->baseline_ms < 120.0);
}

BOOST_AUTO_TEST_CASE(slow_outliers_are_not_a_rise) {
  concurrency_limit l{limit_cfg(64), 64};
  std::vector<uint32_t> changes;
  for (int i = 0; i < 4000; ++i) // every 4th success takes 20 × as long
    if (auto c = l.on_result(load_signal::success, i % 4 == 3 ? 2000 : 100))
      changes.push_back(c->to);
  BOOST_TEST(changes.empty());
  BOOST_TEST(l.limit() == 64u);
}

BOOST_AUTO_TEST_CASE(recovers_when_latency_returns_to_the_baseline) {
  concurrency_limit l{limit_cfg(64), 64};
  feed(l, 16, load_signal::success, 100);
  BOOST_TEST(feed(l, 9, load_signal::success, 600) == (limits{32}), boost::test_tools::per_element());
  BOOST_TEST(feed(l, 200, load_signal::success, 100) == (limits{33, 34, 35, 36, 37}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_lasting_change_becomes_the_new_baseline) {
  concurrency_limit l{limit_cfg(64), 64};
  feed(l, 16, load_signal::success, 100);
  int decreases = 0;
  for (int i = 0; i < 3000; ++i)
    if (auto c = l.on_result(load_signal::success, 500))
      decreases += c->to < c->from ? 1 : 0;
  BOOST_TEST(decreases == 1);
  BOOST_TEST(l.baseline_ms() > 500.0 / 3);
  BOOST_TEST(l.limit() > 32u); // growing again
}

BOOST_AUTO_TEST_CASE(rises_under_ten_ms_are_noise) {
  concurrency_limit l{limit_cfg(64), 64};
  feed(l, 16, load_signal::success, 0.5);
  BOOST_TEST(feed(l, 100, load_signal::success, 8).empty()); // 16 × the baseline, but 8 ms
  BOOST_TEST(feed(l, 9, load_signal::success, 40) == (limits{32}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(ratio_zero_ignores_latency) {
  concurrency_limit l{limit_cfg(64, 0.5, 0), 64};
  feed(l, 16, load_signal::success, 100);
  BOOST_TEST(feed(l, 1000, load_signal::success, 10000).empty());
  BOOST_TEST(l.limit() == 64u);
}

BOOST_AUTO_TEST_CASE(failures_do_not_feed_the_baseline) {
  concurrency_limit l{limit_cfg(1), 64};
  feed(l, 100, load_signal::neutral, 1);
  feed(l, 100, load_signal::overload, 10000);
  BOOST_TEST(l.baseline_ms() == 0.0);
}

BOOST_AUTO_TEST_SUITE_END()
