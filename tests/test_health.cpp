#define BOOST_TEST_MODULE health
#include <boost/test/unit_test.hpp>

#include "health/delivery_counts.hpp"
#include "health/health_status.hpp"
#include "health/latency_histogram.hpp"
#include "health/monitor_core.hpp"
#include "health/rolling_window.hpp"
#include "health/stats_series.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

using namespace volley;

namespace {

// The exact p-quantile by the same rank rule (ceil(p * n), 1-based).
double true_percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  auto rank = static_cast<size_t>(std::ceil(p * static_cast<double>(values.size())));
  rank = std::max<size_t>(rank, 1);
  return values[rank - 1];
}

void check_percentiles(const std::vector<double>& values) {
  latency_histogram h;
  for (double v : values)
    h.record(v);
  BOOST_TEST(h.count() == values.size());
  for (double p : {0.0, 0.1, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0}) {
    double truth = true_percentile(values, p);
    double estimate = h.percentile_ms(p);
    BOOST_TEST_INFO("p=" << p << " truth=" << truth << " estimate=" << estimate);
    BOOST_TEST(std::fabs(estimate - truth) <= 0.25 * truth);
  }
}

delivery_counts attempts(uint64_t total, uint64_t ok, double latency_ms = 1.0) {
  delivery_counts c;
  c.attempts = total;
  c.successes = ok;
  c.failures = total - ok;
  for (uint64_t i = 0; i < total; ++i)
    c.latency.record(latency_ms);
  return c;
}

// A deterministic pseudo-random sequence (no std::random_device in tests).
struct lcg {
  uint64_t state;
  double next01() {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<double>(state >> 11) / static_cast<double>(1ull << 53);
  }
};

constexpr int64_t hour_ms = 3600 * 1000;

} // namespace

BOOST_AUTO_TEST_SUITE(histogram)

BOOST_AUTO_TEST_CASE(empty_histogram) {
  latency_histogram h;
  BOOST_TEST(h.count() == 0u);
  BOOST_TEST(h.mean_ms() == 0.0);
  BOOST_TEST(h.percentile_ms(0.5) == 0.0);
  BOOST_TEST(h.percentile_ms(0.99) == 0.0);
}

BOOST_AUTO_TEST_CASE(uniform_distribution) {
  std::vector<double> values;
  for (int i = 1; i <= 1000; ++i)
    values.push_back(i);
  check_percentiles(values);
}

BOOST_AUTO_TEST_CASE(constant_values) {
  check_percentiles(std::vector<double>(500, 5.0));
  check_percentiles(std::vector<double>(10, 0.5));
  check_percentiles(std::vector<double>(3, 12345.0));
}

BOOST_AUTO_TEST_CASE(bimodal_distribution) {
  std::vector<double> values(900, 2.0);
  values.insert(values.end(), 100, 200.0);
  check_percentiles(values);
  latency_histogram h;
  for (double v : values)
    h.record(v);
  BOOST_TEST(h.percentile_ms(0.5) <= 2.5);
  BOOST_TEST(h.percentile_ms(0.95) >= 200.0);
  BOOST_TEST(h.percentile_ms(0.95) <= 250.0);
}

BOOST_AUTO_TEST_CASE(exponential_distribution) {
  lcg rng{12345};
  std::vector<double> values;
  for (int i = 0; i < 20000; ++i)
    values.push_back(0.05 - 10.0 * std::log(1.0 - rng.next01())); // mean ~10 ms
  check_percentiles(values);
}

BOOST_AUTO_TEST_CASE(log_uniform_over_six_decades) {
  lcg rng{99};
  std::vector<double> values;
  for (int i = 0; i < 20000; ++i)
    values.push_back(0.02 * std::pow(10.0, 6.0 * rng.next01())); // 0.02 ms .. 20 s
  check_percentiles(values);
}

