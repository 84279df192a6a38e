// What the dashboard needs of a real volleyd's API: its page served without
// the token, the series it charts, and its own origin let through while
// other pages stay refused. (tests/browser/ runs the page itself.)

#define BOOST_TEST_MODULE api_dashboard
#include <boost/test/unit_test.hpp>

#include "tests/support/http_client.hpp"
#include "tests/support/json_body.hpp"
#include "tests/support/recording_receiver.hpp"
#include "tests/support/running_node.hpp"
#include "tests/support/wait.hpp"

#include <string>

using namespace volley::test;

namespace {

const std::string token = "dash-t0ken";
const http_headers auth = {{"Authorization", "Bearer " + token}};

// The API on, with the token.
void serve_api_with_token(running_node& n) {
  n.spec.api = true;
  n.spec.api_extra = "\"token\": \"" + token + "\"";
}

http_headers with_auth(http_headers more) {
  more.insert(more.begin(), auth.begin(), auth.end());
  return more;
}

} // namespace

BOOST_AUTO_TEST_CASE(the_page_is_served_without_the_token_and_says_it_needs_one) {
  running_node n;
  serve_api_with_token(n);
  n.start();
  http_client api{n.api_port()};

  auto page = api.get("/");
  BOOST_TEST(page.status == 200);
  BOOST_TEST(page.header("content-type") == "text/html; charset=utf-8");
  BOOST_TEST(page.header("content-security-policy").find("default-src 'none'") == 0u);
  BOOST_TEST(page.body.find("<meta name=\"volley-token\" content=\"required\">") != std::string::npos);
  BOOST_TEST(page.body.find("{{token}}") == std::string::npos);
  BOOST_TEST(page.body.find(token) == std::string::npos); // never the token itself
  for (auto [path, type] : {std::pair{"/dashboard/app.js", "text/javascript; charset=utf-8"},
                            std::pair{"/dashboard/style.css", "text/css; charset=utf-8"}}) {
    auto file = api.get(path);
    BOOST_TEST(file.status == 200, path);
    BOOST_TEST(file.header("content-type") == type);
    BOOST_TEST(file.body.size() > 1000u, path);
  }
  // The data is not open.
  BOOST_TEST(api.get("/v1/stats/series").status == 401);
  BOOST_TEST(api.get("/v1/stats").status == 401);
  BOOST_TEST(api.get("/dashboard/other.js").status == 401);
  BOOST_TEST(n.stop() == 0);
}

BOOST_AUTO_TEST_CASE(without_a_token_the_page_says_so) {
  running_node n;
  n.spec.api = true;
  n.start();
  http_client api{n.api_port()};
  auto page = api.get("/");
  BOOST_TEST(page.status == 200);
  BOOST_TEST(page.body.find("<meta name=\"volley-token\" content=\"none\">") != std::string::npos);
  BOOST_TEST(n.stop() == 0);
}

