#define BOOST_TEST_MODULE api_prometheus
#include <boost/test/unit_test.hpp>

// The Prometheus text writer, checked by eye (exact text) and by Prometheus'
// own checker, promtool, which must also be shown to reject bad input.

#include "api/prometheus_text.hpp"
#include "tests/support/promtool.hpp"

#include <limits>
#include <stdexcept>
#include <string>

using namespace volley;
using volley::test::promtool_check;

namespace {

// Several families, labels that need every escape, a histogram with labels,
// samples of one family added between another's.
prometheus_text sample_exposition() {
  prometheus_text text;
  text.counter("volley_deliveries_total", "Deliveries that ended, by outcome.", 1200,
               {{"outcome", "delivered"}});
  text.gauge("volley_queue_depth", "Deliveries waiting, per subscriber.", 12,
             {{"subscriber", "bill\"ing\\ops\nteam"}});
  text.counter("volley_deliveries", "Deliveries that ended, by outcome.", 3, {{"outcome", "dead_lettered"}});
  prometheus_histogram latency;
  latency.upper_bounds = {0.005, 0.05, 0.5, 5};
  latency.counts = {10, 20, 5, 1, 2};
  latency.sum = 17.25;
  text.histogram("volley_delivery_duration_seconds", "Time from a request's start to its answer.", latency,
                 {{"subscriber", "billing"}});
  text.histogram("volley_delivery_duration_seconds", "Time from a request's start to its answer.",
                 prometheus_histogram{{0.005, 0.05, 0.5, 5}, {0, 0, 0, 0, 0}, 0}, {{"subscriber", "empty"}});
  text.gauge("volley_up", "1 while the node runs.\nA second line, with a \\ in it.", 1);
  return text;
}

} // namespace

BOOST_AUTO_TEST_CASE(families_are_written_once_with_help_type_and_escapes) {
  const std::string expected =
    "# HELP volley_deliveries_total Deliveries that ended, by outcome.\n"
    "# TYPE volley_deliveries_total counter\n"
    "volley_deliveries_total{outcome=\"delivered\"} 1200\n"
    "volley_deliveries_total{outcome=\"dead_lettered\"} 3\n"
    "# HELP volley_queue_depth Deliveries waiting, per subscriber.\n"
    "# TYPE volley_queue_depth gauge\n"
    "volley_queue_depth{subscriber=\"bill\\\"ing\\\\ops\\nteam\"} 12\n"
    "# HELP volley_delivery_duration_seconds Time from a request's start to its answer.\n"
    "# TYPE volley_delivery_duration_seconds histogram\n"
    "volley_delivery_duration_seconds_bucket{subscriber=\"billing\",le=\"0.005\"} 10\n"
    "volley_delivery_duration_seconds_bucket{subscriber=\"billing\",le=\"0.05\"} 30\n"
    "volley_delivery_duration_seconds_bucket{subscriber=\"billing\",le=\"0.5\"} 35\n"
    "volley_delivery_duration_seconds_bucket{subscriber=\"billing\",le=\"5\"} 36\n"
    "volley_delivery_duration_seconds_bucket{subscriber=\"billing\",le=\"+Inf\"} 38\n"
    "volley_delivery_duration_seconds_sum{subscriber=\"billing\"} 17.25\n"
    "volley_delivery_duration_seconds_count{subscriber=\"billing\"} 38\n"
    "volley_delivery_duration_seconds_bucket{subscriber=\"empty\",le=\"0.005\"} 0\n"
    "volley_delivery_duration_seconds_bucket{subscriber=\"empty\",le=\"0.05\"} 0\n"
    "volley_delivery_duration_seconds_bucket{subscriber=\"empty\",le=\"0.5\"} 0\n"
    "volley_delivery_duration_seconds_bucket{subscriber=\"empty\",le=\"5\"} 0\n"
    "volley_delivery_duration_seconds_bucket{subscriber=\"empty\",le=\"+Inf\"} 0\n"
    "volley_delivery_duration_seconds_sum{subscriber=\"empty\"} 0\n"
    "volley_delivery_duration_seconds_count{subscriber=\"empty\"} 0\n"
    "# HELP volley_up 1 while the node runs.\\nA second line, with a \\\\ in it.\n"
    "# TYPE volley_up gauge\n"
    "volley_up 1\n";
  BOOST_TEST(sample_exposition().str() == expected);
}

