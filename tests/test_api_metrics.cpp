// GET /metrics of a real volleyd: promtool accepts the scrape as it is, and
// its counters agree with what the receiver counted and what was sent.

#define BOOST_TEST_MODULE api_metrics
#include <boost/test/unit_test.hpp>

#include "tests/support/http_client.hpp"
#include "tests/support/line_client.hpp"
#include "tests/support/promtool.hpp"
#include "tests/support/recording_receiver.hpp"
#include "tests/support/running_node.hpp"
#include "tests/support/wait.hpp"

#include <map>
#include <memory>
#include <mutex>

using namespace volley::test;
using namespace std::chrono_literals;

namespace {

// The value of one series ("name{labels}") in an exposition; -1 when absent.
double value_of(const std::string& text, const std::string& series) {
  auto at = text.find("\n" + series + " ");
  if (at == std::string::npos)
    return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

// Answers 503 to the first attempt of every event and 200 to the next.
struct flaky_endpoint {
  std::mutex mutex;
  std::map<std::string, int> attempts;
  int answered_503 = 0, answered_200 = 0;

  volley::receiver_reply answer(const volley::received_request& r) {
    std::lock_guard<std::mutex> guard{mutex};
    volley::receiver_reply reply;
    reply.status = ++attempts[r.header("webhook-id")] == 1 ? 503 : 200;
    ++(reply.status == 200 ? answered_200 : answered_503);
    return reply;
  }
};

} // namespace

BOOST_AUTO_TEST_CASE(the_scrape_passes_promtool_and_counts_what_the_receiver_counted) {
  auto endpoint = std::make_shared<flaky_endpoint>();
  recording_receiver receiver{"", 0,
                              [endpoint](const volley::received_request& r) { return endpoint->answer(r); }};
  running_node n;
  n.spec.api = true;
  n.spec.subscribers = {{"m",
                         receiver.url(),
                         {"met.*"},
                         "",
                         "\"breaker\": {\"failure_threshold\": 1000, "
                         "\"failure_rate_percent\": 0}"}};
  n.start();
  http_client api{n.api_port()};

  constexpr int events = 20;
  std::string ndjson;
  for (int i = 0; i < events; ++i)
    ndjson += "{\"type\":\"met.test\",\"id\":\"m" + std::to_string(i) + "\"}\n";
  auto accepted = api.post("/v1/events", ndjson, {{"Content-Type", "application/x-ndjson"}});
  BOOST_REQUIRE_MESSAGE(accepted.status == 200, accepted.body);
  BOOST_REQUIRE(api.post("/v1/events", "{bad", {{"Content-Type", "application/json"}}).status == 400);
  line_client tcp{n.port()};
  tcp.send_line("not json");
  tcp.send_line("{\"data\": 1}");
  BOOST_REQUIRE(tcp.read_line() && tcp.read_line());
  BOOST_REQUIRE(wait_until([&] { return receiver.per_event().size() == events; }));

  // The monitor hears from subscribers about once a second: poll until the
  // scrape has caught up with the receiver.
  std::string text;
  int got_503 = 0, got_200 = 0;
  bool matched = wait_until([&] {
    auto scrape = api.get("/metrics");
    text = scrape.body;
    std::lock_guard<std::mutex> guard{endpoint->mutex};
    got_503 = endpoint->answered_503;
    got_200 = endpoint->answered_200;
    return value_of(text, "volley_deliveries_total{subscriber=\"m\",outcome=\"delivered\"}") == got_200 &&
           value_of(text, "volley_attempts_total{subscriber=\"m\",status_class=\"5xx\"}") == got_503 &&
           value_of(text, "volley_attempts_total{subscriber=\"m\",status_class=\"2xx\"}") == got_200 &&
           value_of(text, "volley_events_ingested_total") == events &&
           value_of(text, "volley_events_rejected_total{reason=\"invalid\"}") == 3;
  });
  BOOST_TEST(matched, text);
  BOOST_TEST(got_200 == events);
  BOOST_TEST(got_503 == events);
  BOOST_TEST(value_of(text, "volley_attempt_duration_seconds_count{subscriber=\"m\"}") == 2 * events);
  BOOST_TEST(
    value_of(text, "volley_event_type_deliveries_total{event_type=\"met.test\",outcome=\"delivered\"}") ==
    events);
  BOOST_TEST(value_of(text, "volley_events_rejected_total{reason=\"storage\"}") == 0);
  BOOST_TEST(value_of(text, "volley_subscriber_breaker_state{subscriber=\"m\",state=\"closed\"}") == 1);
  BOOST_TEST(value_of(text, "volley_subscriber_enabled{subscriber=\"m\"}") == 1);

  auto scrape = api.get("/metrics");
  BOOST_TEST(scrape.header("content-type") == "text/plain; version=0.0.4; charset=utf-8");
  auto checked = promtool_check(scrape.body);
  BOOST_TEST(checked.exit_code == 0, checked.output);
  BOOST_TEST(checked.output.empty(), checked.output);
  BOOST_TEST(n.stop() == 0);
}