// Only filled buckets are stored: merging, reading a bucket and restoring
// one must agree with the histogram that recorded everything itself.
BOOST_AUTO_TEST_CASE(merge_and_restore_agree_with_recording_everything) {
  latency_histogram fast, slow, all;
  for (double v : {1.0, 1.1, 3.0}) {
    fast.record(v);
    all.record(v);
  }
  for (double v : {250.0, 3.0, 9000.0}) {
    slow.record(v);
    all.record(v);
  }
  latency_histogram merged = slow;
  merged.merge(fast);
  merged.merge(latency_histogram{});
  latency_histogram restored;
  for (size_t i = 0; i < latency_histogram::bucket_count; ++i)
    if (auto n = all.bucket(i))
      restored.restore_bucket(i, n);
  restored.restore_totals(all.count(), all.sum_ms());
  for (size_t i = 0; i < latency_histogram::bucket_count; ++i) {
    BOOST_TEST_INFO("bucket " << i);
    BOOST_TEST(merged.bucket(i) == all.bucket(i));
    BOOST_TEST(restored.bucket(i) == all.bucket(i));
  }
  for (double p : {0.1, 0.5, 0.9, 1.0}) {
    BOOST_TEST(merged.percentile_ms(p) == all.percentile_ms(p));
    BOOST_TEST(restored.percentile_ms(p) == all.percentile_ms(p));
  }
  BOOST_TEST(merged.count() == 6u);
  merged.merge(merged); // into itself: doubled
  BOOST_TEST(merged.count() == 12u);
  BOOST_TEST(merged.bucket(0) == 0u);
  restored.restore_bucket(latency_histogram::bucket_count, 5); // past the last: ignored
  BOOST_TEST(restored.count() == 6u);
}

BOOST_AUTO_TEST_CASE(mean_is_exact) {
  latency_histogram h;
  h.record(1.0);
  h.record(2.0);
  h.record(6.0);
  BOOST_TEST(h.mean_ms() == 3.0);
}

BOOST_AUTO_TEST_CASE(tiny_and_huge_values_do_not_break_it) {
  latency_histogram h;
  h.record(0.0);
  h.record(0.001);
  h.record(-1.0);
  h.record(1e12);
  BOOST_TEST(h.count() == 4u);
  BOOST_TEST(h.percentile_ms(0.25) <= 0.01);
  BOOST_TEST(h.percentile_ms(1.0) > 3600.0 * 1000); // the top bucket, over an hour
}

BOOST_AUTO_TEST_CASE(merge_equals_recording_everything_in_one) {
  lcg rng{7};
  latency_histogram a, b, all;
  for (int i = 0; i < 5000; ++i) {
    double v = 0.1 + 500.0 * rng.next01();
    (i % 3 == 0 ? a : b).record(v);
    all.record(v);
  }
  latency_histogram merged = a;
  merged.merge(b);
  BOOST_TEST(merged.count() == all.count());
  BOOST_TEST(merged.mean_ms() == all.mean_ms(), boost::test_tools::tolerance(1e-9));
  for (double p : {0.0, 0.5, 0.9, 0.99, 1.0})
    BOOST_TEST(merged.percentile_ms(p) == all.percentile_ms(p));

  latency_histogram with_empty = a;
  with_empty.merge(latency_histogram{});
  BOOST_TEST(with_empty.count() == a.count());
  BOOST_TEST(with_empty.percentile_ms(0.5) == a.percentile_ms(0.5));

  latency_histogram into_empty;
  into_empty.merge(b);
  BOOST_TEST(into_empty.count() == b.count());
  BOOST_TEST(into_empty.percentile_ms(0.9) == b.percentile_ms(0.9));
}

BOOST_AUTO_TEST_CASE(merge_of_disjoint_ranges) {
  latency_histogram fast, slow;
  for (int i = 0; i < 99; ++i)
    fast.record(1.0);
  slow.record(1000.0);
  fast.merge(slow);
  BOOST_TEST(fast.count() == 100u);
  BOOST_TEST(fast.percentile_ms(0.99) <= 1.25);
  BOOST_TEST(fast.percentile_ms(1.0) >= 1000.0);
  BOOST_TEST(fast.percentile_ms(1.0) <= 1250.0);
}

