// The HTTP API of a real volleyd, endpoint by endpoint, success and error
// paths, over real sockets: events (answered like the TCP ingress, after
// durability), the reads, the dead-letter queue, subscriber actions, the
// token, size limits, unknown paths and a full storage map.

#define BOOST_TEST_MODULE api_endpoints
#include <boost/test/unit_test.hpp>

#include "tests/support/http_client.hpp"
#include "tests/support/json_body.hpp"
#include "tests/support/line_client.hpp"
#include "tests/support/recording_receiver.hpp"
#include "tests/support/running_node.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

#include <atomic>
#include <memory>
#include <set>

using namespace volley::test;
using namespace std::chrono_literals;

namespace {

const http_headers json_type{{"Content-Type", "application/json"}};
const http_headers ndjson_type{{"Content-Type", "application/x-ndjson"}};

std::string event(const std::string& id, const std::string& type = "api.test", size_t payload = 0) {
  return "{\"type\":\"" + type + "\",\"id\":\"" + id + "\",\"data\":\"" + std::string(payload, 'x') + "\"}";
}

// A node with the API on, one subscriber "s" for every api.* event.
void start_with(running_node& n, const std::string& url, const std::string& api_extra = "",
                const std::string& subscriber_extra = "", uint64_t map_size_mb = 512) {
  n.spec.api = true;
  n.spec.api_extra = api_extra;
  n.spec.subscribers = {{"s", url, {"api.*"}, "", subscriber_extra}};
  auto config = node_config_json(n.spec);
  const std::string map = "\"map_size_mb\": 512";
  config.replace(config.find(map), map.size(), "\"map_size_mb\": " + std::to_string(map_size_mb));
  n.start(config);
  BOOST_REQUIRE_MESSAGE(n.api_port() != 0, "no api line in:\n" << n.log());
}

} // namespace

BOOST_AUTO_TEST_CASE(events_are_answered_after_durability_as_the_tcp_ingress_answers) {
  recording_receiver receiver;
  running_node n;
  start_with(n, receiver.url());
  http_client api{n.api_port()};
  line_client tcp{n.port()};

  auto one = api.post("/v1/events", event("h1"), json_type);
  BOOST_TEST(one.status == 200);
  BOOST_TEST(one.body == "{\"ok\":true,\"id\":\"h1\"}");
  BOOST_TEST(one.header("content-type") == "application/json");
  // A repeated id: the same answer over either way in.
  auto again = api.post("/v1/events", event("h1"), json_type);
  BOOST_TEST(again.body == "{\"ok\":true,\"id\":\"h1\",\"duplicate\":true}");
  tcp.send_line(event("h1"));
  BOOST_TEST(*tcp.read_line() == again.body);

  const std::string bad = "{\"type\": \"api.test\", \"data\": [1,}";
  auto batch = api.post("/v1/events", event("h2") + "\n" + bad + "\n\n" + event("h3") + "\n", ndjson_type);
  BOOST_TEST(batch.status == 200);
  auto results = json_body(batch);
  BOOST_REQUIRE(results.IsArray());
  BOOST_REQUIRE_EQUAL(results.Size(), 4u);
  BOOST_TEST(std::string(results[0]["id"].GetString()) == "h2");
  BOOST_TEST(std::string(results[3]["id"].GetString()) == "h3");
  tcp.send_line(bad);
  auto tcp_bad = *tcp.read_line();
  tcp.send_line("");
  auto tcp_empty = *tcp.read_line();
  BOOST_TEST(batch.body ==
             "[{\"ok\":true,\"id\":\"h2\"}," + tcp_bad + "," + tcp_empty + ",{\"ok\":true,\"id\":\"h3\"}]");

  // Acknowledged means on disk: the receiver gets each accepted event once.
  BOOST_REQUIRE(wait_until([&] { return receiver.distinct() == 3; }));
  BOOST_TEST(receiver.count() == 3u);

  auto malformed = api.post("/v1/events", bad, json_type);
  BOOST_TEST(malformed.status == 400);
  BOOST_TEST(error_of(malformed) == "invalid JSON at offset 32: Invalid value.");
  BOOST_TEST(malformed.body == "{\"error\":" + tcp_bad.substr(tcp_bad.find(':', 6) + 1));
  auto form = api.post("/v1/events", "type=a", {{"Content-Type", "application/x-www-form-urlencoded"}});
  BOOST_TEST(form.status == 415);
  auto del = api.del("/v1/events");
  BOOST_TEST(del.status == 405);
  BOOST_TEST(del.header("allow") == "GET, POST");
  auto nowhere = api.get("/v1/nothing/here");
  BOOST_TEST(nowhere.status == 404);
  BOOST_TEST(error_of(nowhere) == "no such endpoint: GET /v1/nothing/here");
  BOOST_TEST(n.stop() == 0);
}