BOOST_AUTO_TEST_CASE(values_use_the_formats_spellings) {
  prometheus_text text;
  text.gauge("a", "A.", 0.1);
  text.gauge("b", "B.", std::numeric_limits<double>::infinity());
  text.gauge("c", "C.", -std::numeric_limits<double>::infinity());
  text.gauge("d", "D.", std::numeric_limits<double>::quiet_NaN());
  text.gauge("e", "E.", 1e21);
  text.counter("f_total", "F.", 18446744073709551615.0);
  const auto out = text.str();
  BOOST_TEST(out.find("\na 0.1\n") != std::string::npos);
  BOOST_TEST(out.find("\nb +Inf\n") != std::string::npos);
  BOOST_TEST(out.find("\nc -Inf\n") != std::string::npos);
  BOOST_TEST(out.find("\nd NaN\n") != std::string::npos);
  BOOST_TEST(out.find("\ne 1e+21\n") != std::string::npos);
  BOOST_TEST(out.find("\nf_total 18446744073709551616\n") != std::string::npos); // 2^64, exact
}

BOOST_AUTO_TEST_CASE(misuse_is_refused_and_leaves_no_trace) {
  prometheus_text text;
  text.counter("volley_events_total", "Events.", 1, {{"kind", "a"}});
  // The same series twice, another type or help under a taken name.
  BOOST_CHECK_THROW(text.counter("volley_events_total", "Events.", 2, {{"kind", "a"}}),
                    std::invalid_argument);
  BOOST_CHECK_THROW(text.gauge("volley_events_total", "Events.", 2), std::invalid_argument);
  BOOST_CHECK_THROW(text.counter("volley_events_total", "Other help.", 2, {{"kind", "b"}}),
                    std::invalid_argument);
  // Bad names, reserved or repeated labels, missing help.
  BOOST_CHECK_THROW(text.gauge("9lives", "G.", 1), std::invalid_argument);
  BOOST_CHECK_THROW(text.gauge("with-dash", "G.", 1), std::invalid_argument);
  BOOST_CHECK_THROW(text.gauge("g", "G.", 1, {{"__name", "x"}}), std::invalid_argument);
  BOOST_CHECK_THROW(text.gauge("g", "G.", 1, {{"bad-label", "x"}}), std::invalid_argument);
  BOOST_CHECK_THROW(text.gauge("g", "G.", 1, {{"a", "x"}, {"a", "y"}}), std::invalid_argument);
  BOOST_CHECK_THROW(text.gauge("g", "", 1), std::invalid_argument);
  BOOST_CHECK_THROW(text.counter("c", "C.", -1), std::invalid_argument);
  // Histograms: le is theirs, bounds ascend, one count per bucket plus +Inf,
  // and their sample names are taken.
  prometheus_histogram h{{1, 2}, {1, 1, 1}, 3};
  BOOST_CHECK_THROW(text.histogram("h", "H.", h, {{"le", "1"}}), std::invalid_argument);
  BOOST_CHECK_THROW(text.histogram("h", "H.", prometheus_histogram{{2, 1}, {1, 1, 1}, 3}),
                    std::invalid_argument);
  BOOST_CHECK_THROW(text.histogram("h", "H.", prometheus_histogram{{1, 2}, {1, 1}, 3}),
                    std::invalid_argument);
  text.histogram("h", "H.", h);
  BOOST_CHECK_THROW(text.gauge("h_count", "G.", 1), std::invalid_argument);
  // Nothing of the refused calls was written.
  BOOST_TEST(text.str().find("# HELP g ") == std::string::npos);
  BOOST_TEST(text.str().find("volley_events_total{kind=\"b\"}") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(counter_names_get_total_appended) {
  prometheus_text text;
  text.counter("volley_requests", "Requests.", 5);
  BOOST_TEST(text.str().find("# TYPE volley_requests_total counter\nvolley_requests_total 5\n") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(promtool_accepts_the_output_without_complaint) {
  const auto result = promtool_check(sample_exposition().str());
  BOOST_TEST_MESSAGE("promtool said: " << result.output);
  BOOST_TEST(result.exit_code == 0);
  BOOST_TEST(result.output.empty()); // no lint problems either
}

BOOST_AUTO_TEST_CASE(promtool_rejects_broken_expositions) {
  // A label value whose quote is not escaped: a parse error.
  const auto broken = promtool_check("# HELP x_total X.\n# TYPE x_total counter\n"
                                     "x_total{a=\"b\"c\"} 1\n");
  BOOST_TEST_MESSAGE("promtool said: " << broken.output);
  BOOST_TEST(broken.exit_code != 0);
  BOOST_TEST(!broken.output.empty());

  // Well-formed but against the conventions: a counter without _total.
  const auto lint = promtool_check("# HELP requests Requests.\n# TYPE requests counter\nrequests 1\n");
  BOOST_TEST_MESSAGE("promtool said: " << lint.output);
  BOOST_TEST(lint.exit_code != 0);
  BOOST_TEST(lint.output.find("_total") != std::string::npos);
}