BOOST_AUTO_TEST_CASE(clear_empties_it) {
  latency_histogram h;
  h.record(5);
  h.clear();
  BOOST_TEST(h.count() == 0u);
  BOOST_TEST(h.percentile_ms(0.5) == 0.0);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(counts)

BOOST_AUTO_TEST_CASE(success_rate_and_merge) {
  delivery_counts c;
  BOOST_TEST(c.empty());
  BOOST_TEST(c.success_rate() == 100.0);
  c.merge(attempts(4, 3));
  BOOST_TEST(!c.empty());
  BOOST_TEST(c.success_rate() == 75.0);
  delivery_counts d;
  d.delivered = 2;
  d.dead_lettered = 1;
  d.slow = 5;
  c.merge(d);
  BOOST_TEST(c.attempts == 4u);
  BOOST_TEST(c.failures == 1u);
  BOOST_TEST(c.delivered == 2u);
  BOOST_TEST(c.dead_lettered == 1u);
  BOOST_TEST(c.slow == 5u);
  BOOST_TEST(c.latency.count() == 4u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(window)

BOOST_AUTO_TEST_CASE(counts_add_up_within_the_window) {
  rolling_window w{60000, 1000};
  BOOST_TEST(w.window_ms() == 60000u);
  w.add(100000, attempts(3, 3));
  w.add(100500, attempts(2, 1)); // same slot
  w.add(130000, attempts(5, 5));
  auto t = w.total(130000);
  BOOST_TEST(t.attempts == 10u);
  BOOST_TEST(t.successes == 9u);
  BOOST_TEST(t.failures == 1u);
  BOOST_TEST(t.latency.count() == 10u);
}

BOOST_AUTO_TEST_CASE(counts_expire_after_the_window) {
  rolling_window w{60000, 1000};
  w.add(100000, attempts(3, 3));
  w.add(130000, attempts(5, 4));
  BOOST_TEST(w.total(159999).attempts == 8u); // slot [100000,101000) is still inside
  BOOST_TEST(w.total(160000).attempts == 5u); // and now it fell out
  BOOST_TEST(w.total(160000).successes == 4u);
  BOOST_TEST(w.total(189999).attempts == 5u);
  BOOST_TEST(w.total(190000).attempts == 0u);
  BOOST_TEST(w.total(10'000'000).empty());
}

BOOST_AUTO_TEST_CASE(nothing_before_anything_was_added) {
  rolling_window w{60000, 1000};
  BOOST_TEST(w.total(0).empty());
  BOOST_TEST(w.total(123456789).empty());
}

// Every subscriber reports once when it starts, with nothing counted: an
// idle subscriber's windows must stay unallocated.
BOOST_AUTO_TEST_CASE(empty_counts_allocate_no_slots) {
  rolling_window w{3600000, 60000};
  w.add(100000, delivery_counts{});
  BOOST_TEST(!w.holds_slots());
  BOOST_TEST(w.total(100000).empty());
  BOOST_TEST(w.points(100000).size() == 60u); // a chart still gets its evenly spaced points
  w.add(100000, attempts(1, 1));
  BOOST_TEST(w.holds_slots());
}

// Only filled slots are kept, and never more than the window holds: a
// subscriber busy for one minute of the day costs one slot, not the day's.
BOOST_AUTO_TEST_CASE(only_filled_slots_inside_the_window_are_kept) {
  rolling_window w{5000, 1000}; // five slots
  w.add(10000, attempts(1, 1));
  BOOST_TEST(w.filled_slots().size() == 1u);
  for (int64_t t = 10000; t < 30000; t += 1000)
    w.add(t, attempts(1, 1));
  BOOST_TEST(w.filled_slots().size() == 5u);
  BOOST_TEST(w.filled_slots().front().first == 25);
  BOOST_TEST(w.total(29999).attempts == 5u);
  w.add(20000, attempts(7, 7)); // older than the window that ends at the newest slot
  BOOST_TEST(w.total(29999).attempts == 5u);
  w.restore(26, attempts(2, 2)); // inside it: merged
  BOOST_TEST(w.total(29999).attempts == 7u);
  BOOST_TEST(w.filled_slots().size() == 5u);
}

BOOST_AUTO_TEST_CASE(slots_are_reused_without_leaking_old_counts) {
  rolling_window w{5000, 1000}; // five slots
  w.add(0, attempts(1, 1));
  w.add(1000, attempts(2, 2));
  w.add(5000, attempts(4, 0)); // same ring position as t=0
  auto t = w.total(5000);
  BOOST_TEST(t.attempts == 6u); // 2 (t=1000) + 4 (t=5000); t=0 expired and overwritten
  BOOST_TEST(t.successes == 2u);
  BOOST_TEST(t.latency.count() == 6u);

  // Go round the ring many times: only the last window counts.
  rolling_window r{5000, 1000};
  for (int64_t now = 0; now < 100000; now += 500)
    r.add(now, attempts(1, 1));
  BOOST_TEST(r.total(99999).attempts == 10u); // 5 slots x 2 adds
}

BOOST_AUTO_TEST_CASE(window_not_a_multiple_of_the_slot_rounds_up) {
  rolling_window w{2500, 1000};
  BOOST_TEST(w.window_ms() == 3000u);
  w.add(0, attempts(1, 1));
  BOOST_TEST(w.total(2999).attempts == 1u);
  BOOST_TEST(w.total(3000).attempts == 0u);
}

BOOST_AUTO_TEST_CASE(rates_over_the_window) {
  rolling_window w{10000, 1000};
  for (int64_t now = 0; now < 10000; now += 1000)
    w.add(now, attempts(10, now < 5000 ? 10 : 8));
  BOOST_TEST(w.total(9999).success_rate() == 90.0);
  // The good first half falls out; only the 80 % second half remains.
  BOOST_TEST(w.total(14999).success_rate() == 80.0);
}

BOOST_AUTO_TEST_CASE(points_are_every_slot_oldest_first_the_empty_ones_too) {
  rolling_window w{60000, 10000}; // six slots
  w.add(100000, attempts(3, 3));
  w.add(109999, attempts(1, 0)); // same slot
  w.add(125000, attempts(5, 4));
  auto points = w.points(135000); // the current slot starts at 130000
  BOOST_TEST_REQUIRE(points.size() == 6u);
  for (size_t i = 0; i < points.size(); ++i)
    BOOST_TEST(points[i].start_ms == 80000 + static_cast<int64_t>(i) * 10000);
  BOOST_TEST(points[0].counts.empty());
  BOOST_TEST(points[1].counts.empty());
  BOOST_TEST(points[2].counts.attempts == 4u);
  BOOST_TEST(points[2].counts.successes == 3u);
  BOOST_TEST(points[3].counts.empty());
  BOOST_TEST(points[4].counts.attempts == 5u);
  BOOST_TEST(points[5].counts.empty());
}

BOOST_AUTO_TEST_CASE(points_lose_the_slots_that_left_the_window) {
  rolling_window w{60000, 10000};
  w.add(100000, attempts(3, 3));
  w.add(150000, attempts(2, 2));
  auto before = w.points(159999);
  BOOST_TEST(before.front().start_ms == 100000);
  BOOST_TEST(before.front().counts.attempts == 3u);
  auto after = w.points(160000); // the slot of 100000 is out, its ring place not yet reused
  BOOST_TEST_REQUIRE(after.size() == 6u);
  BOOST_TEST(after.front().start_ms == 110000);
  BOOST_TEST(after.back().start_ms == 160000);
  uint64_t total = 0;
  for (const auto& p : after)
    total += p.counts.attempts;
  BOOST_TEST(total == 2u);
  BOOST_TEST(after[4].counts.attempts == 2u);
  // Points agree with total() at any time.
  for (int64_t now : {100000, 140000, 159999, 160000, 209999, 210000}) {
    uint64_t sum = 0;
    for (const auto& p : w.points(now))
      sum += p.counts.attempts;
    BOOST_TEST(sum == w.total(now).attempts, "now=" << now);
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(series)

BOOST_AUTO_TEST_CASE(window_names) {
  BOOST_TEST((parse_series_window("1m") == series_window::minute));
  BOOST_TEST((parse_series_window("1h") == series_window::hour));
  BOOST_TEST((parse_series_window("24h") == series_window::day));
  for (const char* bad : {"", "1H", "60m", "10m", "1d", "1h "})
    BOOST_TEST(!parse_series_window(bad), bad);
  for (auto w : {series_window::minute, series_window::hour, series_window::day})
    BOOST_TEST((parse_series_window(to_string(w)) == w));
  BOOST_TEST(known_series_windows() == "1m, 1h, 24h");
}

BOOST_AUTO_TEST_CASE(a_point_has_counts_rate_and_latency_of_its_slot) {
  rolling_window w{60000, 10000};
  w.add(100000, attempts(8, 6, 2.0));
  auto c = attempts(2, 2, 40.0);
  c.delivered = 7;
  c.dead_lettered = 1;
  w.add(105000, c);
  auto points = series_points(w, 100000);
  BOOST_TEST_REQUIRE(points.size() == 6u);
  const auto& p = points.back();
  BOOST_TEST(p.start_ms == 100000);
  BOOST_TEST(p.attempts == 10u);
  BOOST_TEST(p.successes == 8u);
  BOOST_TEST(p.failures == 2u);
  BOOST_TEST(p.delivered == 7u);
  BOOST_TEST(p.dead_lettered == 1u);
  BOOST_TEST(p.timed == 10u);
  BOOST_TEST(*p.success_rate() == 80.0);
  // Within one histogram bucket (25 %) of the truth: 2 ms and 40 ms.
  BOOST_TEST(p.p50_ms >= 2.0);
  BOOST_TEST(p.p50_ms <= 2.5);
  BOOST_TEST(p.p99_ms >= 40.0);
  BOOST_TEST(p.p99_ms <= 50.0);

  const auto& empty = points.front();
  BOOST_TEST(!empty.success_rate()); // a gap, not 100 %
  BOOST_TEST(empty.timed == 0u);
  BOOST_TEST(empty.p50_ms == 0.0);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(status)

BOOST_AUTO_TEST_CASE(default_thresholds) {
  health_thresholds t;
  const int64_t now = 10 * hour_ms;
  const int64_t recent = now - 1000;
  BOOST_TEST((classify_health(100, 100.0, recent, now, t) == health::healthy));
  BOOST_TEST((classify_health(100, 95.0, recent, now, t) == health::healthy));
  BOOST_TEST((classify_health(100, 94.99, recent, now, t) == health::degraded));
  BOOST_TEST((classify_health(100, 80.0, recent, now, t) == health::degraded));
  BOOST_TEST((classify_health(100, 79.99, recent, now, t) == health::unhealthy));
  BOOST_TEST((classify_health(100, 0.0, recent, now, t) == health::unhealthy));
}

BOOST_AUTO_TEST_CASE(unknown_without_attempts_for_an_hour) {
  health_thresholds t;
  const int64_t now = 10 * hour_ms;
  BOOST_TEST((classify_health(0, 100.0, 0, now, t) == health::unknown)); // never attempted
  BOOST_TEST((classify_health(50, 0.0, 0, now, t) == health::unknown));
  BOOST_TEST((classify_health(10, 50.0, now - hour_ms - 1, now, t) == health::unknown));
  BOOST_TEST((classify_health(10, 50.0, now - hour_ms, now, t) == health::unhealthy));
  BOOST_TEST((classify_health(10, 100.0, now - hour_ms + 1, now, t) == health::healthy));
}

BOOST_AUTO_TEST_CASE(recent_attempt_but_none_in_the_window_is_healthy) {
  health_thresholds t;
  const int64_t now = 10 * hour_ms;
  BOOST_TEST((classify_health(0, 100.0, now - 30 * 60 * 1000, now, t) == health::healthy));
}

BOOST_AUTO_TEST_CASE(configured_thresholds) {
  health_thresholds t;
  t.healthy_percent = 99.9;
  t.degraded_percent = 50;
  t.unknown_after_ms = 60000;
  const int64_t now = 1'000'000;
  BOOST_TEST((classify_health(1000, 99.9, now, now, t) == health::healthy));
  BOOST_TEST((classify_health(1000, 99.0, now, now, t) == health::degraded));
  BOOST_TEST((classify_health(1000, 50.0, now, now, t) == health::degraded));
  BOOST_TEST((classify_health(1000, 49.0, now, now, t) == health::unhealthy));
  BOOST_TEST((classify_health(1000, 99.9, now - 60001, now, t) == health::unknown));
}

BOOST_AUTO_TEST_CASE(names) {
  BOOST_TEST(std::string{to_string(health::healthy)} == "healthy");
  BOOST_TEST(std::string{to_string(health::degraded)} == "degraded");
  BOOST_TEST(std::string{to_string(health::unhealthy)} == "unhealthy");
  BOOST_TEST(std::string{to_string(health::unknown)} == "unknown");
}

BOOST_AUTO_TEST_SUITE_END()

// The monitor's plain core: what it writes and answers for a scripted
// series of reports, with time passed in.
BOOST_AUTO_TEST_SUITE(monitor)

struct monitor_lines {
  std::vector<std::string> lines;
  monitor_core make(std::vector<std::string> subscribers = {"billing"}) {
    monitor_config cfg;
    cfg.window_s = 60;
    return monitor_core{cfg, subscribers, [this](const std::string& l) { lines.push_back(l); }};
  }
  size_t count(const std::string& needle) const {
    return static_cast<size_t>(std::count_if(
      lines.begin(), lines.end(), [&](const std::string& l) { return l.find(needle) != std::string::npos; }));
  }
};

constexpr int64_t t0 = 1700000000000;

subscriber_report report_of(const std::string& name, uint64_t attempts, uint64_t ok, int64_t at_ms) {
  subscriber_report r;
  r.name = name;
  r.counts = volley::delivery_counts{};
  r.counts.attempts = attempts;
  r.counts.successes = ok;
  r.counts.failures = attempts - ok;
  r.last_attempt_ms = attempts > 0 ? at_ms : 0;
  return r;
}

// Before the fix a configured subscriber started as "healthy" (the enum's
// first value), so its first report logged `status=unknown was=healthy`.
BOOST_AUTO_TEST_CASE(a_quiet_subscriber_starts_unknown_and_logs_no_change) {
  monitor_lines out;
  auto m = out.make();
  auto idle = report_of("billing", 0, 0, t0);
  m.add_report(idle, t0);
  BOOST_TEST(out.count("event=health") == 0u);
  control_request health;
  health.op = control_op::health;
  BOOST_TEST(m.answer(health, t0).find("\"billing\":\"unknown\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(health_changes_are_logged_once_with_what_they_were) {
  monitor_lines out;
  auto m = out.make();
  auto good = report_of("billing", 100, 100, t0);
  m.add_report(good, t0);
  BOOST_TEST(out.count("subscriber=billing event=health status=healthy was=unknown") == 1u);
  auto more = report_of("billing", 100, 100, t0 + 1000);
  m.add_report(more, t0 + 1000);
  BOOST_TEST(out.count("event=health") == 1u);
  auto bad = report_of("billing", 300, 0, t0 + 2000);
  m.add_report(bad, t0 + 2000);
  BOOST_TEST(out.count("status=unhealthy was=healthy") == 1u);
}

// Every start logged dlq_growth for the entries already there: the first
// size seen is the baseline.
BOOST_AUTO_TEST_CASE(dlq_growth_is_measured_from_the_first_size_seen) {
  monitor_lines out;
  auto m = out.make();
  storage_gauges g;
  g.dlq = 7; // left by the previous run
  m.add_gauges(g);
  m.add_gauges(g);
  BOOST_TEST(out.count("dlq_growth") == 0u);
  g.dlq = 9;
  m.add_gauges(g);
  BOOST_TEST(out.count("monitor node event=dlq_growth dlq=9 added=2") == 1u);
  g.dlq = 4; // entries retried or deleted
  m.add_gauges(g);
  g.dlq = 5;
  m.add_gauges(g);
  BOOST_TEST(out.count("event=dlq_growth dlq=5 added=1") == 1u);
}

BOOST_AUTO_TEST_CASE(series_per_subscriber_and_for_the_node) {
  monitor_lines out;
  auto m = out.make({"billing", "crm"});
  constexpr int64_t five_minutes = 5 * 60 * 1000;
  const int64_t start = t0 - t0 % five_minutes; // a slot boundary
  auto early = report_of("billing", 10, 10, start + 1000);
  m.add_report(early, start + 1000);
  auto later = report_of("billing", 4, 1, start + 2 * five_minutes);
  m.add_report(later, start + 2 * five_minutes);
  auto other = report_of("crm", 6, 6, start + 2 * five_minutes + 10);
  m.add_report(other, start + 2 * five_minutes + 10);

  const int64_t now = start + 2 * five_minutes + 20;
  auto s = m.series(series_window::hour, now);
  BOOST_TEST((s.window == series_window::hour));
  BOOST_TEST(s.window_ms == 3600000u);
  BOOST_TEST(s.slot_ms == 300000u);
  BOOST_TEST(s.now_ms == now);
  BOOST_TEST_REQUIRE(s.node.size() == 12u);
  BOOST_TEST(s.node.back().start_ms == start + 2 * five_minutes);
  BOOST_TEST(s.node[9].attempts == 10u);
  BOOST_TEST(s.node[10].attempts == 0u);
  BOOST_TEST(s.node[11].attempts == 10u); // billing's 4 and crm's 6
  BOOST_TEST(s.node[11].successes == 7u);

  BOOST_TEST_REQUIRE(s.subscribers.size() == 2u);
  BOOST_TEST(s.subscribers[0].name == "billing");
  BOOST_TEST(s.subscribers[1].name == "crm");
  const auto& billing = s.subscribers[0].points;
  BOOST_TEST_REQUIRE(billing.size() == 12u);
  BOOST_TEST(*billing[9].success_rate() == 100.0);
  BOOST_TEST(*billing[11].success_rate() == 25.0);
  BOOST_TEST(!billing[10].success_rate());
  BOOST_TEST(s.subscribers[1].points[11].attempts == 6u);

  // The minute window: six 10-second slots; the early report is out of it.
  auto minute = m.series(series_window::minute, now);
  BOOST_TEST(minute.slot_ms == 10000u);
  BOOST_TEST_REQUIRE(minute.node.size() == 6u);
  uint64_t in_minute = 0;
  for (const auto& p : minute.node)
    in_minute += p.attempts;
  BOOST_TEST(in_minute == 10u);
  BOOST_TEST(m.series(series_window::day, now).node.size() == 24u);

  // A removed subscriber has no series any more.
  m.forget("crm");
  BOOST_TEST(m.series(series_window::hour, now).subscribers.size() == 1u);
}

BOOST_AUTO_TEST_CASE(answers_follow_the_request) {
  monitor_lines out;
  auto m = out.make();
  auto r = report_of("billing", 10, 9, t0);
  r.failures.push_back({t0, "billing", "evt_1", "order.created", 1, 503, "HTTP 503"});
  m.add_report(r, t0);
  control_request failures;
  failures.op = control_op::failures;
  failures.limit = 5;
  BOOST_TEST(m.answer(failures, t0).find("\"event_id\":\"evt_1\"") != std::string::npos);
  control_request stats;
  stats.op = control_op::stats;
  stats.hours = 6;
  BOOST_TEST(m.answer(stats, t0).find("\"6h\"") != std::string::npos);
  m.log_all(t0);
  BOOST_TEST(out.count("monitor node status=") == 1u);
  BOOST_TEST(out.count("monitor subscriber=billing status=") == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