BOOST_AUTO_TEST_CASE(a_body_over_the_limit_gets_413_and_the_api_serves_on) {
  recording_receiver receiver;
  running_node n;
  start_with(n, receiver.url(), "\"max_body_bytes\": 4096");
  {
    http_client api{n.api_port()};
    auto big = api.post("/v1/events", event("big", "api.test", 5000), json_type);
    BOOST_TEST(big.status == 413);
    BOOST_TEST(error_of(big).find("api.max_body_bytes") != std::string::npos, big.body);
  }
  http_client api{n.api_port()};
  BOOST_TEST(api.post("/v1/events", event("small", "api.test", 100), json_type).status == 200);
  BOOST_TEST(n.stop() == 0);
}

BOOST_AUTO_TEST_CASE(with_a_token_every_endpoint_needs_it) {
  recording_receiver receiver;
  running_node n;
  start_with(n, receiver.url(), "\"token\": \"s3cr3t-t0ken\"");
  http_client api{n.api_port()};
  for (const char* target : {"/v1/health", "/metrics", "/v1/subscribers"}) {
    auto none = api.get(target);
    BOOST_TEST(none.status == 401, target);
    BOOST_TEST(none.header("www-authenticate") == "Bearer realm=\"volley\"");
    auto wrong = api.get(target, {{"Authorization", "Bearer s3cr3t-t0kem"}});
    BOOST_TEST(wrong.status == 401, target);
    auto right = api.get(target, {{"Authorization", "Bearer s3cr3t-t0ken"}});
    BOOST_TEST(right.status == 200, target);
  }
  auto post = api.post("/v1/events", event("t1"),
                       {{"Content-Type", "application/json"}, {"Authorization", "Bearer s3cr3t-t0ken"}});
  BOOST_TEST(post.status == 200);
  BOOST_TEST(n.log().find("s3cr3t-t0ken") == std::string::npos);
  BOOST_TEST(n.stop() == 0);
}

BOOST_AUTO_TEST_CASE(the_reads_answer_as_the_tcp_ops_and_refuse_bad_parameters) {
  recording_receiver receiver;
  running_node n;
  start_with(n, receiver.url());
  http_client api{n.api_port()};
  line_client tcp{n.port()};
  BOOST_REQUIRE(api.post("/v1/events", event("r1"), json_type).status == 200);
  // Delivered and its result committed: then nothing moves any more.
  BOOST_REQUIRE(wait_until([&] { return json_body(api.get("/v1/queue"))["pending"].GetInt() == 0; }));
  BOOST_TEST(receiver.distinct() == 1u);

  // On an idle node the queue answer is the op's, to the byte.
  auto queue = api.get("/v1/queue");
  BOOST_TEST(queue.status == 200);
  tcp.send_line(R"({"op":"queue"})");
  BOOST_TEST(queue.body == *tcp.read_line());

  auto health = api.get("/v1/health");
  BOOST_TEST(health.status == 200);
  BOOST_TEST(json_body(health)["subscribers"].HasMember("s"));
  auto stats = api.get("/v1/stats?hours=3");
  BOOST_TEST(stats.status == 200);
  BOOST_TEST(json_body(stats)["node"]["windows"].HasMember("3h"));
  BOOST_TEST(api.get("/v1/failures?limit=1").status == 200);
  BOOST_TEST(api.get("/v1/dlq").body == "{\"ok\":true,\"entries\":[],\"next\":null}");

  for (const char* bad : {"/v1/stats?hours=25", "/v1/stats?hours=two", "/v1/failures?limit=0",
                          "/v1/dlq?limit=10001", "/v1/dlq?after=x", "/v1/queue?verbose=1"}) {
    auto refused = api.get(bad);
    BOOST_TEST(refused.status == 400, bad);
    BOOST_TEST(!error_of(refused).empty(), bad);
  }
  BOOST_TEST(n.stop() == 0);
}