BOOST_AUTO_TEST_CASE(the_series_counts_what_was_delivered_slot_by_slot) {
  recording_receiver receiver;
  running_node n;
  serve_api_with_token(n);
  n.spec.subscribers = {{"charted", receiver.url(), {"chart.*"}, "", ""}};
  n.start();
  http_client api{n.api_port()};

  constexpr int events = 5;
  std::string ndjson;
  for (int i = 0; i < events; ++i)
    ndjson += "{\"type\":\"chart.point\",\"id\":\"c" + std::to_string(i) + "\"}\n";
  auto accepted = api.post("/v1/events", ndjson, with_auth({{"Content-Type", "application/x-ndjson"}}));
  BOOST_REQUIRE_MESSAGE(accepted.status == 200, accepted.body);
  BOOST_REQUIRE(wait_until([&] { return receiver.distinct() == events; }));

  // The monitor hears from subscribers about once a second: poll until the
  // day's series (one slot covers the whole run) has caught up.
  auto attempts_in = [](const rapidjson::Value& points) {
    int64_t sum = 0;
    for (const auto& p : points.GetArray())
      sum += p["attempts"].GetInt64();
    return sum;
  };
  http_reply reply;
  BOOST_TEST(wait_until([&] {
               reply = api.get("/v1/stats/series?window=24h", auth);
               auto doc = json_body(reply);
               return reply.status == 200 && attempts_in(doc["node"]["points"]) == events;
             }),
             reply.body);

  auto doc = json_body(reply);
  BOOST_TEST(doc["ok"].GetBool());
  BOOST_TEST(doc["window"].GetString() == std::string("24h"));
  BOOST_TEST(doc["window_s"].GetInt() == 86400);
  BOOST_TEST(doc["slot_s"].GetInt() == 3600);
  const auto& node = doc["node"]["points"];
  BOOST_TEST_REQUIRE(node.Size() == 24u);
  BOOST_TEST(node[0]["success_rate"].IsNull()); // a slot with no attempts is a gap
  BOOST_TEST(node[0]["p50_ms"].IsNull());
  BOOST_TEST_REQUIRE(doc["subscribers"].Size() == 1u);
  const auto& charted = doc["subscribers"][0];
  BOOST_TEST(charted["subscriber"].GetString() == std::string("charted"));
  BOOST_TEST(attempts_in(charted["points"]) == events);
  const auto& last = charted["points"][23];
  if (last["attempts"].GetInt64() == events) { // not split by the turn of an hour
    BOOST_TEST(last["successes"].GetInt64() == events);
    BOOST_TEST(last["delivered"].GetInt64() == events);
    BOOST_TEST(last["success_rate"].GetDouble() == 100.0);
    BOOST_TEST(last["p99_ms"].GetDouble() >= last["p50_ms"].GetDouble());
    BOOST_TEST(last["p50_ms"].GetDouble() > 0.0);
  }

  // The default is the hour in 5-minute slots; the minute in 10-second ones.
  auto hour = json_body(api.get("/v1/stats/series", auth));
  BOOST_TEST(hour["window"].GetString() == std::string("1h"));
  BOOST_TEST(hour["node"]["points"].Size() == 12u);
  BOOST_TEST(json_body(api.get("/v1/stats/series?window=1m", auth))["node"]["points"].Size() == 6u);

  auto bad = api.get("/v1/stats/series?window=10m", auth);
  BOOST_TEST(bad.status == 400);
  BOOST_TEST(error_of(bad) == "query parameter \"window\" must be one of 1m, 1h, 24h, got \"10m\"");
  auto unknown = api.get("/v1/stats/series?hours=2", auth);
  BOOST_TEST(unknown.status == 400);
  BOOST_TEST(error_of(unknown).find("unknown query parameter \"hours\"") == 0u);
  BOOST_TEST(n.stop() == 0);
}

BOOST_AUTO_TEST_CASE(the_apis_own_origin_may_post_other_pages_may_not) {
  running_node n;
  serve_api_with_token(n);
  n.start();
  http_client api{n.api_port()};
  const std::string host = "127.0.0.1:" + std::to_string(n.api_port());
  const std::string retry = "{\"subscriber\":\"nobody\"}";
  const http_headers json = {{"Content-Type", "application/json"}, {"Host", host}};

  // What the dashboard sends: its Origin is the Host it calls.
  auto own = api.post("/v1/dlq/retry", retry, with_auth({json[0], json[1], {"Origin", "http://" + host}}));
  BOOST_TEST(own.status == 200, own.body);

  for (const std::string origin : {"http://127.0.0.1:1", "http://evil.example", "null"}) {
    http_client page{n.api_port()};
    auto refused = page.post("/v1/dlq/retry", retry, with_auth({json[0], json[1], {"Origin", origin}}));
    BOOST_TEST(refused.status == 403, origin);
    BOOST_TEST(error_of(refused).find("Origin") != std::string::npos);
  }
  BOOST_TEST(n.stop() == 0);
}
