// /metrics without a daemon: the monitor's core fed scripted reports, its
// snapshot rendered as Prometheus text, checked line by line and by promtool.

#define BOOST_TEST_MODULE metrics_exposition
#include <boost/test/unit_test.hpp>

#include "api/metrics_exposition.hpp"
#include "health/monitor_core.hpp"
#include "tests/support/promtool.hpp"

#include <string>
#include <vector>

using namespace volley;

namespace {

constexpr int64_t t0 = 1700000000000;

monitor_core make_monitor(std::vector<std::string> subscribers) {
  monitor_config cfg;
  cfg.window_s = 60;
  return monitor_core{cfg, subscribers, [](const std::string&) {}};
}

// Three attempts of billing: 200 after 0.5 ms and 3 ms, a 503 after 2 s; two
// deliveries done; its gauges as a subscriber reports them.
subscriber_report billing_report() {
  subscriber_report r;
  r.name = "billing";
  r.counts.attempts = 3;
  r.counts.successes = 2;
  r.counts.failures = 1;
  r.counts.delivered = 2;
  r.counts.outcomes = {{"200", 2}, {"503", 1}};
  for (double ms : {0.5, 3.0, 2000.0})
    r.counts.latency.record(ms);
  r.by_type["order.created"] = r.counts;
  r.queued = 4;
  r.in_flight = 2;
  r.limit = 8;
  r.max_in_flight = 64;
  r.breaker = breaker_state::open;
  r.consecutive_failures = 1;
  r.enabled = false;
  return r;
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

} // namespace

BOOST_AUTO_TEST_CASE(status_classes) {
  BOOST_TEST(status_class("200") == "2xx");
  BOOST_TEST(status_class("503") == "5xx");
  BOOST_TEST(status_class("410") == "4xx");
  BOOST_TEST(status_class("timeout") == "timeout");
  BOOST_TEST(status_class("connection_error") == "connection_error");
  BOOST_TEST(status_class("999") == "other");
  BOOST_TEST(status_class("20") == "other");
}

BOOST_AUTO_TEST_CASE(counts_since_start_gauges_and_latency_in_seconds) {
  auto m = make_monitor({"billing", "audit"});
  auto first = billing_report();
  m.add_report(first, t0);
  // Counters keep counting over reports; gauges show the latest.
  auto second = billing_report();
  second.counts = delivery_counts{};
  second.counts.dead_lettered = 1;
  second.by_type.clear();
  second.by_type["order.created"].dead_lettered = 1;
  m.add_report(second, t0 + 1000);
  m.add_gauges({7, 1, 10, 2, 3});
  m.add_invalid(4);

  const auto text = metrics_exposition(m.metrics());
  BOOST_TEST_MESSAGE(text);
  for (const char* line : {
         "volley_events_ingested_total 10",
         "volley_events_duplicate_total 2",
         "volley_events_rejected_total{reason=\"invalid\"} 4",
         "volley_events_rejected_total{reason=\"storage\"} 3",
         "volley_pending_deliveries 7",
         "volley_dlq_entries 1",
         "volley_deliveries_total{subscriber=\"billing\",outcome=\"delivered\"} 2",
         "volley_deliveries_total{subscriber=\"billing\",outcome=\"dead_lettered\"} 1",
         "volley_attempts_total{subscriber=\"billing\",status_class=\"2xx\"} 2",
         "volley_attempts_total{subscriber=\"billing\",status_class=\"5xx\"} 1",
         "volley_attempt_duration_seconds_bucket{subscriber=\"billing\",le=\"0.001\"} 1",
         "volley_attempt_duration_seconds_bucket{subscriber=\"billing\",le=\"0.0025\"} 1",
         "volley_attempt_duration_seconds_bucket{subscriber=\"billing\",le=\"0.005\"} 2",
         "volley_attempt_duration_seconds_bucket{subscriber=\"billing\",le=\"1\"} 2",
         "volley_attempt_duration_seconds_bucket{subscriber=\"billing\",le=\"2.5\"} 3",
         "volley_attempt_duration_seconds_bucket{subscriber=\"billing\",le=\"+Inf\"} 3",
         "volley_attempt_duration_seconds_sum{subscriber=\"billing\"} 2.0035",
         "volley_attempt_duration_seconds_count{subscriber=\"billing\"} 3",
         "volley_subscriber_queued{subscriber=\"billing\"} 4",
         "volley_subscriber_in_flight{subscriber=\"billing\"} 2",
         "volley_subscriber_concurrency_limit{subscriber=\"billing\"} 8",
         "volley_subscriber_max_in_flight{subscriber=\"billing\"} 64",
         "volley_subscriber_enabled{subscriber=\"billing\"} 0",
         "volley_subscriber_breaker_state{subscriber=\"billing\",state=\"open\"} 1",
         "volley_subscriber_breaker_state{subscriber=\"billing\",state=\"closed\"} 0",
         "volley_subscriber_enabled{subscriber=\"audit\"} 1",
         "volley_event_type_deliveries_total{event_type=\"order.created\",outcome=\"delivered\"} 2",
         "volley_event_type_deliveries_total{event_type=\"order.created\",outcome=\"dead_lettered\"} 1",
         "volley_event_type_attempts_total{event_type=\"order.created\"} 3",
       })
    BOOST_TEST(has_line(text, line), line);

  const auto checked = test::promtool_check(text);
  BOOST_TEST(checked.exit_code == 0, checked.output);
  BOOST_TEST(checked.output.empty(), checked.output); // no lint problems either
}

BOOST_AUTO_TEST_CASE(event_types_are_capped_as_the_monitor_caps_them) {
  auto m = make_monitor({"s"});
  subscriber_report r;
  r.name = "s";
  for (size_t i = 0; i < monitor_core::max_event_types + 5; ++i)
    r.by_type["type." + std::to_string(i)].delivered = 1;
  m.add_report(r, t0);
  auto snapshot = m.metrics();
  BOOST_TEST(snapshot.event_types.size() == monitor_core::max_event_types + 1);
  const auto text = metrics_exposition(snapshot);
  BOOST_TEST(has_line(text, "volley_event_type_deliveries_total{event_type=\"(other)\","
                            "outcome=\"delivered\"} 5"));
  BOOST_TEST(test::promtool_check(text).exit_code == 0);
}

BOOST_AUTO_TEST_CASE(a_forgotten_subscriber_leaves_the_exposition) {
  auto m = make_monitor({"billing", "gone"});
  m.forget("gone");
  const auto text = metrics_exposition(m.metrics());
  BOOST_TEST(text.find("subscriber=\"gone\"") == std::string::npos);
  BOOST_TEST(has_line(text, "volley_subscriber_enabled{subscriber=\"billing\"} 1"));
}