BOOST_AUTO_TEST_CASE(dead_letters_are_listed_retried_and_deleted) {
  auto accept = std::make_shared<std::atomic<bool>>(false);
  recording_receiver receiver{"", 0, [accept](const volley::received_request&) {
                                volley::receiver_reply r;
                                r.status = *accept ? 200 : 404; // 404: straight to the DLQ
                                return r;
                              }};
  running_node n;
  start_with(n, receiver.url());
  http_client api{n.api_port()};
  for (const char* id : {"d1", "d2", "d3"})
    BOOST_REQUIRE(api.post("/v1/events", event(id), json_type).status == 200);
  std::vector<std::string> keys;
  BOOST_REQUIRE(wait_until([&] {
    auto doc = json_body(api.get("/v1/dlq?subscriber=s"));
    keys.clear();
    for (const auto& e : doc["entries"].GetArray())
      keys.push_back(e["key"].GetString());
    return keys.size() == 3;
  }));

  // Paging, as the op pages.
  auto first = json_body(api.get("/v1/dlq?subscriber=s&limit=1"));
  BOOST_REQUIRE_EQUAL(first["entries"].Size(), 1u);
  BOOST_TEST(std::string(first["next"].GetString()) == keys[0]);
  auto second = json_body(api.get("/v1/dlq?subscriber=s&limit=1&after=" + keys[0]));
  BOOST_TEST(std::string(second["entries"][0]["key"].GetString()) == keys[1]);

  // Delete one by key (both spellings), then it is gone: 404.
  auto seq_of = [](const std::string& key) { return key.substr(key.find('/') + 1); };
  auto deleted = api.del("/v1/dlq/s/" + seq_of(keys[0]));
  BOOST_TEST(deleted.status == 200);
  BOOST_TEST(deleted.body == "{\"ok\":true,\"count\":1}");
  BOOST_TEST(api.del("/v1/dlq/s/" + seq_of(keys[0])).status == 404);
  BOOST_TEST(api.del("/v1/dlq/s%2F" + seq_of(keys[1])).status == 200);
  BOOST_TEST(api.del("/v1/dlq/s/notanumber").status == 400);

  // Retry the last one once the endpoint accepts: it is delivered.
  *accept = true;
  auto retried = api.post("/v1/dlq/retry", "{\"key\": \"" + keys[2] + "\"}", json_type);
  BOOST_TEST(retried.status == 200);
  BOOST_TEST(retried.body == "{\"ok\":true,\"count\":1}");
  BOOST_TEST(wait_until([&] {
    for (const auto& d : receiver.all())
      if (d.event_id == "d3")
        return true;
    return false;
  }));
  BOOST_TEST(api.post("/v1/dlq/retry", "{\"key\": \"" + keys[2] + "\"}", json_type).status == 404);
  auto everything = api.post("/v1/dlq/retry", R"({"subscriber": "s"})", json_type);
  BOOST_TEST(everything.status == 200);
  BOOST_TEST(everything.body == "{\"ok\":true,\"count\":0}");
  for (const char* bad : {"{}", "[]", R"({"key": "nokey"})", R"({"key": "s/1", "extra": 1})"}) {
    auto refused = api.post("/v1/dlq/retry", bad, json_type);
    BOOST_TEST(refused.status == 400, bad);
  }
  BOOST_TEST(api.get("/v1/dlq").body == "{\"ok\":true,\"entries\":[],\"next\":null}");
  BOOST_TEST(n.stop() == 0);
}

BOOST_AUTO_TEST_CASE(subscriber_actions_answer_404_for_an_unknown_name) {
  recording_receiver receiver;
  running_node n;
  start_with(n, receiver.url());
  http_client api{n.api_port()};
  auto disabled = api.post("/v1/subscribers/s/disable", "");
  BOOST_TEST(disabled.status == 200);
  BOOST_TEST(disabled.body == "{\"ok\":true,\"subscriber\":\"s\",\"enabled\":false}");
  BOOST_REQUIRE(api.post("/v1/events", event("a1"), json_type).status == 200);
  auto test = api.post("/v1/subscribers/s/test", "");
  BOOST_TEST(test.status == 200);
  BOOST_TEST(json_body(test)["status"].GetInt() == 200);
  // The test event is the only one that arrived: "s" is disabled.
  BOOST_TEST(receiver.count() == 1u);
  BOOST_TEST(receiver.all()[0].event_type == "volley.test");
  auto enabled = api.post("/v1/subscribers/s/enable", "");
  BOOST_TEST(enabled.status == 200);
  BOOST_TEST(wait_until([&] { return receiver.count() == 2; }));
  for (const char* action : {"test", "enable", "disable"}) {
    auto unknown = api.post(std::string("/v1/subscribers/nobody/") + action, "");
    BOOST_TEST(unknown.status == 404, action);
    BOOST_TEST(error_of(unknown) == "no subscriber named \"nobody\"", action);
  }
  BOOST_TEST(api.get("/v1/subscribers/s/enable").status == 405);
  BOOST_TEST(n.stop() == 0);
}

BOOST_AUTO_TEST_CASE(when_storage_refuses_the_answer_is_503) {
  auto endpoint = free_port(); // down: deliveries pile up on disk
  running_node n;
  start_with(n, "http://127.0.0.1:" + std::to_string(endpoint) + "/hook", "", "\"max_attempts\": 10000", 2);
  http_client api{n.api_port()};
  std::optional<http_reply> refused;
  for (int i = 0; i < 200 && !refused; ++i) {
    auto reply = api.post("/v1/events", event("f" + std::to_string(i), "api.test", 50000), json_type);
    if (reply.status != 200)
      refused = reply;
  }
  BOOST_REQUIRE_MESSAGE(refused, "a 2 MB map took 200 events of 50 KB");
  BOOST_TEST(refused->status == 503);
  BOOST_TEST(refused->header("retry-after") == "1");
  BOOST_TEST(error_of(*refused).find("map_size_mb") != std::string::npos, refused->body);
  auto batch = api.post("/v1/events", event("g1", "api.test", 50000) + "\n" + event("g2", "api.test", 50000),
                        ndjson_type);
  BOOST_TEST(batch.status == 503);
  BOOST_TEST(json_body(batch)["results"].Size() == 2u);
  BOOST_TEST(n.stop() == 0);
}
